// flashmla_bench: times deepseek-ai/FlashMLA's SM90 dense decode (bf16, page 64) the way
// `attnroof bench-kernels` times our kernels, so the two can run side by side in one device
// call: one decode step (FlashMLA's split-KV kernel, then its combine) captured in a CUDA graph,
// a read sweep of 4x L2 before every replay (no dirty lines left), 3 warm-up replays, the median
// of --runs timed ones (CUDA events around the graph launch alone). The scheduling metadata is
// computed once per point, outside the timing, as a serving engine computes it once per batch.
//
// FlashMLA is not part of attnroof: build-flashmla-bench.sh compiles this file against a
// checkout of it (and its CUTLASS) in a git-ignored folder; nothing of FlashMLA is committed.
//
//   flashmla_bench --check                      # FlashMLA against a float64 loop, small cases
//   flashmla_bench --points 64:1:1048576:1,128:64:8192:1 --runs 20 --out flashmla.csv
// A point is heads:batch:ctx:q_tokens (q_tokens > 1 is causal among the new tokens: token j sees
// the keys below ctx - q_tokens + 1 + j, attnroof's rule and FlashMLA's). --out writes the
// project's Measurement CSV (reports/SCHEMA.md), which `attnroof calibrate` and `fidelity` read.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cutlass/bfloat16.h>

#include "params.h"
#include "sm90/decode/dense/splitkv_mla.h"
#include "smxx/decode/combine/combine.h"
#include "smxx/decode/get_decoding_sched_meta/get_decoding_sched_meta.h"

namespace {

constexpr int kDqk = 576, kDv = 512, kPage = 64;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "flashmla_bench: %s: %s\n", what, cudaGetErrorString(e));
    std::exit(2);
  }
}

__global__ void fill_bf16(cutlass::bfloat16_t* p, int64_t n, uint32_t seed, float scale) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    uint32_t x = uint32_t(i) * 2654435761u ^ uint32_t(i >> 32) * 2246822519u ^ seed;
    x ^= x >> 15; x *= 2246822519u; x ^= x >> 13; x *= 3266489917u; x ^= x >> 16;
    p[i] = cutlass::bfloat16_t(scale * (float(x >> 8) * (1.f / 8388608.f) - 1.f));
  }
}

__global__ void read_sweep(const float4* p, int64_t n, float* sink) {
  float acc = 0.f;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float4 v = p[i];
    acc += v.x + v.y + v.z + v.w;
  }
  if (acc == 12345.678f) *sink = acc;  // never true; keeps the loads
}

struct Point {
  int heads = 64, batch = 1, ctx = 1024, q_tokens = 1;
};

// One decode step's buffers and parameters.
struct Step {
  Point pt;
  int q_seq = 0, num_sm_parts = 0, blocks_per_seq = 0, num_blocks = 0;
  cutlass::bfloat16_t *q = nullptr, *kv = nullptr, *out = nullptr;
  float *lse = nullptr, *lse_accum = nullptr, *o_accum = nullptr;
  int *seqlens = nullptr, *block_table = nullptr, *num_splits = nullptr;
  DecodingSchedMeta* meta = nullptr;
  DenseAttnDecodeParams params{};
  CombineParams combine{};

  Step(const Point& p, int sms, cudaStream_t stream, uint32_t seed) : pt(p) {
    q_seq = p.q_tokens * p.heads;
    num_sm_parts = std::max(sms / ((q_seq + 63) / 64), 1);
    blocks_per_seq = (p.ctx + kPage - 1) / kPage;
    num_blocks = p.batch * blocks_per_seq;
    const int64_t q_elems = int64_t(p.batch) * q_seq * kDqk;
    const int64_t kv_elems = int64_t(num_blocks) * kPage * kDqk;
    check(cudaMalloc(&q, q_elems * 2), "q");
    check(cudaMalloc(&kv, kv_elems * 2), "kv cache");
    check(cudaMalloc(&out, int64_t(p.batch) * q_seq * kDv * 2), "out");
    check(cudaMalloc(&lse, int64_t(p.batch) * q_seq * 4), "lse");
    const int total_splits = p.batch + num_sm_parts;
    check(cudaMalloc(&lse_accum, int64_t(total_splits) * q_seq * 4), "lse accum");
    check(cudaMalloc(&o_accum, int64_t(total_splits) * q_seq * kDv * 4), "o accum");
    check(cudaMalloc(&seqlens, p.batch * 4), "seqlens");
    check(cudaMalloc(&block_table, int64_t(num_blocks) * 4), "block table");
    check(cudaMalloc(&num_splits, (p.batch + 1) * 4), "num splits");
    check(cudaMalloc(&meta, int64_t(num_sm_parts) * sizeof(DecodingSchedMeta)), "metadata");
    fill_bf16<<<1024, 256, 0, stream>>>(q, q_elems, seed, 1.f);
    fill_bf16<<<4096, 256, 0, stream>>>(kv, kv_elems, seed ^ 0x9e3779b9u, 1.f);
    check(cudaGetLastError(), "fill");
    // Pages shuffled over the pool, as a paged cache after some serving.
    std::vector<int> table(num_blocks);
    for (int i = 0; i < num_blocks; ++i) table[i] = i;
    std::shuffle(table.begin(), table.end(), std::mt19937(seed));
    std::vector<int> lens(p.batch, p.ctx);
    check(cudaMemcpyAsync(block_table, table.data(), table.size() * 4, cudaMemcpyHostToDevice, stream), "table");
    check(cudaMemcpyAsync(seqlens, lens.data(), lens.size() * 4, cudaMemcpyHostToDevice, stream), "lens");
    check(cudaStreamSynchronize(stream), "upload");

    GetDecodeSchedMetaParams sched = {p.batch, p.q_tokens, kPage, 5, -1, -1, nullptr, nullptr,
                                      seqlens, meta, num_splits, num_sm_parts, stream};
    smxx::decode::run_get_decoding_sched_meta_kernel(sched);
    check(cudaGetLastError(), "scheduling metadata");

    DenseAttnDecodeParams& d = params;
    d.b = p.batch;
    d.s_q = p.q_tokens;
    d.q_seq_per_hk = q_seq;
    d.d = kDqk;
    d.d_v = kDv;
    d.h_q = p.heads;
    d.h_k = 1;
    d.num_blocks = num_blocks;
    d.q_head_per_hk = p.heads;
    d.is_causal = p.q_tokens > 1;
    d.scale_softmax = 1.f / std::sqrt(float(kDqk));
    d.scale_softmax_log2 = d.scale_softmax * float(M_LOG2E);
    d.q_ptr = q;
    d.k_ptr = kv;
    d.o_ptr = out;
    d.softmax_lse_ptr = lse;
    // q [b, q_tokens * heads, 1, 576], the cache [blocks, 64, 1, 576], o [b, 1, q_tokens * heads, 512].
    d.q_batch_stride = int64_t(q_seq) * kDqk;
    d.q_row_stride = kDqk;
    d.q_head_stride = kDqk;
    d.k_batch_stride = int64_t(kPage) * kDqk;
    d.k_row_stride = kDqk;
    d.k_head_stride = kDqk;
    d.o_batch_stride = int64_t(q_seq) * kDv;
    d.o_row_stride = kDv;
    d.o_head_stride = int64_t(q_seq) * kDv;
    d.block_table = block_table;
    d.block_table_batch_stride = blocks_per_seq;
    d.page_block_size = kPage;
    d.seqlens_k_ptr = seqlens;
    d.tile_scheduler_metadata_ptr = meta;
    d.num_sm_parts = num_sm_parts;
    d.num_splits_ptr = num_splits;
    d.total_num_splits = total_splits;
    d.softmax_lseaccum_ptr = lse_accum;
    d.oaccum_ptr = o_accum;
    d.stream = stream;

    combine = CombineParams{p.batch, p.q_tokens, p.heads, kDv,
                            lse, out, q_seq, p.heads, p.heads * p.q_tokens * kDv, p.heads * kDv, kDv,
                            lse_accum, o_accum, q_seq, p.heads, p.heads * p.q_tokens * kDv,
                            p.heads * kDv, kDv,
                            meta, num_splits, num_sm_parts, nullptr, stream};
  }
  void run() {
    sm90::run_flash_splitkv_mla_kernel<cutlass::bfloat16_t>(params);
    smxx::decode::run_flash_mla_combine_kernel<cutlass::bfloat16_t>(combine);
  }
  ~Step() {
    for (void* p : {static_cast<void*>(q), static_cast<void*>(kv), static_cast<void*>(out),
                    static_cast<void*>(lse), static_cast<void*>(lse_accum),
                    static_cast<void*>(o_accum), static_cast<void*>(seqlens),
                    static_cast<void*>(block_table), static_cast<void*>(num_splits),
                    static_cast<void*>(meta)})
      cudaFree(p);
  }
};

float bf16_to_float(uint16_t b) {
  const uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// FlashMLA against a float64 loop over the same bf16 inputs; returns the number of failures.
int run_checks(int sms, cudaStream_t stream) {
  const Point cases[] = {{64, 2, 300, 1}, {128, 1, 1000, 1}, {64, 3, 200, 2}, {128, 2, 129, 4}};
  int failed = 0;
  for (const Point& c : cases) {
    Step s(c, sms, stream, 7);
    s.run();
    check(cudaStreamSynchronize(stream), "check step");
    std::vector<uint16_t> q(int64_t(c.batch) * s.q_seq * kDqk), kv(int64_t(s.num_blocks) * kPage * kDqk),
        out(int64_t(c.batch) * s.q_seq * kDv);
    std::vector<int> table(s.num_blocks);
    check(cudaMemcpy(q.data(), s.q, q.size() * 2, cudaMemcpyDeviceToHost), "q back");
    check(cudaMemcpy(kv.data(), s.kv, kv.size() * 2, cudaMemcpyDeviceToHost), "kv back");
    check(cudaMemcpy(out.data(), s.out, out.size() * 2, cudaMemcpyDeviceToHost), "out back");
    check(cudaMemcpy(table.data(), s.block_table, table.size() * 4, cudaMemcpyDeviceToHost), "table back");
    double worst = 0.0, ref_max = 0.0;
    for (int b = 0; b < c.batch; ++b)
      for (int t = 0; t < c.q_tokens; ++t)
        for (int h = 0; h < c.heads; ++h) {
          const int keys = c.ctx - c.q_tokens + 1 + t;
          const uint16_t* qr = &q[(int64_t(b) * s.q_seq + t * c.heads + h) * kDqk];
          std::vector<double> score(keys);
          double mx = -1e300;
          auto key_row = [&](int k) {
            return &kv[(int64_t(table[b * s.blocks_per_seq + k / kPage]) * kPage + k % kPage) * kDqk];
          };
          for (int k = 0; k < keys; ++k) {
            const uint16_t* kr = key_row(k);
            double dot = 0.0;
            for (int i = 0; i < kDqk; ++i) dot += double(bf16_to_float(qr[i])) * bf16_to_float(kr[i]);
            score[k] = dot * s.params.scale_softmax;
            mx = std::max(mx, score[k]);
          }
          double sum = 0.0;
          for (double& v : score) sum += (v = std::exp(v - mx));
          const uint16_t* o = &out[(int64_t(b) * s.q_seq + t * c.heads + h) * kDv];
          for (int j = 0; j < kDv; ++j) {
            double ref = 0.0;
            for (int k = 0; k < keys; ++k) ref += score[k] * bf16_to_float(key_row(k)[j]);
            ref /= sum;
            ref_max = std::max(ref_max, std::abs(ref));
            worst = std::max(worst, std::abs(ref - double(bf16_to_float(o[j]))));
          }
        }
    const bool ok = worst <= 0.02 * ref_max + 1e-3;
    failed += ok ? 0 : 1;
    std::printf("check h%d b%d ctx %d q_tokens %d: max |o - ref| %.3e (max |ref| %.3e) %s\n", c.heads,
                c.batch, c.ctx, c.q_tokens, worst, ref_max, ok ? "ok" : "FAILED");
  }
  return failed;
}

}  // namespace

int main(int argc, char** argv) {
  std::string points_arg, out_path;
  int runs = 20;
  bool do_check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--check") do_check = true;
    else if (a == "--points" && i + 1 < argc) points_arg = argv[++i];
    else if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--out" && i + 1 < argc) out_path = argv[++i];
    else {
      std::fprintf(stderr, "usage: flashmla_bench [--check] [--points H:B:CTX:Q,...] [--runs N] [--out CSV]\n");
      return 1;
    }
  }
  int dev = 0, sms = 0, l2 = 0;
  check(cudaGetDevice(&dev), "no GPU");
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, dev), "device properties");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev), "SM count");
  check(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev), "L2 size");
  cudaStream_t stream;
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "stream");
  if (do_check && run_checks(sms, stream) != 0) return 3;

  std::vector<Point> points;
  for (size_t pos = 0; pos < points_arg.size();) {
    const size_t end = std::min(points_arg.find(',', pos), points_arg.size());
    Point p;
    if (std::sscanf(points_arg.substr(pos, end - pos).c_str(), "%d:%d:%d:%d", &p.heads, &p.batch,
                    &p.ctx, &p.q_tokens) != 4) {
      std::fprintf(stderr, "flashmla_bench: bad point '%s'\n", points_arg.substr(pos, end - pos).c_str());
      return 1;
    }
    points.push_back(p);
    pos = end + 1;
  }
  const int64_t sweep_vec4 = int64_t(4) * l2 / 16;
  float4* sweep = nullptr;
  float* sink = nullptr;
  check(cudaMalloc(&sweep, sweep_vec4 * 16), "sweep buffer");
  check(cudaMalloc(&sink, 4), "sink");
  check(cudaMemset(sweep, 0, sweep_vec4 * 16), "sweep fill");
  cudaEvent_t e0, e1;
  check(cudaEventCreate(&e0), "event");
  check(cudaEventCreate(&e1), "event");
  FILE* csv = out_path.empty() ? nullptr : std::fopen(out_path.c_str(), "w");
  if (csv != nullptr)
    std::fprintf(csv, "kernel,family,q_heads,kv_heads,d_qk,d_v,page_size,batch,ctx_len,q_tokens,kv_dtype,"
                      "time_s,gpu,time_s_min,time_s_max,runs\n");
  for (const Point& p : points) {
    Step s(p, sms, stream, 11);
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "capture");
    s.run();
    check(cudaStreamEndCapture(stream, &graph), "end capture");
    check(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
    std::vector<float> times;
    for (int r = 0; r < 3 + runs; ++r) {
      read_sweep<<<sms * 8, 512, 0, stream>>>(sweep, sweep_vec4, sink);
      check(cudaEventRecord(e0, stream), "record");
      check(cudaGraphLaunch(exec, stream), "graph launch");
      check(cudaEventRecord(e1, stream), "record");
      check(cudaEventSynchronize(e1), "step");
      float ms = 0.f;
      check(cudaEventElapsedTime(&ms, e0, e1), "elapsed");
      if (r >= 3) times.push_back(ms * 1000.f);
    }
    std::sort(times.begin(), times.end());
    const float median = times[times.size() / 2];
    std::printf("flashmla h%-3d b%-4d ctx %8d q%d  %10.1f us  (%.1f-%.1f, %d runs, %d sm parts)\n", p.heads,
                p.batch, p.ctx, p.q_tokens, median, times.front(), times.back(), runs, s.num_sm_parts);
    if (csv != nullptr)
      std::fprintf(csv, "flashmla_9241ae3_sm90_dense,shared_latent,%d,1,%d,%d,%d,%d,%d,%d,bf16,%.6e,%s,%.6e,%.6e,%d\n",
                   p.heads, kDqk, kDv, kPage, p.batch, p.ctx, p.q_tokens, median * 1e-6, prop.name,
                   times.front() * 1e-6, times.back() * 1e-6, runs);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
  }
  if (csv != nullptr) std::fclose(csv);
  return 0;
}

// defines: merge_splits_kernel, merge_few_splits_kernel and their _ptr accessors (kernel_table.h)
//
// The flash-decoding merge: per (sequence b, row i), over the splits s (a row is a (new token,
// query head) pair: q_tokens x q_heads of them per sequence, token-major, as in o and lse),
//   lse_i = log sum_s exp(lse_s),   o_i = sum_s exp(lse_s - lse_i) o_s     (fp32, then bf16)
// splits past the sequence (lse_s = -inf) weigh 0; a sequence with no key gets o = 0, lse = -inf
// (FlashMLA's combine: "in case all local LSEs are -inf"). Reads o_partial once: batch * n_splits
// * q_tokens * q_heads * d_v * 4 bytes (mostly from L2: the split kernel wrote it just before).
//
// Work plan (many splits): one CTA per (sequence, query head, 64 output columns), 8 warps; each
// half-warp reads one split's 64 columns (256 contiguous bytes, a float4 per lane), the 16
// half-warps take every 16th split, four splits in flight per lane. Few splits: see
// merge_few_splits_kernel below.
// Measured on an H100 (ncu gpu__time_duration, batch 1, 128-263 splits): 4.3-7.4 us (4.9-8.6 us
// when it first read the context length to skip the splits past the end). Slower
// variants tried: one CTA per head over all of d_v, each warp walking every 8th split one row at a
// time (15-18 us: 64 or 8 CTAs, each bound by L2 latency); partial rows loaded before the LSE
// reduction with one (max, sum) pair reduction (6.3-10.5 us; 512 threads and 8 rows in flight:
// 5.8-14 us); programmatic dependent launch of this kernel (-2.5% .. +14% step time): not kept.
#include "kernels/cuda/kernel_table.h"
#include "kernels/cuda/split_kv_decode.cuh"

namespace attnroof::kernels::cuda {

namespace {

constexpr int kMergeWarps = kMergeThreads / 32;
constexpr int kHalfWarps = 2 * kMergeWarps;  // splits read per pass

template <class Op>
__device__ float block_reduce(float v, float* red, Op op) {
  for (int off = 16; off > 0; off /= 2) v = op(v, __shfl_xor_sync(0xffffffffu, v, off));
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  if (lane == 0) red[warp] = v;
  __syncthreads();
  v = red[0];
  for (int w = 1; w < kMergeWarps; ++w) v = op(v, red[w]);
  __syncthreads();  // red reusable
  return v;
}
constexpr int kUnroll = kMergeUnroll;

__device__ __forceinline__ void fma4(float4& acc, float w, const float4& v) {
  acc.x = fmaf(w, v.x, acc.x);
  acc.y = fmaf(w, v.y, acc.y);
  acc.z = fmaf(w, v.z, acc.z);
  acc.w = fmaf(w, v.w, acc.w);
}

}  // namespace

// grid: (q_tokens * q_heads * d_v / kMergeCols, batch)   block: kMergeThreads
// shared: w_s [n_splits] (LSE, then weights) | part [16][kMergeCols] | red [32] (fp32)
__global__ void __launch_bounds__(kMergeThreads)
    merge_splits_kernel(const __grid_constant__ DecodeParams p) {
  extern __shared__ float merge_smem[];
  float* w_s = merge_smem;
  float* part = w_s + ((p.n_splits + 3) & ~3);  // 16-byte aligned for float4 rows
  float* red = part + kHalfWarps * kMergeCols;
  const int chunks = p.d_v / kMergeCols;
  const int q_rows = p.q_tokens * p.q_heads;
  const int head = static_cast<int>(blockIdx.x) / chunks;  // the row within the sequence
  const int col0 = (static_cast<int>(blockIdx.x) % chunks) * kMergeCols;
  const int b = static_cast<int>(blockIdx.y);
  const int tid = static_cast<int>(threadIdx.x);
  const int half_warp = tid / 16, col = col0 + (tid % 16) * 4;
  // Every split's LSE is read, not only the splits the context reaches: a split past a
  // sequence's end has lse = -inf (weight 0) and a zero partial row, and skipping the context
  // length saves a dependent load at the head of this kernel.
  const int64_t slot0 = int64_t(b) * p.n_splits * q_rows + head;  // split 0 of this row

  float mx = -INFINITY;
  for (int s = tid; s < p.n_splits; s += kMergeThreads) {
    const float l = p.lse_partial[slot0 + int64_t(s) * q_rows];
    w_s[s] = l;
    mx = fmaxf(mx, l);
  }
  mx = block_reduce(mx, red, [](float x, float y) { return fmaxf(x, y); });
  float sum = 0.f;
  for (int s = tid; s < p.n_splits; s += kMergeThreads) {
    // All splits empty (mx = -inf): every weight 0, so o = 0 and lse = -inf, never NaN.
    const float w = mx == -INFINITY ? 0.f : expf(w_s[s] - mx);
    w_s[s] = w;
    sum += w;
  }
  sum = block_reduce(sum, red, [](float x, float y) { return x + y; });  // also publishes w_s

  // Half-warp h sums splits h, h + 16, ...; kUnroll independent rows in flight per lane.
  float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
  const float* base = p.o_partial + slot0 * p.d_v + col;
  const int64_t split_stride = int64_t(q_rows) * p.d_v;
  int s = half_warp;
  for (; s + (kUnroll - 1) * kHalfWarps < p.n_splits; s += kUnroll * kHalfWarps) {
    float4 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      v[u] = __ldcg(reinterpret_cast<const float4*>(base + int64_t(s + u * kHalfWarps) * split_stride));
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (w_s[s + u * kHalfWarps] != 0.f) fma4(acc, w_s[s + u * kHalfWarps], v[u]);
  }
  for (; s < p.n_splits; s += kHalfWarps)
    if (w_s[s] != 0.f)
      fma4(acc, w_s[s], __ldcg(reinterpret_cast<const float4*>(base + int64_t(s) * split_stride)));
  *reinterpret_cast<float4*>(part + half_warp * kMergeCols + (tid % 16) * 4) = acc;
  __syncthreads();

  const float inv = sum > 0.f ? 1.f / sum : 0.f;
  if (tid < kMergeCols / 2) {  // two output columns per thread
    float t0 = 0.f, t1 = 0.f;
#pragma unroll
    for (int h = 0; h < kHalfWarps; ++h) {
      t0 += part[h * kMergeCols + 2 * tid];
      t1 += part[h * kMergeCols + 2 * tid + 1];
    }
    *reinterpret_cast<uint32_t*>(static_cast<bf16*>(p.o) + (int64_t(b) * q_rows + head) * p.d_v +
                                 col0 + 2 * tid) = pack_bf16x2(t0 * inv, t1 * inv);
  }
  if (p.lse != nullptr && col0 == 0 && tid == 0)
    p.lse[int64_t(b) * q_rows + head] = sum > 0.f ? mx + logf(sum) : -INFINITY;
}

// grid: ceil(batch * q_tokens * q_heads * d_v / 4 / kRowMergeThreads)   block: kRowMergeThreads
// The merge for few splits (n_splits <= kRowMergeMaxSplits): one thread per 4 output columns of
// one (sequence, head) row, walking the splits itself. The kernel above gives a CTA one row's 64
// columns and its 16 half-warps one split each, so with 2 splits 14 of them idle and a batch-64,
// 64-head MLA step needs 32,768 CTAs (32 waves at ~2.5 us each on an H200); here it is 2,048.
// Each thread reads its row's n_splits LSEs (the row's 128 threads read the same words: one
// transaction each) and n_splits float4 partials, coalesced across the row.
__global__ void __launch_bounds__(kRowMergeThreads)
    merge_few_splits_kernel(const __grid_constant__ DecodeParams p) {
  const int quads_per_row = p.d_v / 4;
  const int64_t q_rows = int64_t(p.q_tokens) * p.q_heads;
  const int64_t quad = int64_t(blockIdx.x) * kRowMergeThreads + threadIdx.x;
  if (quad >= int64_t(p.batch) * q_rows * quads_per_row) return;
  const int64_t row = quad / quads_per_row;  // b * q_rows + (token, head) row
  const int col = static_cast<int>(quad % quads_per_row) * 4;
  const int64_t b = row / q_rows;
  const int64_t slot0 = b * p.n_splits * q_rows + row % q_rows;  // split 0 of this row
  float mx = -INFINITY;
  for (int s = 0; s < p.n_splits; ++s)
    mx = fmaxf(mx, __ldcg(p.lse_partial + slot0 + int64_t(s) * q_rows));
  float sum = 0.f;
  float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
  // A split past the sequence (lse = -inf, weight 0) is never read; all of them: o = 0, -inf.
  for (int s = 0; s < p.n_splits; ++s) {
    const int64_t slot = slot0 + int64_t(s) * q_rows;
    const float l = __ldcg(p.lse_partial + slot);
    if (l == -INFINITY) continue;
    const float w = expf(l - mx);
    sum += w;
    fma4(acc, w, __ldcg(reinterpret_cast<const float4*>(p.o_partial + slot * p.d_v + col)));
  }
  const float inv = sum > 0.f ? 1.f / sum : 0.f;
  *reinterpret_cast<uint2*>(static_cast<bf16*>(p.o) + row * p.d_v + col) =
      make_uint2(pack_bf16x2(acc.x * inv, acc.y * inv), pack_bf16x2(acc.z * inv, acc.w * inv));
  if (p.lse != nullptr && col == 0) p.lse[row] = sum > 0.f ? mx + logf(sum) : -INFINITY;
}

void (*merge_splits_kernel_ptr())(DecodeParams) { return &merge_splits_kernel; }
void (*merge_few_splits_kernel_ptr())(DecodeParams) { return &merge_few_splits_kernel; }

}  // namespace attnroof::kernels::cuda

// The kernel benchmark (benchmark.h): ceilings, then every benchmark shape over layout, batch
// and context (uniform and ragged batches), in passes. KV bytes come from the model (preset's
// kv_elems_per_token(tp) x the sum of the context lengths x 2 B) plus q, o and lse bytes; FLOPs
// 2 * q_heads * sum of the context lengths * (d_qk + d_v).
#include "kernels/harness/benchmark.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <span>
#include <sstream>
#include <string_view>
#include <tuple>

#include "calibrate/ceilings.h"
#include "calibrate/gemm_probe.h"
#include "calibrate/gpu_clocks.h"
#include "calibrate/gpu_timer.h"
#include "calibrate/measurement.h"
#include "kernels/cuda_util/cuda_check.h"
#include "kernels/cuda/launch_decode.h"
#include "model/decode_cases.h"
#include "model/error.h"
#include "model/presets.h"

namespace attnroof::kernels {

namespace {

// A benchmark case's kernel shape: the model's per-device attention kernel of the case's preset at
// its TP degree (model/decode_cases.h), so the heads and widths timed here are the ones the model
// prices.
struct BenchShape {
  const model::DecodeCase* decode_case;
  KernelFamily family;
  int32_t d_qk, d_v, q_heads, kv_heads, page_size;
};

BenchShape bench_shape(const model::DecodeCase& c) {
  const model::AttentionKernelShape k = model::decode_case_kernel(c);
  return {&c,
          k.family,
          static_cast<int32_t>(k.d_qk),
          static_cast<int32_t>(k.d_v),
          static_cast<int32_t>(k.q_heads),
          static_cast<int32_t>(k.kv_heads),
          c.page_size};
}

// The kernel targets, scored on CUDA-graph replay times.
// Batch 1, the four per-device shapes: fraction of the measured streaming-read ceiling (the
// H200 round's targets from 512K up, the H100 rounds' below).
double read_target(int64_t ctx) {
  if (ctx >= 1048576) return 0.90;
  if (ctx == 524288) return 0.80;
  if (ctx == 131072) return 0.75;
  if (ctx == 16384) return 0.35;
  return 0;  // no target at this context
}
constexpr double kMlraVsMlaTarget = 2.85;   // MLA time / MLRA-4 shard time at 1M, batch 1
constexpr double kBatch64Target = 0.70;     // MLA-128, batch 64, ctx 8K: bounding ceiling / time

// Scored on the first pass's uniform one-token batches of one layout (the first one asked for).
// The roofline time of a point, max(bytes / read ceiling, FLOPs / cuBLAS bf16 rate), with both
// ceilings measured in the same run, and which one binds ("unknown" when ceilings were skipped).
struct RooflineBound {
  double us = 0;
  std::string_view name = "unknown";
};
RooflineBound roofline_bound(double bytes, double flops, const calibrate::Ceilings& ceil) {
  if (ceil.read_gbps <= 0) return {};
  const double t_bytes = bytes / (ceil.read_gbps * 1e3);
  const double t_flops = ceil.cublas_tflops > 0 ? flops / (ceil.cublas_tflops * 1e6) : 0;
  return t_flops > t_bytes ? RooflineBound{t_flops, "compute"} : RooflineBound{t_bytes, "memory"};
}

nlohmann::json score_targets(const nlohmann::json& all_points, const calibrate::Ceilings& ceil,
                             const std::string& layout) {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& p : all_points)
    if (p.value("pass", int64_t(0)) == 0 && !p.value("ragged", false) && p["layout"] == layout &&
        p.value("q_tokens", int64_t(1)) == 1)
      points.push_back(p);
  nlohmann::json out = nlohmann::json::array();
  auto find = [&](const std::string& shape, int64_t batch, int64_t ctx) -> const nlohmann::json* {
    for (const auto& p : points)
      if (p["shape"] == shape && p["batch"] == batch && p["ctx"] == ctx && p.contains("kernel"))
        return &p;
    return nullptr;
  };
  for (const char* shape : {"gqa_tp8", "mla", "gla2_tp2", "mlra4_tp4"})
    for (const auto& p : points) {
      if (p["shape"] != shape || p["batch"] != 1 || !p.contains("kernel")) continue;
      const double target = read_target(p["ctx"].get<int64_t>());
      if (target == 0) continue;
      const double frac = p["frac_read_ceiling_graph"].get<double>();
      out.push_back({{"target", fmt::format("{} batch 1 ctx {}: >= {:.0f}% of read ceiling", shape,
                                            p["ctx"].get<int64_t>(), 100 * target)},
                     {"measured", frac},
                     {"required", target},
                     {"met", frac >= target}});
    }
  const auto* mla = find("mla", 1, 1048576);
  const auto* mlra = find("mlra4_tp4", 1, 1048576);
  if (mla != nullptr && mlra != nullptr) {
    const double ratio =
        (*mla)["time_us_graph_median"].get<double>() / (*mlra)["time_us_graph_median"].get<double>();
    out.push_back({{"target", "MLRA-4 TP4 shard vs MLA, batch 1, ctx 1M: time ratio >= 2.85"},
                   {"measured", ratio},
                   {"required", kMlraVsMlaTarget},
                   {"met", ratio >= kMlraVsMlaTarget}});
  }
  if (const auto* p = find("mla_h128", 64, 8192); p != nullptr && ceil.read_gbps > 0) {
    const double bound =
        roofline_bound((*p)["total_bytes"].get<double>(), (*p)["flops"].get<double>(), ceil).us;
    const double frac = bound / (*p)["time_us_graph_median"].get<double>();
    out.push_back({{"target", "MLA 128 heads, batch 64, ctx 8K: >= 70% of the bounding ceiling "
                              "max(bytes / read ceiling, FLOPs / cuBLAS bf16 rate)"},
                   {"bound_us", bound},
                   {"measured", frac},
                   {"required", kBatch64Target},
                   {"met", frac >= kBatch64Target}});
  }
  for (auto& t : out) t["layout"] = layout;
  return out;
}

uint32_t lo32(uint64_t v) { return static_cast<uint32_t>(v & 0xffffffffu); }
uint32_t hi32(uint64_t v) { return static_cast<uint32_t>(v >> 32); }

// A ragged batch (BenchOptions::ragged): lengths uniform in [max(1, ctx / 8), ctx], one of them
// (at a drawn position) exactly ctx. Depends on (seed, shape, batch, ctx) only.
std::vector<int32_t> ragged_lens(uint64_t seed, std::size_t shape, int64_t batch, int64_t ctx) {
  std::seed_seq seq{lo32(seed), hi32(seed), uint32_t(shape), lo32(uint64_t(batch)),
                    lo32(uint64_t(ctx)), hi32(uint64_t(ctx)), 0x72616767u};
  std::mt19937_64 rng(seq);
  std::uniform_int_distribution<int64_t> len(std::max<int64_t>(1, ctx / 8), ctx);
  std::vector<int32_t> out(static_cast<std::size_t>(batch));
  for (int32_t& l : out) l = static_cast<int32_t>(len(rng));  // >= 1, raised to q_tokens later
  out[static_cast<std::size_t>(std::uniform_int_distribution<int64_t>(0, batch - 1)(rng))] =
      static_cast<int32_t>(ctx);
  return out;
}

// batch x per_seq distinct pages of the pool in a random order (a partial Fisher-Yates shuffle:
// the table of a point depends on (seed, shape, batch, ctx, ragged) only, not on the pass).
std::vector<int32_t> page_table(uint64_t seed, std::size_t shape, int64_t batch, int64_t ctx,
                                bool ragged, int64_t per_seq, int64_t pool_pages) {
  std::seed_seq seq{lo32(seed), hi32(seed), uint32_t(shape), lo32(uint64_t(batch)),
                    lo32(uint64_t(ctx)), hi32(uint64_t(ctx)), uint32_t(ragged), 0x70616765u};
  std::mt19937_64 rng(seq);
  std::vector<int32_t> pages(static_cast<std::size_t>(pool_pages));
  std::iota(pages.begin(), pages.end(), 0);
  const std::size_t n = static_cast<std::size_t>(batch * per_seq);
  for (std::size_t i = 0; i < n; ++i) {
    std::uniform_int_distribution<std::size_t> pick(i, pages.size() - 1);
    std::swap(pages[i], pages[pick(rng)]);
  }
  pages.resize(n);
  return pages;
}

// One point of a shape's sweep.
struct PointSpec {
  std::size_t layout = 0;  // index into BenchOptions::layouts
  int64_t batch = 0, ctx = 0;
  bool ragged = false;
  int64_t q_tokens = 1;
};

// A timed or skipped point with the key the report is sorted by (pass, shape, layout, batch,
// ctx, ragged, q_tokens), and its record when timed.
struct Measured {
  std::tuple<int, std::size_t, std::size_t, int64_t, int64_t, bool, int64_t> key;
  nlohmann::json point;
  nlohmann::json record;  // null when skipped
};

}  // namespace

void check_bench_options(const BenchOptions& opt) {
  std::vector<std::string> bad;
  const auto names = model::decode_case_names();
  for (const std::string& name : opt.shapes)
    if (std::find(names.begin(), names.end(), name) == names.end())
      bad.push_back(fmt::format("shape '{}': valid shapes are {}", name, fmt::join(names, ", ")));
  if (opt.layouts.empty()) bad.push_back("layouts: empty; give paged, contiguous or both");
  for (std::size_t i = 0; i < opt.layouts.size(); ++i) {
    const std::string& l = opt.layouts[i];
    if (l != "paged" && l != "contiguous")
      bad.push_back(fmt::format("layout '{}': valid layouts are paged, contiguous", l));
    else if (std::find(opt.layouts.begin(), opt.layouts.begin() + std::ptrdiff_t(i), l) !=
             opt.layouts.begin() + std::ptrdiff_t(i))
      bad.push_back(fmt::format("layout '{}' is listed twice", l));
  }
  if (opt.split_len < 0) bad.push_back(fmt::format("split_len = {}: must be >= 0", opt.split_len));
  if (opt.runs < 1) bad.push_back(fmt::format("runs = {}: must be >= 1", opt.runs));
  if (opt.warmup < 0) bad.push_back(fmt::format("warmup = {}: must be >= 0", opt.warmup));
  if (opt.passes < 1) bad.push_back(fmt::format("passes = {}: must be >= 1", opt.passes));
  if (!(opt.max_cache_gb > 0))
    bad.push_back(fmt::format("max_cache_gb = {}: must be > 0", opt.max_cache_gb));
  constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();
  for (int64_t b : opt.batches)
    if (b < 1 || b > 65535) bad.push_back(fmt::format("batch {}: must be in [1, 65535]", b));
  if (opt.q_tokens.empty()) bad.push_back("q_tokens: empty; give 1 or more values in [1, 8]");
  for (int64_t q : opt.q_tokens)
    if (q < 1 || q > kMaxQTokens)
      bad.push_back(fmt::format("q_tokens {}: must be in [1, {}]", q, kMaxQTokens));
  for (int64_t c : opt.contexts)
    if (c < 1 || c > kMaxInt32)
      bad.push_back(fmt::format("context {}: must be in [1, {}]", c, kMaxInt32));
  if (opt.contexts.empty() && (opt.ctx_min < 1 || opt.ctx_max < opt.ctx_min || opt.ctx_max > kMaxInt32))
    bad.push_back(fmt::format("ctx_min = {}, ctx_max = {}: need 1 <= ctx_min <= ctx_max <= {}",
                              opt.ctx_min, opt.ctx_max, kMaxInt32));
  throw_if_problems("run_kernel_benchmark: bad options", bad);
}

nlohmann::json run_kernel_benchmark(const BenchOptions& opt) {
  check_bench_options(opt);
  if (!cuda_device_available()) throw CudaError("run_kernel_benchmark: no CUDA device");
  auto say = [&](const std::string& line) {
    if (opt.progress) opt.progress(line);
  };
  const int runs = opt.runs, warmup = opt.warmup;
  const double max_cache_gb = opt.max_cache_gb;

  int device = 0;
  ATTNROOF_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  ATTNROOF_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  const calibrate::GpuClocks clocks(device);
  if (!clocks.available())
    say(fmt::format("{}: sm_clock_mhz and power_w are recorded as 0", clocks.status()));
  calibrate::GpuTimer timer(std::size_t(4) * std::size_t(prop.l2CacheSize), opt.flush);
  const char* flush_name = calibrate::to_string(opt.flush);
  const cudaStream_t stream = timer.stream();
  calibrate::Ceilings ceil;
  if (opt.ceilings) {
    ceil = calibrate::measure_ceilings(timer, std::size_t(4) << 30, runs);
    say(fmt::format("ceilings on {}: read {:.0f} GB/s, copy kernel {:.0f} GB/s (r+w), memcpy {:.0f} "
                    "GB/s (r+w), mma.sync bf16 {:.0f} TFLOP/s, cuBLAS bf16 {:.0f} TFLOP/s",
                    ceil.gpu, ceil.read_gbps, ceil.copy_kernel_gbps, ceil.memcpy_gbps,
                    ceil.mma_sync_tflops, ceil.cublas_tflops));
  }
  nlohmann::json gemm;
  if (opt.gemm_probe) {
    gemm = calibrate::measure_projection_gemms(timer, calibrate::kProbeGemmMs,
                                               calibrate::kProbeGemmKn, runs);
    say(fmt::format("projection GEMMs: {} sizes timed ({})", gemm["records"].size(),
                    gemm["method"].get<std::string>()));
  }

  // (shape, batches, contexts) to run.
  struct Sweep {
    std::size_t shape;  // the case's place in model::decode_cases()
    std::vector<int64_t> batches, ctxs;
  };
  const std::span<const model::DecodeCase> cases = model::decode_cases();
  const auto shape_index = [&](std::string_view name) {
    return std::size_t(&model::find_decode_case(name, "shape") - cases.data());
  };
  std::vector<Sweep> sweeps;
  if (opt.reduced) {
    for (const char* s : {"gqa_tp8", "mla", "gla2_tp2", "mlra4_tp4"})
      sweeps.push_back({shape_index(s), {1}, {16384, 131072, 1048576}});
    sweeps.push_back({shape_index("mla_h128"), {64}, {8192}});
  } else {
    std::vector<int64_t> ctxs = opt.contexts;
    if (ctxs.empty())
      for (int64_t c = opt.ctx_min; c <= opt.ctx_max; c *= 2) ctxs.push_back(c);
    for (std::size_t i = 0; i < cases.size(); ++i)
      if (opt.shapes.empty() ||
          std::find(opt.shapes.begin(), opt.shapes.end(), cases[i].name) != opt.shapes.end())
        sweeps.push_back({i, opt.batches, ctxs});
  }
  std::vector<Measured> measured;
  std::string split_cost_model;  // the same for every planned point of this device
  int64_t seq_no = 0;

  for (std::size_t run = 0; run < std::size_t(opt.passes) * sweeps.size(); ++run) {
    // Pass after pass; the shape order rotates by one per pass.
    const int pass = static_cast<int>(run / sweeps.size());
    const Sweep& sw = sweeps[(run % sweeps.size() + std::size_t(pass)) % sweeps.size()];
    const BenchShape s = bench_shape(cases[sw.shape]);
    const model::DecodeCase& dc = *s.decode_case;
    const std::vector<int64_t>& batches = sw.batches;
    const std::vector<int64_t>& ctxs = sw.ctxs;
    // KV elements per token from the model (the preset at its TP degree).
    const int64_t kernel_elems =
        s.family == KernelFamily::shared_latent ? s.d_qk : int64_t(s.kv_heads) * (s.d_qk + s.d_v);
    const int64_t kv_elems =
        model::find_preset(dc.preset, "preset").variant->kv_elems_per_token(dc.tp);
    std::string bytes_source =
        fmt::format("model: {}.kv_elems_per_token(tp={}) = {}", dc.preset, dc.tp, kv_elems);
    if (kv_elems != kernel_elems)
      bytes_source += fmt::format(" (kernel reads {} per token)", kernel_elems);
    const double row_bytes = 2.0 * double(kernel_elems);
    const auto fits = [&](int64_t b, int64_t c) {
      return double(b * c) * row_bytes <= max_cache_gb * 1e9;
    };
    // Every point of the shape; those that do not fit are reported (first pass) and skipped.
    std::vector<PointSpec> specs;
    for (std::size_t l = 0; l < opt.layouts.size(); ++l)
      for (int64_t b : batches)
        for (int64_t c : ctxs)
          for (const bool rag : {false, true})
            for (int64_t q : opt.q_tokens) {
              if (rag && !(opt.ragged && b > 1)) continue;
              const PointSpec spec{l, b, c, rag, q};
              if (fits(b, c) && c >= q) {
                specs.push_back(spec);
              } else if (pass == 0) {
                nlohmann::json pt{{"shape", dc.name}, {"batch", b},     {"ctx", c},
                                  {"layout", opt.layouts[l]}, {"ragged", rag}, {"pass", pass},
                                  {"q_tokens", q}};
                pt["skipped"] = c < q ? fmt::format("ctx {} < q_tokens {}", c, q)
                                      : fmt::format("cache {:.1f} GB > --max-cache-gb {}",
                                                    double(b * c) * row_bytes / 1e9, max_cache_gb);
                measured.push_back({{pass, sw.shape, l, b, c, rag, q}, pt, nullptr});
              }
            }
    if (specs.empty()) continue;
    {
      std::seed_seq seq{lo32(opt.seed), hi32(opt.seed), uint32_t(pass), uint32_t(sw.shape),
                        0x6f726465u};
      std::mt19937_64 rng(seq);
      std::shuffle(specs.begin(), specs.end(), rng);
    }
    // One cache for the shape, sized for its largest point: the contiguous layout needs
    // batch x ctx rows, the paged one ceil(ctx / page) pages per sequence (a ragged batch needs
    // no more than the uniform one of its longest length).
    int64_t max_rows = 0, max_batch = 0, max_q_seqs = 0;  // q_seqs: batch x q_tokens
    for (const PointSpec& sp : specs) {
      max_rows = std::max(max_rows, sp.batch * sp.ctx);
      max_batch = std::max(max_batch, sp.batch);
      max_q_seqs = std::max(max_q_seqs, sp.batch * sp.q_tokens);
    }
    const int64_t page = s.page_size;
    const int64_t pool_pages = (max_rows + page - 1) / page + max_batch;
    const int64_t pool_rows = pool_pages * page;
    const bool latent = s.family == KernelFamily::shared_latent;
    DeviceBuffer<uint16_t> k(std::size_t(pool_rows) * std::size_t(latent ? s.d_qk : s.kv_heads * s.d_qk));
    DeviceBuffer<uint16_t> v(latent ? 0 : std::size_t(pool_rows) * std::size_t(s.kv_heads * s.d_v));
    calibrate::fill_random_bf16(k.get(), k.size(), 11, 1.f, stream);
    if (!latent) calibrate::fill_random_bf16(v.get(), v.size(), 12, 1.f, stream);
    DeviceBuffer<uint16_t> q(std::size_t(max_q_seqs * s.q_heads * s.d_qk));
    DeviceBuffer<uint16_t> o(std::size_t(max_q_seqs * s.q_heads * s.d_v));
    DeviceBuffer<float> lse(std::size_t(max_q_seqs * s.q_heads));
    calibrate::fill_random_bf16(q.get(), q.size(), 13, 1.f, stream);
    DeviceBuffer<float> o_scratch, lse_scratch;  // grown as the points need

    for (const PointSpec& sp : specs) {
      const int64_t batch = sp.batch, ctx = sp.ctx, q_tokens = sp.q_tokens;
      const std::string& layout = opt.layouts[sp.layout];
      std::vector<int32_t> h_lens =
          sp.ragged ? ragged_lens(opt.seed, sw.shape, batch, ctx)
                    : std::vector<int32_t>(std::size_t(batch), static_cast<int32_t>(ctx));
      for (int32_t& l : h_lens) l = std::max(l, static_cast<int32_t>(q_tokens));
      const int64_t ctx_sum = std::accumulate(h_lens.begin(), h_lens.end(), int64_t(0));
      const DeviceBuffer<int32_t> lens = upload(h_lens, stream);
      DecodeParams p;
      p.family = s.family;
      p.batch = static_cast<int32_t>(batch);
      p.q_heads = s.q_heads;
      p.kv_heads = s.kv_heads;
      p.q_tokens = static_cast<int32_t>(q_tokens);
      p.d_qk = s.d_qk;
      p.d_v = s.d_v;
      p.softmax_scale = static_cast<float>(1.0 / std::sqrt(latent ? 192.0 : double(s.d_qk)));
      p.q = q.get();
      p.k_cache = k.get();
      p.v_cache = latent ? nullptr : v.get();
      p.ctx_lens = lens.get();
      p.o = o.get();
      p.lse = lse.get();
      DeviceBuffer<int32_t> table;
      const bool paged = layout == "paged";
      if (paged) {
        const int64_t per_seq = (ctx + page - 1) / page;
        table = upload(page_table(opt.seed, sw.shape, batch, ctx, sp.ragged, per_seq, pool_pages),
                       stream);
        p.page_table = table.get();
        p.page_size = static_cast<int32_t>(page);
        p.max_pages_per_seq = static_cast<int32_t>(per_seq);
      } else {
        p.max_ctx_len = ctx;
      }
      const DecodePlan plan = plan_decode(p, ctx, opt.split_len, opt.choice);
      if (!plan.split_cost_model.empty()) split_cost_model = plan.split_cost_model;
      plan.apply_to(p);
      if (o_scratch.size() < std::size_t(plan.o_partial_elems))
        o_scratch = DeviceBuffer<float>(std::size_t(plan.o_partial_elems));
      if (lse_scratch.size() < std::size_t(plan.lse_partial_elems))
        lse_scratch = DeviceBuffer<float>(std::size_t(plan.lse_partial_elems));
      p.o_partial = plan.n_splits > 1 ? o_scratch.get() : nullptr;
      p.lse_partial = plan.n_splits > 1 ? lse_scratch.get() : nullptr;
      const auto step = [&](cudaStream_t st) { launch_decode(p, st, opt.choice); };
      // A CUDA failure names the point and the seed, so the run can be replayed; the stream is
      // drained here so an asynchronous fault is charged to this point, not the next.
      const auto at_point = [&](auto&& time_it) {
        try {
          calibrate::TimingStats t = time_it();
          ATTNROOF_CUDA_CHECK(cudaGetLastError());
          ATTNROOF_CUDA_CHECK(cudaStreamSynchronize(stream));
          return t;
        } catch (const CudaError& e) {
          throw CudaError(fmt::format("{} {} b{} ctx {}{}{} pass {} (--seed {}): {}", dc.name,
                                      layout, batch, ctx, sp.ragged ? " ragged" : "",
                                      q_tokens > 1 ? fmt::format(" q_tokens {}", q_tokens) : "",
                                      pass, opt.seed, e.what()));
        }
      };
      calibrate::TimingStats te;
      if (!opt.graph_only) te = at_point([&] { return timer.time(step, warmup, runs); });
      const calibrate::TimingStats tg =
          at_point([&] { return timer.time_graph(step, warmup, runs); });
      const calibrate::ClockSample clk = clocks.read();
      calibrate::DecodeMeasurement m;
      m.kernel = plan.kernel;
      m.family = s.family;
      m.q_heads = s.q_heads;
      m.kv_heads = s.kv_heads;
      m.d_qk = s.d_qk;
      m.d_v = s.d_v;
      m.page_size = paged ? page : 0;
      m.ctx_lens.assign(h_lens.begin(), h_lens.end());
      m.q_tokens = q_tokens;
      m.kv_dtype = model::Dtype::bf16;
      const double kv_bytes = double(kv_elems) * double(ctx_sum) * 2.0;
      // Each of a sequence's q_tokens rows reads its q and writes o and lse.
      const double q_seqs = double(batch) * double(q_tokens);
      const double qo_bytes = q_seqs * s.q_heads * (s.d_qk + s.d_v) * 2.0 + q_seqs * s.q_heads * 4.0;
      const double total = kv_bytes + qo_bytes;
      const double flops = calibrate::to_work(m).flops();  // causal among the new tokens
      const double gbps = total / (tg.median_us * 1e3);
      const double frac = ceil.read_gbps > 0 ? gbps / ceil.read_gbps : 0;
      const double frac_ev = ceil.read_gbps > 0 && !opt.graph_only
                                 ? total / (te.median_us * 1e3) / ceil.read_gbps
                                 : 0;
      const double tflops = flops / (tg.median_us * 1e-6) / 1e12;
      const double frac_mma = ceil.mma_sync_tflops > 0 ? tflops / ceil.mma_sync_tflops : 0;
      const RooflineBound bound = roofline_bound(total, flops, ceil);
      const double frac_bound = bound.us / tg.median_us;
      nlohmann::json pt{{"shape", dc.name},
                        {"batch", batch},
                        {"ctx", ctx},
                        {"layout", layout},
                        {"ragged", sp.ragged},
                        {"q_tokens", q_tokens},
                        {"ctx_sum", ctx_sum},
                        {"pass", pass},
                        {"seq", seq_no++},
                        {"kernel", plan.kernel},
                        {"n_splits", plan.n_splits},
                        {"split_len", plan.split_len},
                        {"ctas_per_sm", plan.ctas_per_sm},
                        {"l2_flush", flush_name},
                        {"time_us_graph_median", tg.median_us},
                        {"time_us_graph_min", tg.min_us},
                        {"time_us_graph_max", tg.max_us},
                        {"runs", runs},
                        {"sm_clock_mhz", clk.sm_clock_mhz},
                        {"power_w", clk.power_w},
                        {"kv_bytes", kv_bytes},
                        {"total_bytes", total},
                        {"GBps_graph", gbps},
                        {"frac_read_ceiling_graph", frac},
                        {"frac_read_ceiling_events", frac_ev},
                        {"flops", flops},
                        {"TFLOPs_graph", tflops},
                        {"frac_mma_sync_ceiling", frac_mma},
                        {"bound", bound.name},
                        {"frac_bound_ceiling", frac_bound},
                        {"bytes_source", bytes_source}};
      if (!opt.graph_only) {
        pt["time_us_events_median"] = te.median_us;
        pt["time_us_events_min"] = te.min_us;
      }
      m.time_s = tg.median_us * 1e-6;
      m.time_s_min = tg.min_us * 1e-6;
      m.time_s_max = tg.max_us * 1e-6;
      m.runs = tg.runs;
      m.n_splits = plan.n_splits;
      m.sm_clock_mhz = clk.sm_clock_mhz;
      m.gpu = prop.name;
      m.read_ceiling_Bps = ceil.read_gbps * 1e9;
      m.commit = opt.commit;
      m.plan = model::KernelPlan{.tile_m = plan.tile_m,
                                 .tile_n = plan.tile_n,
                                 .stages = plan.stages,
                                 .ctas_per_sm = plan.ctas_per_sm,
                                 .sm_count = plan.sm_count,
                                 .n_splits = plan.n_splits,
                                 .split_len = plan.split_len};
      m.pass = pass;
      measured.push_back({{pass, sw.shape, sp.layout, batch, ctx, sp.ragged, q_tokens}, std::move(pt),
                          calibrate::measurement_to_json(m)});
      say(fmt::format("{:<10} {:<10} b{:<3} ctx {:>8}{} q{} pass {}  splits {:>4}  {}graph {:>9.1f} us  "
                      "{:>6.0f} GB/s  {:>5.1f}% read  {:>5.0f} TFLOP/s  {:>5.1f}% of {} bound  "
                      "{:>4.0f} MHz",
                      dc.name, layout, batch, ctx, sp.ragged ? " ragged" : "       ", q_tokens, pass,
                      plan.n_splits,
                      opt.graph_only ? "" : fmt::format("events {:>9.1f} us  ", te.median_us),
                      tg.median_us, gbps, 100 * frac, tflops, 100 * frac_bound, bound.name,
                      clk.sm_clock_mhz));
    }
  }
  // The report lists the points in a fixed order (pass, shape, layout, batch, ctx, uniform then
  // ragged); "seq" says when each was measured.
  std::stable_sort(measured.begin(), measured.end(),
                   [](const Measured& a, const Measured& b) { return a.key < b.key; });
  nlohmann::json points = nlohmann::json::array(), records = nlohmann::json::array();
  for (Measured& m : measured) {
    points.push_back(std::move(m.point));
    if (!m.record.is_null()) records.push_back(std::move(m.record));
  }
  const nlohmann::json targets = score_targets(points, ceil, opt.layouts.front());
  const std::string flush_text = opt.flush == calibrate::L2Flush::clean
                                     ? "read sweep of 4x L2, no dirty lines left"
                                     : "memset of 4x L2, L2 left dirty";
  const std::string timing =
      opt.graph_only
          ? fmt::format("CUDA-graph replay of one decode step (split kernel + merge), {} warm-up "
                        "runs, L2 flushed before every run ({}: {}), median of {} runs (no "
                        "per-call CUDA-event timing: --graph-only)",
                        warmup, flush_name, flush_text, runs)
          : fmt::format("CUDA events per call (split kernel + merge), {} warm-up runs, L2 flushed "
                        "before every run ({}: {}), median of {} runs; the same through "
                        "CUDA-graph replay",
                        warmup, flush_name, flush_text, runs);
  nlohmann::json report{
      {"gpu", prop.name},
      {"ceilings", ceil.to_json()},
      {"clocks", clocks.status()},
      {"timing", timing},
      {"l2_flush", flush_name},
      {"split_len_override", opt.split_len},
      {"split_cost_model", split_cost_model},
      {"layouts", opt.layouts},
      {"ragged", opt.ragged},
      {"passes", opt.passes},
      {"seed", opt.seed},
      {"graph_only", opt.graph_only},
      {"commit", opt.commit},
      {"order", fmt::format("each pass measures every point once; within a shape in an order "
                            "shuffled with the seed and the pass; the shape order rotates by one "
                            "per pass; points are listed sorted, \"seq\" is the measurement order")},
      {"points", points},
      {"targets", targets},
      {"records", records}};
  if (opt.gemm_probe) {
    report["gemm_timing"] = {{"method", gemm["method"]},
                             {"timing", gemm["timing"]},
                             {"layout", gemm["layout"]},
                             {"clocks", gemm["clocks"]}};
    report["gemm_records"] = gemm["records"];
  }
  return report;
}

std::string bench_csv(const nlohmann::json& report) {
  std::ostringstream csv;
  csv << "shape,batch,ctx,layout,kernel,n_splits,time_us_events,time_us_graph,kv_bytes,"
         "total_bytes,GBps_graph,frac_read_ceiling_graph,frac_read_ceiling_events,flops,"
         "TFLOPs_graph,frac_mma_sync_ceiling,bytes_source,sm_clock_mhz,pass,ragged,q_tokens,"
         "bound,frac_bound_ceiling\n";
  for (const auto& p : report.at("points")) {
    if (!p.contains("kernel")) continue;  // skipped point
    // Graph-only points have no event times: the cell stays empty.
    const std::string events = p.contains("time_us_events_median")
                                   ? fmt::format("{:.2f}", p["time_us_events_median"].get<double>())
                                   : std::string();
    csv << fmt::format(
        "{},{},{},{},{},{},{},{:.2f},{:.0f},{:.0f},{:.1f},{:.4f},{:.4f},{:.0f},{:.1f},{:.4f},"
        "\"{}\",{:.0f},{},{},{},{},{:.4f}\n",
        p["shape"].get<std::string>(), p["batch"].get<int64_t>(), p["ctx"].get<int64_t>(),
        p["layout"].get<std::string>(), p["kernel"].get<std::string>(), p["n_splits"].get<int>(),
        events, p["time_us_graph_median"].get<double>(), p["kv_bytes"].get<double>(),
        p["total_bytes"].get<double>(), p["GBps_graph"].get<double>(),
        p["frac_read_ceiling_graph"].get<double>(), p["frac_read_ceiling_events"].get<double>(),
        p["flops"].get<double>(), p["TFLOPs_graph"].get<double>(),
        p["frac_mma_sync_ceiling"].get<double>(), p["bytes_source"].get<std::string>(),
        p.value("sm_clock_mhz", 0.0), p.value("pass", int64_t(0)),
        p.value("ragged", false) ? 1 : 0, p.value("q_tokens", int64_t(1)),
        p.value("bound", std::string("unknown")), p.value("frac_bound_ceiling", 0.0));
  }
  return csv.str();
}

std::string bench_measurements_csv(const nlohmann::json& report) {
  std::vector<calibrate::DecodeMeasurement> records;
  if (report.contains("records")) {
    const nlohmann::json& rs = report.at("records");
    for (std::size_t i = 0; i < rs.size(); ++i)
      records.push_back(calibrate::measurement_from_json(rs[i], fmt::format("records[{}]", i)));
  }
  return calibrate::measurements_csv(records);
}

}  // namespace attnroof::kernels

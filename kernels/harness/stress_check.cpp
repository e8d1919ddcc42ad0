#include "kernels/harness/stress_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include "kernels/harness/check_support.h"
#include "kernels/cuda_util/cuda_check.h"
#include "kernels/harness/stress_fill.h"
#include "kernels/reference/numerics.h"
#include "kernels/stress/stress_case.h"
#include "model/error.h"

namespace attnroof::kernels {

namespace {

using stress::StressBuffer;
using stress::StressCase;

struct RoundResult {
  DecodePlan plan;
  int launches = 0;
  int64_t repeat_mismatches = 0;  // elements of o or lse that differed from the first launch
  int64_t bad_rows = 0;           // rows failing the every-row check
  OutputErrors checked;           // the checked slice against the reference
  std::string failure;
  double seconds = 0;
};

// A device buffer refilled with 0xFF bytes (NaN as bf16 and as fp32) before each launch.
template <class T>
void poison(DeviceBuffer<T>& b, cudaStream_t stream) {
  if (b.size() > 0) ATTNROOF_CUDA_CHECK(cudaMemsetAsync(b.get(), 0xFF, b.bytes(), stream));
}

RoundResult run_round(const StressCase& c, int repeats, int threads, const KernelChoice& choice,
                      cudaStream_t stream) {
  const auto t0 = std::chrono::steady_clock::now();
  RoundResult r;
  DecodeParams p = c.layout();
  const int64_t k_row = p.k_row_elems(), v_row = p.v_row_elems();

  std::vector<int64_t> ranges;
  for (const auto& [first, last] : c.poisoned_rows()) {
    ranges.push_back(first);
    ranges.push_back(last);
  }
  const DeviceBuffer<int64_t> d_ranges = upload(ranges, stream);
  DeviceBuffer<uint16_t> d_kc(std::size_t(c.k_elems())), d_vc(std::size_t(c.v_elems()));
  cuda::fill_stress_cache(d_kc.get(), c.k_elems(), k_row, c.seed, StressBuffer::k, d_ranges.get(),
                          int64_t(ranges.size() / 2), stream);
  cuda::fill_stress_cache(d_vc.get(), c.v_elems(), v_row, c.seed, StressBuffer::v, d_ranges.get(),
                          int64_t(ranges.size() / 2), stream);
  const DeviceBuffer<uint16_t> d_q = upload(stress::stress_query(c), stream);
  const DeviceBuffer<int32_t> d_lens = upload(c.lens, stream);
  const DeviceBuffer<int32_t> d_table = upload(c.page_table, stream);
  p.q = d_q.get();
  p.k_cache = d_kc.get();
  p.v_cache = c.v_elems() > 0 ? d_vc.get() : nullptr;
  p.ctx_lens = d_lens.get();
  p.page_table = c.paged ? d_table.get() : nullptr;

  const std::size_t q_rows = std::size_t(c.q_tokens) * std::size_t(c.q_heads);  // per sequence
  const std::size_t rows = std::size_t(c.batch) * q_rows;
  DeviceBuffer<uint16_t> d_o(rows * std::size_t(c.shape.d_v));
  DeviceBuffer<float> d_lse(rows);
  p.o = d_o.get();
  p.lse = d_lse.get();
  r.plan = plan_decode(p, c.ctx_max, 0, choice);
  r.plan.apply_to(p);
  DeviceBuffer<float> d_op(std::size_t(r.plan.o_partial_elems)),
      d_lp(std::size_t(r.plan.lse_partial_elems));
  p.o_partial = d_op.get();
  p.lse_partial = d_lp.get();

  std::vector<uint16_t> o0;
  std::vector<float> lse0;
  for (int rep = 0; rep < repeats; ++rep) {
    poison(d_o, stream);
    poison(d_lse, stream);
    poison(d_op, stream);
    poison(d_lp, stream);
    launch_decode(p, stream, choice);
    ++r.launches;
    std::vector<uint16_t> o = download(d_o, stream);
    std::vector<float> lse = download(d_lse, stream);
    if (rep == 0) {
      o0 = std::move(o);
      lse0 = std::move(lse);
      continue;
    }
    for (std::size_t i = 0; i < o.size(); ++i) r.repeat_mismatches += o[i] != o0[i];
    for (std::size_t i = 0; i < lse.size(); ++i)  // bitwise: NaN == NaN here, and -0 != +0
      r.repeat_mismatches += std::memcmp(&lse[i], &lse0[i], sizeof(float)) != 0;
  }

  // Every row: finite where the sequence has keys, exactly o = 0 and lse = -inf where not.
  const int64_t d_v = c.shape.d_v;
  for (std::size_t row = 0; row < rows; ++row) {
    const bool has_keys = c.lens[row / q_rows] > 0;
    bool ok = has_keys ? std::isfinite(lse0[row]) : (std::isinf(lse0[row]) && lse0[row] < 0);
    for (int64_t e = 0; e < d_v && ok; ++e) {
      const float x = ref::bf16_bits_to_float(o0[row * std::size_t(d_v) + std::size_t(e)]);
      ok = has_keys ? std::isfinite(x) : x == 0.f;
    }
    r.bad_rows += !ok;
  }

  // The checked slice against the float64 reference, as decode_check.cpp judges a grid case.
  stress::CheckedSlice slice = stress::build_checked_slice(c, threads);
  HostDecode h;
  h.p.family = c.shape.family;
  h.p.batch = int32_t(c.checked_seqs.size());
  h.p.q_heads = c.check_heads;
  h.p.kv_heads = 1;
  h.p.q_tokens = c.q_tokens;
  h.p.d_qk = c.shape.d_qk;
  h.p.d_v = c.shape.d_v;
  h.p.softmax_scale = c.softmax_scale;
  h.p.max_ctx_len = slice.rows_per_seq;
  h.q = std::move(slice.q);
  h.k = std::move(slice.k);
  h.v = std::move(slice.v);
  h.lens = std::move(slice.lens);
  h.ctx_max = c.ctx_max;
  h.bind();
  const ref::DecodeOutput ref_out = reference_decode(h.p, threads);
  const EmuOutput emu = emulate_decode_fp32(h.p, threads);
  const std::size_t slice_rows = std::size_t(c.q_tokens) * std::size_t(c.check_heads);
  const std::size_t n_checked = h.lens.size() * slice_rows;
  std::vector<float> got(n_checked * std::size_t(d_v)), got_lse(n_checked);
  std::vector<char> has_keys(n_checked);
  for (std::size_t i = 0; i < h.lens.size(); ++i)
    for (std::size_t tk = 0; tk < slice_rows; ++tk) {  // token tk / check_heads, head tk % ...
      const std::size_t at = i * slice_rows + tk;
      const std::size_t t = tk / std::size_t(c.check_heads), k = tk % std::size_t(c.check_heads);
      const std::size_t row = std::size_t(c.checked_seqs[i]) * q_rows + t * std::size_t(c.q_heads) +
                              std::size_t(c.check_head0) + k;
      for (int64_t e = 0; e < d_v; ++e)
        got[at * std::size_t(d_v) + std::size_t(e)] =
            ref::bf16_bits_to_float(o0[row * std::size_t(d_v) + std::size_t(e)]);
      got_lse[at] = lse0[row];
      has_keys[at] = h.lens[i] > 0;
    }
  r.checked = compare_outputs(got, emu.o, ref_out.o, got_lse, ref_out.lse, has_keys, d_v,
                              GotPrecision::bf16);

  std::vector<std::string> why;
  if (r.repeat_mismatches > 0)
    why.push_back(fmt::format("{} output values differ between identical launches",
                              r.repeat_mismatches));
  if (r.bad_rows > 0)
    why.push_back(fmt::format("{} rows non-finite (or not o = 0, lse = -inf without keys)",
                              r.bad_rows));
  if (!r.checked.passed()) why.push_back("checked slice: " + r.checked.failure());
  for (const std::string& w : why) r.failure += (r.failure.empty() ? "" : "; ") + w;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

nlohmann::json round_json(const StressCase& c, const RoundResult& r) {
  return nlohmann::json{
      {"seed", c.seed},
      {"case", stress::describe(c)},
      {"family", c.shape.family == KernelFamily::separate_kv ? "separate_kv" : "shared_latent"},
      {"d_qk", c.shape.d_qk},
      {"d_v", c.shape.d_v},
      {"q_heads", c.q_heads},
      {"q_tokens", c.q_tokens},
      {"kv_heads", c.kv_heads},
      {"batch", c.batch},
      {"ctx_max", c.ctx_max},
      {"layout", c.paged ? fmt::format("paged{}", c.page_size) : "contiguous"},
      {"cache_bytes", c.cache_bytes()},
      {"page_table_entries", c.page_table.size()},
      {"kernel", r.plan.kernel},
      {"n_splits", r.plan.n_splits},
      {"launches", r.launches},
      {"checked_sequences", c.checked_seqs},
      {"checked_heads", nlohmann::json::array({c.check_head0, c.check_head0 + c.check_heads})},
      {"max_abs_err", r.checked.max_err},
      {"max_excess", r.checked.max_excess},
      {"tolerance", r.checked.tolerance},
      {"max_lse_err", r.checked.max_lse_err},
      {"repeat_mismatches", r.repeat_mismatches},
      {"bad_rows", r.bad_rows},
      {"seconds", r.seconds},
      {"passed", r.failure.empty()},
      {"failure", r.failure},
  };
}

}  // namespace

nlohmann::json run_kernel_stress(const StressOptions& o) {
  if (o.rounds < 1) throw InputError(fmt::format("--stress {}: must be >= 1", o.rounds));
  if (o.repeats < 1 || o.repeats > 100)
    throw InputError(fmt::format("--stress-repeats {}: must be in 1..100", o.repeats));
  if (!(o.max_cache_gb >= 0.1))
    throw InputError(fmt::format("--stress-max-cache-gb {}: must be >= 0.1", o.max_cache_gb));
  if (o.max_q_tokens < 1 || o.max_q_tokens > kMaxQTokens)
    throw InputError(fmt::format("--stress-max-q-tokens {}: must be in 1..{}", o.max_q_tokens,
                                 kMaxQTokens));
  if (!(o.max_seconds >= 0))
    throw InputError(fmt::format("--stress-seconds {}: must be >= 0", o.max_seconds));
  const int threads = check_threads(o.cpu_threads);
  if (!cuda_device_available()) throw CudaError("run_kernel_stress: no CUDA device");
  const uint64_t seed = o.seed.value_or(std::random_device{}());
  cudaDeviceProp prop{};
  ATTNROOF_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::size_t free_bytes = 0, total_bytes = 0;
  ATTNROOF_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  stress::StressLimits limits;
  limits.max_cache_bytes = std::min(o.max_cache_gb * 1e9, 0.8 * double(free_bytes));
  limits.max_q_tokens = o.max_q_tokens;
  const std::vector<DecodeShape> shapes = supported_decode_shapes();

  cudaStream_t stream = nullptr;
  ATTNROOF_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  int64_t n_pass = 0, n_fail = 0, launches = 0;
  double largest = 0;
  nlohmann::json rounds = nlohmann::json::array();
  for (int64_t i = 0; i < o.rounds; ++i) {
    if (o.max_seconds > 0 && elapsed() >= o.max_seconds) break;
    const StressCase c = stress::draw_stress_case(seed + uint64_t(i), shapes, limits);
    RoundResult r;
    try {
      r = run_round(c, o.repeats, threads, o.choice, stream);
    } catch (const CudaError& e) {
      cudaStreamDestroy(stream);  // best effort: the context may be dead
      throw CudaError(fmt::format(
          "stress round {} (seed {}: {}) failed after {} launches: {}; replay it alone: "
          "attnroof validate-kernels --stress 1 --seed {}",
          i, c.seed, stress::describe(c), launches, e.what(), c.seed));
    } catch (const InputError& e) {  // the draw broke a documented kernel limit: our bug
      r.failure = fmt::format("launch_decode refused the drawn case: {}", e.what());
    }
    launches += r.launches;
    largest = std::max(largest, c.cache_bytes());
    (r.failure.empty() ? n_pass : n_fail)++;
    if (o.progress)
      o.progress(fmt::format(
          "S{:<5} {:<4} seed {} {:<62} splits {:>3} x{} checked {}x{} err-u {:.2e} tol {:.2e} "
          "lse {:.1e}{}",
          i, r.failure.empty() ? "ok" : "FAIL", c.seed, stress::describe(c), r.plan.n_splits,
          r.launches, c.checked_seqs.size(), c.check_heads, r.checked.max_excess,
          r.checked.tolerance, r.checked.max_lse_err, r.failure.empty() ? "" : "  <- " + r.failure));
    rounds.push_back(round_json(c, r));
  }
  ATTNROOF_CUDA_CHECK(cudaStreamDestroy(stream));
  return nlohmann::json{
      {"mode", "stress"},
      {"gpu", prop.name},
      {"seed", seed},
      {"rounds_requested", o.rounds},
      {"rounds", rounds.size()},
      {"launches", launches},
      {"passed", n_pass},
      {"failed", n_fail},
      {"seconds", elapsed()},
      {"max_cache_gb", limits.max_cache_bytes / 1e9},
      {"largest_cache_gb", largest / 1e9},
      {"repeats", o.repeats},
      {"tolerance_rule",
       fmt::format("per round: every repeat bitwise equal to the first launch; every output row "
                   "finite where its sequence has keys, o = 0 and lse = -inf where not; the checked "
                   "slice: every element |o-ref| - u(o) <= {} * max|o_emu-ref| + {} (u(o): half a "
                   "bf16 ulp at o), max|lse-ref| <= {}",
                   kToleranceEmuFactor, kToleranceAbs, kToleranceLse)},
      {"round_results", rounds}};
}

}  // namespace attnroof::kernels

// GPU-vs-CPU validation of launch_decode (decode_check.h has the rule; check_support.h the
// reference, emulation and GPU run it uses).
#include "kernels/harness/decode_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "kernels/reference/numerics.h"

namespace attnroof::kernels {

namespace {

// The partial check runs ref::decode_reference_split a second time over the case: skipped
// above this many multiply-adds (the 131072-key cases).
constexpr double kMaxSplitCheckMacs = 2.5e9;

void fill_normal(std::vector<uint16_t>& v, std::size_t begin, std::size_t count, Rng& rng) {
  for (std::size_t i = 0; i < count; ++i) v[begin + i] = ref::float_to_bf16_bits(rng.normal());
}

}  // namespace

std::string describe(const CheckCase& c) {
  return fmt::format("{} hq={} hkv={} batch={} ctx={} {}{}", c.shape, c.q_heads, c.kv_heads,
                     c.batch, c.ctx, c.paged ? fmt::format("paged{}", c.page_size) : "contiguous",
                     c.q_tokens > 1 ? fmt::format(" q_tokens={}", c.q_tokens) : "");
}

std::vector<CheckCase> validation_grid(bool reduced) {
  // Every compiled shape, in the kernel tables' order (separate K/V by head dim, then the latent
  // rows), so a new table row is validated without a line here.
  const std::vector<DecodeShape> shapes = supported_decode_shapes();
  const int32_t hqs[] = {1, 3, 8, 16, 63, 64, 128};
  // KV heads for each h_q, two choices (separate K/V): MHA, MQA and GQA groups 1..128.
  const int32_t kv_a[] = {1, 3, 1, 16, 9, 8, 1};   // g: 1, 1, 8, 1, 7, 8, 128
  const int32_t kv_b[] = {1, 1, 2, 4, 21, 1, 4};   // g: 1, 3, 4, 4, 3, 64, 32
  const int64_t ctxs[] = {0, 1, 3, 63, 64, 65, 1000, 4097, 131072};
  const int32_t batches[] = {1, 3, 17};
  constexpr double kMaxCacheBytes = 1.0e9;  // host + device memory per case
  constexpr double kMaxCpuMacs = 3.0e10;    // CPU reference work per case

  std::vector<CheckCase> out;
  for (std::size_t si = 0; si < shapes.size(); ++si) {
    const DecodeShape& s = shapes[si];
    // A case of this shape: q_heads on kv_heads (the latent family has 1); the caller sets the
    // batch, context and layout.
    const auto shape_case = [&](int32_t q_heads, int32_t kv_heads) {
      CheckCase c{.shape = shape_name(s), .family = s.family, .d_qk = s.d_qk, .d_v = s.d_v,
                  .q_heads = q_heads};
      c.kv_heads = s.family == KernelFamily::shared_latent ? 1 : kv_heads;
      return c;
    };
    const int per_hq = reduced ? 1 : 3;
    for (int i = 0; i < 7; ++i)
      for (int j = 0; j < per_hq; ++j) {
        const int k = i * per_hq + j + (reduced ? int(si) : 0);
        CheckCase c = shape_case(hqs[i], j % 2 == 0 ? kv_a[i] : kv_b[i]);
        // Context index cycles so every h_q meets short, boundary and long contexts.
        int ci = reduced ? k % 8 : (i * 4 + j * 3) % 9;  // reduced: contexts up to 4097
        c.ctx = ctxs[ci];
        c.batch = batches[(k + k / 9) % 3];
        c.paged = k % 2 == 1;
        c.page_size = c.paged ? ((k / 2) % 2 == 0 ? 64 : 128) : 0;
        const double row_bytes =
            2.0 * c.kv_heads * (c.d_qk + (s.family == KernelFamily::separate_kv ? c.d_v : 0));
        auto fits = [&] {
          const double rows = double(c.batch) * double(c.ctx + 3);
          return rows * row_bytes <= kMaxCacheBytes &&
                 rows * double(c.q_heads) * (c.d_qk + c.d_v) <= kMaxCpuMacs;
        };
        if (c.ctx >= 100000) c.batch = 1;  // the longest context runs alone
        while (!fits() && c.batch > 1) c.batch = c.batch == 17 ? 3 : 1;
        while (!fits() && ci > 0) c.ctx = ctxs[--ci];
        out.push_back(c);
      }
    // Speculative decoding: q_tokens new tokens per sequence, causal among them, folded into the
    // kernels' rows. Odd and wide head counts, GQA groups, ragged batches, both layouts; the
    // reduced grid keeps q_tokens 2 and 8.
    {
      const int32_t qts[] = {2, 3, 4, 8};
      const int32_t qt_hq[] = {3, 16, 63, 128};
      const int32_t qt_kv[] = {1, 4, 9, 8};  // separate K/V: groups 3, 4, 7, 16
      const int64_t qt_ctx[] = {65, 1000, 4097, 63};
      const int32_t qt_batch[] = {3, 17, 1, 3};
      for (int i = 0; i < 4; ++i) {
        if (reduced && (i == 1 || i == 2)) continue;
        const int k = i + int(si);
        CheckCase c = shape_case(qt_hq[k % 4], qt_kv[k % 4]);
        c.batch = qt_batch[i];
        c.ctx = qt_ctx[i];
        c.q_tokens = qts[i];
        c.paged = k % 2 == 1;
        c.page_size = c.paged ? (k % 4 == 1 ? 64 : 128) : 0;
        out.push_back(c);
      }
    }
    if (s.family == KernelFamily::separate_kv) {  // a group of 32 rows: the 32-row tile plans
      CheckCase c = shape_case(32, 1);
      c.batch = 3;
      c.ctx = 1000;
      out.push_back(c);
    }
    if (!reduced) {  // the widest head count at long contexts, ragged and paged
      CheckCase wide = shape_case(128, 8);
      wide.batch = 3;
      wide.ctx = 4097;
      wide.paged = true;
      wide.page_size = 64;
      out.push_back(wide);
      if (s.family == KernelFamily::shared_latent) {
        wide.batch = 1;
        wide.ctx = 131072;
        wide.page_size = 128;
        out.push_back(wide);
      }
    }
  }
  return out;
}

namespace {

HostDecode make_host_case(const CheckCase& c, Rng& rng) {
  HostDecode h;
  h.ctx_max = c.ctx;
  DecodeParams& p = h.p;
  p.family = c.family;
  p.batch = c.batch;
  p.q_heads = c.q_heads;
  p.kv_heads = c.kv_heads;
  p.q_tokens = c.q_tokens;
  p.d_qk = c.d_qk;
  p.d_v = c.d_v;
  // 1/sqrt(192) for the latent shapes (MLA's tau, docs/variants.md "MLA"), 1/sqrt(d) otherwise.
  p.softmax_scale = static_cast<float>(
      1.0 / std::sqrt(c.family == KernelFamily::shared_latent ? 192.0 : double(c.d_qk)));

  h.lens.resize(static_cast<std::size_t>(c.batch));
  h.lens[0] = static_cast<int32_t>(c.ctx);
  for (int b = 1; b < c.batch; ++b) {
    // 0 (an empty slot) or at least q_tokens keys (fewer is an input error).
    const int64_t len = int64_t(rng.next() % uint64_t(c.ctx + 1));
    h.lens[std::size_t(b)] = static_cast<int32_t>(len == 0 ? 0 : std::max<int64_t>(len, c.q_tokens));
  }

  const int64_t k_row = int64_t(c.kv_heads) * c.d_qk;
  const int64_t v_row = c.family == KernelFamily::separate_kv ? int64_t(c.kv_heads) * c.d_v : 0;
  const int64_t slack = 3;  // NaN rows past the longest sequence too
  const int64_t rows = c.paged ? h.lay_out_shuffled_pages(c.page_size, c.ctx + slack, rng.next())
                               : h.lay_out_contiguous(c.ctx + slack);
  h.q.resize(std::size_t(c.batch) * c.q_tokens * c.q_heads * c.d_qk);
  fill_normal(h.q, 0, h.q.size(), rng);
  h.k.assign(std::size_t(rows * k_row), kBf16NaN);
  h.v.assign(std::size_t(rows * v_row), kBf16NaN);
  for (int b = 0; b < c.batch; ++b) {
    for (int64_t pos = 0; pos < h.lens[std::size_t(b)]; ++pos) {
      const int64_t row = h.cache_row(b, pos);
      fill_normal(h.k, std::size_t(row * k_row), std::size_t(k_row), rng);
      if (v_row > 0) fill_normal(h.v, std::size_t(row * v_row), std::size_t(v_row), rng);
    }
  }
  h.bind();
  return h;
}

}  // namespace

CheckResult run_check(const CheckCase& c, uint64_t seed, int cpu_threads, const KernelChoice& choice) {
  CheckResult r;
  r.c = c;
  r.seed = seed;
  Rng rng{seed};
  HostDecode h = make_host_case(c, rng);
  r.ctx_lens = h.lens;
  const GpuDecodeResult g = run_decode_on_gpu(h, choice);
  r.plan = g.plan;
  r.gpu_ms = g.gpu_ms;
  g.plan.apply_to(h.p);

  const auto t0 = std::chrono::steady_clock::now();
  const ref::DecodeOutput ref_out = reference_decode(h.p, cpu_threads);
  const EmuOutput emu = emulate_decode_fp32(h.p, cpu_threads);
  std::vector<float> o(g.o.size());
  std::transform(g.o.begin(), g.o.end(), o.begin(), ref::bf16_bits_to_float);
  // Row (b, token j, head) has keys unless its sequence is empty (with ctx >= q_tokens, token j
  // sees ctx - q_tokens + 1 + j >= 1 keys).
  const std::size_t q_rows = std::size_t(c.q_tokens) * std::size_t(c.q_heads);
  std::vector<char> has_keys(std::size_t(c.batch) * q_rows);
  for (std::size_t i = 0; i < has_keys.size(); ++i) has_keys[i] = h.lens[i / q_rows] > 0;
  r.out = compare_outputs(o, emu.o, ref_out.o, g.lse, ref_out.lse, has_keys, c.d_v,
                          GotPrecision::bf16);

  const double macs = double(c.batch) * double(c.ctx) * c.q_tokens * c.q_heads * (c.d_qk + c.d_v);
  r.partials_checked = h.p.n_splits > 1 && macs <= kMaxSplitCheckMacs;
  if (r.partials_checked) {
    const ref::SplitOutput split = reference_split(h.p, cpu_threads);
    std::vector<char> split_has_keys(split.lse_partial.size());
    for (std::size_t i = 0; i < split_has_keys.size(); ++i)
      split_has_keys[i] = std::isfinite(split.lse_partial[i]);
    r.partials = compare_outputs(g.o_partial, emu.o_partial, split.o_partial, g.lse_partial,
                                 split.lse_partial, split_has_keys, c.d_v, GotPrecision::fp32);
  }
  r.cpu_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.failure = r.out.failure();
  if (r.partials_checked && !r.partials.passed())
    r.failure += (r.failure.empty() ? "partials: " : "; partials: ") + r.partials.failure();
  r.passed = r.failure.empty();
  return r;
}

namespace {

nlohmann::json errors_json(const OutputErrors& e) {
  return nlohmann::json{{"max_abs_err", e.max_err},   {"max_excess", e.max_excess},
                        {"emu_err_E", e.emu_err},
                        {"tolerance", e.tolerance},   {"max_lse_err", e.max_lse_err},
                        {"rel_l2", e.rel_l2},         {"non_finite", e.non_finite},
                        {"non_finite_ref", e.non_finite_ref}, {"empty_ok", e.empty_ok},
                        {"passed", e.passed()}};
}

}  // namespace

nlohmann::json check_result_json(const CheckResult& r) {
  const CheckCase& c = r.c;
  return nlohmann::json{
      {"case", describe(c)},
      {"shape", c.shape},
      {"family", c.family == KernelFamily::separate_kv ? "separate_kv" : "shared_latent"},
      {"d_qk", c.d_qk},
      {"d_v", c.d_v},
      {"q_heads", c.q_heads},
      {"kv_heads", c.kv_heads},
      {"q_tokens", c.q_tokens},
      {"batch", c.batch},
      {"ctx_max", c.ctx},
      {"ctx_lens", r.ctx_lens.size() <= 17 ? nlohmann::json(r.ctx_lens) : nlohmann::json("...")},
      {"layout", c.paged ? fmt::format("paged{}", c.page_size) : "contiguous"},
      {"seed", r.seed},
      {"kernel", r.plan.kernel},
      {"alternative", r.plan.alternative},
      {"n_splits", r.plan.n_splits},
      {"split_len", r.plan.split_len},
      {"max_abs_err", r.out.max_err},
      {"max_excess", r.out.max_excess},
      {"emu_err_E", r.out.emu_err},
      {"tolerance", r.out.tolerance},
      {"max_lse_err", r.out.max_lse_err},
      {"rel_l2", r.out.rel_l2},
      {"non_finite", r.out.non_finite},
      {"non_finite_ref", r.out.non_finite_ref},
      {"empty_ok", r.out.empty_ok},
      {"partials", r.partials_checked ? errors_json(r.partials) : nlohmann::json("not checked")},
      {"cpu_s", r.cpu_s},
      {"gpu_ms", r.gpu_ms},
      {"passed", r.passed},
      {"failure", r.failure},
  };
}

}  // namespace attnroof::kernels

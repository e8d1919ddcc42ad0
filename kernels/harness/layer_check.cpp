// The whole-MLRA-4-layer check (layer_check.h has the math and the rule).
#include "kernels/harness/layer_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

#include "kernels/harness/reference_layer.h"
#include "kernels/reference/config.h"
#include "kernels/reference/latent_layout.h"
#include "kernels/reference/numerics.h"
#include "model/json_reader.h"

namespace attnroof::kernels {

namespace {

using ref::Mat;
using ref::Row;

constexpr int64_t kBlocks = 4;  // MLRA-4: four latent blocks, each serving every head

struct LayerShape {
  int64_t h, dn, dr, dv, db;  // heads, d_nope, d_rope, d_v, d_block
};

// The float64 finish: y_i = out_scale sum_b z_{b,i} W^UV_{b,i};  out = y W^O.
Row finish(const std::array<Mat, kBlocks>& z, const ref::Weights& w, const LayerShape& s,
           double out_scale) {
  Row y = Row::Zero(s.h * s.dv);
  for (int64_t b = 0; b < kBlocks; ++b) {
    const Mat& w_ukv = w.at(fmt::format("w_ukv.{}", b));
    for (int64_t i = 0; i < s.h; ++i)
      y.segment(i * s.dv, s.dv) +=
          out_scale * (z[std::size_t(b)].row(i) * w_ukv.middleCols(i * (s.dn + s.dv) + s.dn, s.dv));
  }
  return y * w.at("wo");
}

// Lays the bf16 rows out as a kernel cache (contiguous, or shuffled pages with an all-NaN page
// behind every unused entry), NaN past the length.
HostDecode make_branch(const LayerCheckCase& c, const LatentCallInputs& in, const LayerShape& s,
                       double tau, uint64_t page_seed) {
  HostDecode h;
  h.ctx_max = c.ctx;
  DecodeParams& p = h.p;
  p.family = KernelFamily::shared_latent;
  p.batch = 1;
  p.q_heads = static_cast<int32_t>(s.h);
  p.kv_heads = 1;
  p.d_qk = static_cast<int32_t>(s.db + s.dr);
  p.d_v = static_cast<int32_t>(s.db);
  p.softmax_scale = static_cast<float>(tau);
  const int64_t width = s.db + s.dr, slack = 3;
  h.lens = {static_cast<int32_t>(c.ctx)};
  const int64_t n_rows = c.paged ? h.lay_out_shuffled_pages(c.page_size, c.ctx + slack, page_seed)
                                 : h.lay_out_contiguous(c.ctx + slack);
  h.k.assign(std::size_t(n_rows * width), kBf16NaN);
  for (int64_t t = 0; t < c.ctx; ++t)
    for (int64_t d = 0; d < width; ++d)
      h.k[std::size_t(h.cache_row(0, t) * width + d)] =
          ref::float_to_bf16_bits(static_cast<float>(in.rows(t, d)));
  h.q.resize(std::size_t(s.h * width));
  for (int64_t i = 0; i < s.h; ++i)
    for (int64_t d = 0; d < width; ++d)
      h.q[std::size_t(i * width + d)] = ref::float_to_bf16_bits(static_cast<float>(in.q(i, d)));
  h.bind();
  return h;
}

Mat to_mat(const std::vector<float>& v, int64_t rows, int64_t cols) {
  Mat m(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) m.data()[i] = double(v[std::size_t(i)]);
  return m;
}

}  // namespace

std::string describe_layer(const LayerCheckCase& c) {
  return fmt::format("mlra4 layer hq={} d_model={} ctx={} {}", c.q_heads, c.d_model, c.ctx,
                     c.paged ? fmt::format("paged{}", c.page_size) : "contiguous");
}

std::vector<LayerCheckCase> layer_check_grid(bool reduced) {
  if (reduced) return {LayerCheckCase{.ctx = 777, .paged = true, .page_size = 64}};
  return {
      LayerCheckCase{.ctx = 1, .paged = false, .page_size = 0},
      LayerCheckCase{.ctx = 1000, .paged = false, .page_size = 0},
      LayerCheckCase{.ctx = 4097, .paged = true, .page_size = 64},
      LayerCheckCase{.ctx = 32768, .paged = true, .page_size = 64},
  };
}

LayerCheckResult run_layer_check(const LayerCheckCase& c, uint64_t seed, int cpu_threads) {
  const auto t_start = std::chrono::steady_clock::now();
  LayerCheckResult r;
  r.c = c;
  r.seed = seed;
  const nlohmann::json config = {{"d_model", c.d_model}, {"q_heads", c.q_heads},
                                 {"d_q_latent", c.d_q_latent}, {"d_latent", 512},
                                 {"d_rope", 64}, {"d_nope", 128}, {"d_v", 128},
                                 {"out_proj", "replicated"}};
  const ref::RefConfig cfg =
      ref::parse_ref_config(ref::VariantId::mlra4, config, model::JsonSource{"mlra4 layer check"});
  // The reference's layer over ctx random tokens and its absorbed decode of the last one.
  const ReferenceLayer l = make_reference_layer(cfg, c.ctx, seed);
  const ref::Weights& w = l.w;
  const Row& out_ref = l.out_ref;
  const ref::LatentLayout layout = ref::latent_layout(cfg);
  const LayerShape s{cfg.q_heads, cfg.d_nope, cfg.d_rope, cfg.d_v, cfg.d_block()};
  const double tau = 1.0 / std::sqrt(double(s.dn + s.dr));
  const Mat q = latent_queries(l, layout);

  std::array<Mat, kBlocks> z_gpu, z_emu, z_f64;
  for (int64_t b = 0; b < kBlocks; ++b) {
    const LatentCallInputs in = latent_call_inputs(l, layout, q, b, 0, s.h);
    z_f64[std::size_t(b)] = attend_f64(in.q, in.rows, in.rows.leftCols(s.db), tau);

    HostDecode h = make_branch(c, in, s, tau, seed + 100 + uint64_t(b));
    const GpuDecodeResult g = run_decode_on_gpu(h);
    g.plan.apply_to(h.p);
    const ref::DecodeOutput ref_out = reference_decode(h.p, cpu_threads);
    const EmuOutput emu = emulate_decode_fp32(h.p, cpu_threads);
    std::vector<float> o(g.o.size());
    std::transform(g.o.begin(), g.o.end(), o.begin(), ref::bf16_bits_to_float);
    const std::vector<char> has_keys(std::size_t(s.h), c.ctx > 0);
    r.branches.push_back(BranchCheck{
        g.plan, compare_outputs(o, emu.o, ref_out.o, g.lse, ref_out.lse, has_keys, s.db,
                                 GotPrecision::bf16)});
    z_gpu[std::size_t(b)] = to_mat(o, s.h, s.db);
    z_emu[std::size_t(b)] = to_mat(emu.o, s.h, s.db);
  }

  const Row out_gpu = finish(z_gpu, w, s, layout.out_scale);
  const Row out_emu = finish(z_emu, w, s, layout.out_scale);
  const Row out_f64 = finish(z_f64, w, s, layout.out_scale);
  r.ref_max_abs = out_ref.cwiseAbs().maxCoeff();
  for (Eigen::Index i = 0; i < out_ref.size(); ++i)
    if (!std::isfinite(out_gpu(i))) ++r.non_finite;
  r.max_err = (out_gpu - out_ref).cwiseAbs().maxCoeff();
  r.emu_err = (out_emu - out_ref).cwiseAbs().maxCoeff();
  r.tolerance = kToleranceEmuFactor * r.emu_err + kToleranceAbs;
  r.rel_err = r.ref_max_abs > 0 ? r.max_err / r.ref_max_abs : r.max_err;
  r.harness_rel_err = (out_f64 - out_ref).cwiseAbs().maxCoeff() / std::max(r.ref_max_abs, 1e-300);

  std::vector<std::string> why;
  if (r.non_finite > 0) why.push_back(fmt::format("{} non-finite outputs", r.non_finite));
  if (!(r.max_err <= r.tolerance))
    why.push_back(fmt::format("max |out - ref| = {:.3g} > 2 E + 1e-5 = {:.3g}", r.max_err, r.tolerance));
  if (!(r.harness_rel_err <= kLayerHarnessTol))
    why.push_back(fmt::format("harness: float64 finish vs reference {:.3g} > {:.0e} (q̃ or cache "
                              "prepared wrongly)", r.harness_rel_err, kLayerHarnessTol));
  for (std::size_t b = 0; b < r.branches.size(); ++b)
    if (!r.branches[b].out.passed())
      why.push_back(fmt::format("branch {}: {}", b, r.branches[b].out.failure()));
  for (const auto& reason : why) r.failure += (r.failure.empty() ? "" : "; ") + reason;
  r.passed = why.empty();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return r;
}

nlohmann::json layer_check_json(const LayerCheckResult& r) {
  nlohmann::json branches = nlohmann::json::array();
  for (const BranchCheck& b : r.branches)
    branches.push_back({{"kernel", b.plan.kernel},
                        {"n_splits", b.plan.n_splits},
                        {"max_abs_err", b.out.max_err},
                        {"max_excess", b.out.max_excess},
                        {"emu_err_E", b.out.emu_err},
                        {"tolerance", b.out.tolerance},
                        {"max_lse_err", b.out.max_lse_err},
                        {"passed", b.out.passed()}});
  return nlohmann::json{{"case", describe_layer(r.c)},
                        {"seed", r.seed},
                        {"ctx", r.c.ctx},
                        {"q_heads", r.c.q_heads},
                        {"d_model", r.c.d_model},
                        {"layout", r.c.paged ? fmt::format("paged{}", r.c.page_size) : "contiguous"},
                        {"max_abs_err", r.max_err},
                        {"emu_err_E", r.emu_err},
                        {"tolerance", r.tolerance},
                        {"ref_max_abs", r.ref_max_abs},
                        {"rel_err", r.rel_err},
                        {"harness_rel_err", r.harness_rel_err},
                        {"non_finite", r.non_finite},
                        {"branches", branches},
                        {"passed", r.passed},
                        {"failure", r.failure},
                        {"seconds", r.seconds}};
}

}  // namespace attnroof::kernels

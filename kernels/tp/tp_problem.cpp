// The TP decode step's host side: shards, kernel inputs, the finish and the rule (tp_problem.h).
#include "kernels/tp/tp_problem.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "kernels/harness/reference_layer.h"
#include "kernels/reference/latent_layout.h"
#include "kernels/reference/model.h"
#include "model/attention_options.h"
#include "model/decode_cases.h"
#include "model/error.h"
#include "model/json_reader.h"
#include "model/presets.h"

namespace attnroof::kernels::tp {

using ref::Mat;
using ref::Row;

struct VariantSetup {
  ReferenceLayer l;
  ref::LatentLayout layout;  // latent family only
  Mat q;  // [1, heads * width]: RoPE applied (GQA: width d_head; latent d_n + d_R)
};

std::string variant_name(TpVariant v) {
  switch (v) {
    case TpVariant::gqa:
      return "gqa";
    case TpVariant::mla:
      return "mla";
    case TpVariant::gla2:
      return "gla2";
    case TpVariant::mlra4:
      return "mlra4";
  }
  return "?";
}

std::string describe_tp_case(const TpCase& c) {
  std::string s = fmt::format("{} tp{}", variant_name(c.variant), c.tp);
  if (c.variant == TpVariant::mlra4)
    s += fmt::format(" out_proj={}", model::to_string(c.out_proj));
  return s + fmt::format(" ctx={} d_model={}", c.ctx, c.d_model);
}

// The decode case whose preset gives the variant's head shapes (model/decode_cases.h); the TP
// step shards it at its own degrees, not the case's.
const model::DecodeCase& variant_case(TpVariant v) {
  switch (v) {
    case TpVariant::gqa:
      return model::find_decode_case("gqa_tp8", "tp variant");
    case TpVariant::mla:
      return model::find_decode_case("mla", "tp variant");
    case TpVariant::gla2:
      return model::find_decode_case("gla2_tp2", "tp variant");
    case TpVariant::mlra4:
      return model::find_decode_case("mlra4_tp4", "tp variant");
  }
  throw std::logic_error("variant_case: unknown TpVariant");
}

std::shared_ptr<VariantSetup> make_variant_setup(const TpCase& c) {
  auto s = std::make_shared<VariantSetup>();
  const model::Preset& preset = model::find_preset(variant_case(c.variant).preset, "tp variant");
  // The preset's head shapes; d_model and d_q_latent only size the projections the step prices
  // (TpCase), and MLRA-4's W^O layout is the case's.
  nlohmann::json config = preset.config;
  config["d_model"] = c.d_model;
  if (config.contains("d_q_latent")) config["d_q_latent"] = c.d_q_latent;
  if (c.variant == TpVariant::mlra4)
    config["out_proj"] = model::to_string(c.out_proj);
  const ref::VariantId id = preset.variant_id;
  s->l = make_reference_layer(
      ref::parse_ref_config(id, config, model::JsonSource{"tp decode step"}), c.ctx, c.seed);
  const ReferenceLayer& l = s->l;
  if (c.variant == TpVariant::gqa) {  // headed_kv.cpp queries(): x W^Q, RoPE on every head
    const std::array<int64_t, 1> at = {l.pos};
    s->q = Mat(l.x.row(l.pos)) * l.w.at("wq");
    ref::apply_rope<double>(s->q, at, 0, l.cfg.d_head, l.cfg.q_heads, l.cfg.d_head,
                            ref::RopeMode::float64);
  } else {
    s->layout = ref::latent_layout(l.cfg);
    s->q = latent_queries(l, s->layout);
  }
  return s;
}

namespace {

template <class... A>
void require(bool ok, fmt::format_string<A...> f, A&&... a) {
  if (!ok) throw InputError(fmt::format(f, std::forward<A>(a)...));
}

std::vector<uint16_t> to_bf16(const Mat& m) {
  std::vector<uint16_t> v(std::size_t(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i)
    v[std::size_t(i)] = ref::float_to_bf16_bits(static_cast<float>(m.data()[i]));
  return v;
}

// A contiguous batch-1 cache of ctx rows: k rows (and v rows for separate_kv), bf16.
HostDecode make_decode(const Mat& q, const Mat& k_rows, const Mat* v_rows, KernelFamily family,
                       int64_t kv_heads, int64_t d_qk, int64_t d_v, double tau, int64_t ctx) {
  HostDecode h;
  h.ctx_max = ctx;
  DecodeParams& p = h.p;
  p.family = family;
  p.batch = 1;
  p.q_heads = static_cast<int32_t>(q.rows());
  p.kv_heads = static_cast<int32_t>(kv_heads);
  p.d_qk = static_cast<int32_t>(d_qk);
  p.d_v = static_cast<int32_t>(d_v);
  p.softmax_scale = static_cast<float>(tau);
  p.max_ctx_len = ctx;
  h.lens = {static_cast<int32_t>(ctx)};
  h.q = to_bf16(q);
  h.k = to_bf16(k_rows);
  if (v_rows != nullptr) h.v = to_bf16(*v_rows);
  h.bind();
  return h;
}

// y (all heads, [heads * d_v]) += out_scale z_i W^UV_i for every call of every rank.
Row finish_y(const TpProblem& p, const std::vector<std::vector<Mat>>& z) {
  Row y = Row::Zero(p.heads * p.d_v);
  for (std::size_t r = 0; r < p.ranks.size(); ++r) {
    for (std::size_t k = 0; k < p.ranks[r].calls.size(); ++k) {
      const TpCall& call = p.ranks[r].calls[k];
      const Mat& zk = z[r][k];
      const int64_t nh = call.head_hi - call.head_lo;
      for (int64_t j = 0; j < nh; ++j) {
        auto seg = y.segment((call.head_lo + j) * p.d_v, p.d_v);
        if (call.w_uv.empty()) {
          seg += p.out_scale * zk.row(j);
          continue;
        }
        Mat wuv(call.d_att, p.d_v);
        for (int64_t e = 0; e < call.d_att * p.d_v; ++e) {
          const uint16_t bits = call.w_uv[std::size_t(j * call.d_att * p.d_v + e)];
          wuv.data()[e] = double(ref::bf16_bits_to_float(bits));
        }
        seg += p.out_scale * (zk.row(j) * wuv);
      }
    }
  }
  return y;
}

// The full W^O from the ranks' bf16 rows (each head's rows are held by some rank).
Mat wo_bf16(const TpProblem& p) {
  Mat wo = Mat::Zero(p.heads * p.d_v, p.d_model);
  for (const TpRank& rk : p.ranks) {
    for (int64_t row = 0; row < (rk.wo_hi - rk.wo_lo) * p.d_v; ++row)
      for (int64_t col = 0; col < p.d_model; ++col)
        wo(rk.wo_lo * p.d_v + row, col) =
            double(ref::bf16_bits_to_float(rk.wo[std::size_t(row * p.d_model + col)]));
  }
  return wo;
}

}  // namespace

std::vector<float> output_without_last_rank(const TpProblem& p) {
  std::vector<std::vector<Mat>> z(p.ranks.size());
  for (std::size_t k = 0; k < p.ranks.size(); ++k)
    for (const TpCall& call : p.ranks[k].calls)
      z[k].push_back(k + 1 == p.ranks.size() ? Mat(Mat::Zero(call.z_f64.rows(), call.z_f64.cols()))
                                             : call.z_f64);
  const Row out = finish_y(p, z) * wo_bf16(p);
  std::vector<float> v(std::size_t(out.size()));
  for (Eigen::Index i = 0; i < out.size(); ++i) v[std::size_t(i)] = static_cast<float>(out(i));
  return v;
}

TpProblem make_tp_problem(const VariantSetup& s, const TpCase& c) {
  const ReferenceLayer& l = s.l;
  const ref::RefConfig& g = l.cfg;
  TpProblem p;
  p.c = c;
  p.heads = g.q_heads;
  p.d_model = g.d_model;
  const int64_t t = c.tp, h = g.q_heads;
  require(t >= 1 && h % t == 0, "tp = {} must divide q_heads = {}", t, h);
  // The shards are the reference's (RefModel::shard): each rank's query heads, latent blocks
  // (the blocks its cache holds) and W^O rows.
  const std::vector<std::string> problems = l.m->check_tp(t);
  require(problems.empty(), "{} TP {}: {}", g.label(), t, fmt::join(problems, "; "));
  const std::vector<ref::Device<double>> devices = l.m->shard(t);
  p.label = fmt::format("{} TP{}", g.label(), t);
  for (const ref::Device<double>& d : devices) {
    TpRank rk;
    const std::vector<int64_t>& heads = d.model->head_ids();  // ascending
    rk.y_lo = heads.front();
    rk.y_hi = heads.back() + 1;
    require(rk.y_hi - rk.y_lo == int64_t(heads.size()),
            "{} TP {}: a rank's query heads are not consecutive", g.label(), t);
    p.ranks.push_back(std::move(rk));
  }
  if (c.variant == TpVariant::gqa) {
    const int64_t dh = g.d_head, g_size = h / g.kv_heads;
    require(t <= g.kv_heads ? g.kv_heads % t == 0 : t % g.kv_heads == 0,
            "GQA TP {}: needs h_kv | t or t | h_kv (h_kv = {})", t, g.kv_heads);
    p.d_v = dh;
    p.out_scale = 1;
    const double tau = 1.0 / std::sqrt(double(dh));
    for (TpRank& rk : p.ranks) {
      const int64_t lo = rk.y_lo, hi = rk.y_hi;
      const int64_t kv_lo = lo / g_size, kv_hi = (hi - 1) / g_size + 1;
      TpCall call;
      call.head_lo = lo;
      call.head_hi = hi;
      call.d_att = dh;
      const Mat q = s.q.middleCols(lo * dh, (hi - lo) * dh).reshaped<Eigen::RowMajor>(hi - lo, dh);
      const Mat k = l.cache.part(0).middleCols(kv_lo * dh, (kv_hi - kv_lo) * dh);
      const Mat v = l.cache.part(1).middleCols(kv_lo * dh, (kv_hi - kv_lo) * dh);
      call.h = make_decode(q, k, &v, KernelFamily::separate_kv, kv_hi - kv_lo, dh, dh, tau, c.ctx);
      call.z_f64.resize(hi - lo, dh);
      for (int64_t i = lo; i < hi; ++i) {
        const int64_t j = i / g_size - kv_lo;
        call.z_f64.row(i - lo) =
            attend_f64(q.row(i - lo), k.middleCols(j * dh, dh), v.middleCols(j * dh, dh), tau);
      }
      rk.calls.push_back(std::move(call));
    }
  } else {
    const int64_t dn = g.d_nope, dr = g.d_rope, dv = g.d_v, db = g.d_block(), nb = g.n_blocks;
    p.d_v = dv;
    p.out_scale = s.layout.out_scale;
    const double tau = 1.0 / std::sqrt(double(dn + dr));
    for (std::size_t r = 0; r < devices.size(); ++r) {
      TpRank& rk = p.ranks[r];
      // One call per block the rank caches (its cache part "latent.<b>"), for the rank's heads
      // the block serves.
      const std::vector<std::string> parts = devices[r].model->new_cache().names;
      std::vector<std::array<int64_t, 3>> shards;  // block, head lo, head hi
      for (int64_t b = 0; b < nb; ++b) {
        if (std::find(parts.begin(), parts.end(), fmt::format("latent.{}", b)) == parts.end())
          continue;
        const ref::HeadRange& hr = s.layout.block_heads[std::size_t(b)];
        shards.push_back({b, std::max(hr.lo, rk.y_lo), std::min(hr.hi, rk.y_hi)});
      }
      for (const auto& [b, lo, hi] : shards) {
        const Mat& w_ukv = l.w.at(fmt::format("w_ukv.{}", b));
        const int64_t first = s.layout.block_heads[std::size_t(b)].lo;
        TpCall call;
        call.block = static_cast<int32_t>(b);
        call.head_lo = lo;
        call.head_hi = hi;
        call.d_att = db;
        const LatentCallInputs in = latent_call_inputs(l, s.layout, s.q, b, lo, hi);
        Mat wuv((hi - lo) * db, dv);
        for (int64_t i = lo; i < hi; ++i) {
          const int64_t j = i - first;  // the head's columns within w_ukv.b
          wuv.middleRows((i - lo) * db, db) = w_ukv.middleCols(j * (dn + dv) + dn, dv);
        }
        call.z_f64 = attend_f64(in.q, in.rows, in.rows.leftCols(db), tau);
        call.h = make_decode(in.q, in.rows, nullptr, KernelFamily::shared_latent, 1, db + dr, db, tau,
                             c.ctx);
        call.w_uv = to_bf16(wuv);
        rk.calls.push_back(std::move(call));
      }
    }
  }
  // W^O: the rows of the heads of the rank's y, or with out_proj = sharded the rows of the heads
  // the rank owns after the reduce-scatter.
  const bool sharded = g.out_proj == ref::OutProj::sharded;
  for (std::size_t r = 0; r < devices.size(); ++r) {
    TpRank& rk = p.ranks[r];
    const ref::Device<double>& d = devices[r];
    if (sharded) {
      require(rk.y_lo == 0 && rk.y_hi == h,
              "out_proj = sharded needs every rank's y over all heads (MLRA-4, t <= 4)");
      rk.wo_lo = d.owned_heads.front();
      rk.wo_hi = d.owned_heads.back() + 1;
      rk.wo = to_bf16(d.wo_owned);
    } else {
      rk.wo_lo = rk.y_lo;
      rk.wo_hi = rk.y_hi;
      rk.wo = to_bf16(d.model->wo());
    }
  }
  for (TpRank& rk : p.ranks) {
    int64_t elems = int64_t(rk.wo.size());
    for (const TpCall& call : rk.calls) elems += int64_t(call.w_uv.size());
    p.weight_elems.push_back(elems);
  }
  // The harness: float64 finish over float64 attention with the exact weights.
  Row y = Row::Zero(h * p.d_v);
  for (const TpRank& rk : p.ranks) {
    for (const TpCall& call : rk.calls) {
      for (int64_t i = call.head_lo; i < call.head_hi; ++i) {
        auto seg = y.segment(i * p.d_v, p.d_v);
        if (call.block < 0) {
          seg += p.out_scale * call.z_f64.row(i - call.head_lo);
        } else {
          const Mat& w_ukv = l.w.at(fmt::format("w_ukv.{}", call.block));
          const int64_t j = i - s.layout.block_heads[std::size_t(call.block)].lo;
          seg += p.out_scale * (call.z_f64.row(i - call.head_lo) *
                                w_ukv.middleCols(j * (g.d_nope + p.d_v) + g.d_nope, p.d_v));
        }
      }
    }
  }
  p.out_ref = l.out_ref;
  p.out_f64 = y * l.w.at("wo");
  p.harness_rel_err = (p.out_f64 - p.out_ref).cwiseAbs().maxCoeff() /
                      std::max(p.out_ref.cwiseAbs().maxCoeff(), 1e-300);
  return p;
}

TpCheck check_tp_output(const TpProblem& p, const std::vector<float>& got, int cpu_threads) {
  TpCheck r;
  std::vector<std::vector<Mat>> z_emu(p.ranks.size());
  for (std::size_t k = 0; k < p.ranks.size(); ++k) {
    for (const TpCall& call : p.ranks[k].calls) {
      HostDecode h = call.h;
      h.bind();
      const EmuOutput emu = emulate_decode_fp32(h.p, cpu_threads);
      Mat z(call.head_hi - call.head_lo, call.d_att);
      for (Eigen::Index i = 0; i < z.size(); ++i) z.data()[i] = double(emu.o[std::size_t(i)]);
      z_emu[k].push_back(std::move(z));
    }
  }
  // The device finish: bf16 W^UV (uploaded bits) and bf16 W^O, fp32 sums; emulated in float64.
  const Row out_emu = finish_y(p, z_emu) * wo_bf16(p);
  r.ref_max_abs = p.out_ref.cwiseAbs().maxCoeff();
  require(int64_t(got.size()) == p.d_model, "output has {} elements, expected {}", got.size(),
          p.d_model);
  for (Eigen::Index i = 0; i < p.out_ref.size(); ++i) {
    const float v = got[std::size_t(i)];
    if (!std::isfinite(v)) {
      ++r.non_finite;
      continue;
    }
    r.max_err = std::max(r.max_err, std::abs(double(v) - p.out_ref(i)));
  }
  r.emu_err = (out_emu - p.out_ref).cwiseAbs().maxCoeff();
  r.tolerance = kToleranceEmuFactor * r.emu_err + kToleranceAbs;
  r.rel_err = r.ref_max_abs > 0 ? r.max_err / r.ref_max_abs : r.max_err;
  r.harness_rel_err = p.harness_rel_err;
  std::vector<std::string> why;
  if (r.non_finite > 0) why.push_back(fmt::format("{} non-finite outputs", r.non_finite));
  if (!(r.max_err <= r.tolerance))
    why.push_back(
        fmt::format("max |out - ref| = {:.3g} > 2 E + 1e-5 = {:.3g}", r.max_err, r.tolerance));
  // E itself must be bf16-sized: a layout error in the bf16 inputs would make the emulation (and
  // the device) wrong alike and inflate the tolerance; observed E is 0.4-0.7% of max |ref|.
  if (!(r.emu_err <= kEmuSanityRel * r.ref_max_abs))
    why.push_back(fmt::format("emulation: E = {:.3g} > {} max |ref| = {:.3g} (bf16 inputs laid out "
                              "wrongly?)",
                              r.emu_err, kEmuSanityRel, kEmuSanityRel * r.ref_max_abs));
  if (!(r.harness_rel_err <= 1e-9))
    why.push_back(
        fmt::format("harness: float64 TP finish vs single-device reference {:.3g} > 1e-9 "
                    "(a shard is wrong)",
                    r.harness_rel_err));
  for (const auto& reason : why) r.failure += (r.failure.empty() ? "" : "; ") + reason;
  r.passed = why.empty();
  return r;
}

}  // namespace attnroof::kernels::tp

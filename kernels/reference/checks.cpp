#include "kernels/reference/checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "model/registry.h"

namespace attnroof::ref {

nlohmann::json CheckResult::to_json() const {
  return {{"variant", variant},         {"check", check},
          {"max_abs_err", max_abs_err}, {"max_rel_err", max_rel_err},
          {"tol", tol},                 {"expect_violation", expect_violation},
          {"applicable", applicable},   {"pass", pass},
          {"detail", detail}};
}

nlohmann::json PrecisionRow::to_json() const {
  return {{"variant", variant}, {"arithmetic", arithmetic}, {"rope", rope}, {"shift", shift},
          {"e1_rel", e1_rel},   {"e2_rel", e2_rel},         {"vs_f64_rel", vs_f64_rel}};
}

nlohmann::json LrkvFinding::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const Component& c : components) {
    rows.push_back({{"reading", c.reading}, {"component", c.component}, {"shift", c.shift},
                    {"max_rel_err", c.max_rel_err}, {"relative", c.relative}});
  }
  return {{"summary", summary}, {"components", rows}};
}

Mat random_tokens(int64_t n, int64_t d_model, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Mat x(n, d_model);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
  return x;
}

namespace {

using Model = RefModel<double>;

std::vector<int64_t> iota_positions(int64_t n, int64_t start) {
  std::vector<int64_t> p(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[std::size_t(i)] = start + i;
  return p;
}

std::set<int64_t> decode_steps(int64_t len, int64_t max_steps) {
  std::set<int64_t> steps;
  for (int64_t t : {int64_t(0), len - 1, len / 2, int64_t(1), len - 2, len / 4}) {
    if (t >= 0 && t < len && int64_t(steps.size()) < max_steps) steps.insert(t);
  }
  return steps;
}

CheckResult make_result(const Weights& w, std::string check, const ErrorStats& e, double tol,
                        bool expect_violation, std::string detail) {
  CheckResult r;
  r.variant = ref_variant_name(w.config);
  r.check = std::move(check);
  r.max_abs_err = e.max_abs_err;
  r.max_rel_err = e.max_rel_err;
  r.tol = expect_violation ? kViolationThreshold : tol;
  r.expect_violation = expect_violation;
  r.pass = expect_violation ? (e.max_rel_err > kViolationThreshold) : (e.max_rel_err <= tol);
  r.detail = std::move(detail);
  return r;
}

CheckResult not_applicable(const Weights& w, std::string check, std::string why) {
  CheckResult r;
  r.variant = ref_variant_name(w.config);
  r.check = std::move(check);
  r.applicable = false;
  r.pass = false;
  r.detail = std::move(why);
  return r;
}

std::string join(const std::vector<std::string>& v, const char* sep = "; ") {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

Form best_form(const Model& m) { return m.has_absorbed() ? Form::absorbed : Form::materialized; }

bool lrkv_latent(const RefConfig& c) {
  return c.id == VariantId::lrkv && c.lrkv_rope == LrkvRope::latent;
}

// The last component of a score name: "b1.h0.rope" -> "rope", "h3" -> "score".
std::string component_kind(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? "score" : name.substr(dot + 1);
}

// Per-kind errors between two score records (normwise within each kind).
std::map<std::string, ErrorStats> score_errors(const ScoreRecord<double>& got,
                                               const ScoreRecord<double>& ref) {
  std::map<std::string, ErrorStats> out;
  for (std::size_t k = 0; k < ref.scores.size(); ++k) {
    out[component_kind(ref.names[k])].merge(compare<double>(got.scores[k], ref.scores[k]));
  }
  return out;
}

// Cached decode of a whole sequence; returns the outputs at `steps` (rows in step order).
Mat decode_sequence(const Model& m, const Mat& x, std::span<const int64_t> pos,
                    std::span<const char> valid, const std::set<int64_t>& steps, Form form,
                    Cache<double>* cache_out = nullptr) {
  Cache<double> cache = m.new_cache();
  Mat out(Eigen::Index(steps.size()), m.config().d_model);
  Eigen::Index row = 0;
  for (int64_t t = 0; t < x.rows(); ++t) {
    m.append(cache, x.row(t), pos[std::size_t(t)], valid[std::size_t(t)] != 0);
    if (steps.count(t) != 0) out.row(row++) = m.decode(cache, x.row(t), pos[std::size_t(t)], form);
  }
  if (cache_out != nullptr) *cache_out = std::move(cache);
  return out;
}

Mat rows_at(const Mat& m, const std::set<int64_t>& steps, int64_t offset = 0) {
  Mat out(Eigen::Index(steps.size()), m.cols());
  Eigen::Index r = 0;
  for (int64_t t : steps) out.row(r++) = m.row(t + offset);
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------------------
std::vector<CheckResult> check_equivalence(const Weights& w, const CheckOptions& o) {
  const auto m = make_ref_model<double>(w);
  const RefConfig& c = w.config;
  ErrorStats inc, abs;
  std::map<int64_t, ErrorStats> tp_err;
  std::map<int64_t, std::string> tp_skip;
  for (int64_t tp : o.tps) {
    const std::vector<std::string> problems = m->check_tp(tp);
    if (!problems.empty()) tp_skip[tp] = join(problems);
  }
  std::vector<std::string> seen;
  for (int64_t len : o.ctx_lens) {
    const Mat x = random_tokens(len, c.d_model, o.seed * 1000 + uint64_t(len));
    const std::vector<int64_t> pos = iota_positions(len, 0);
    const std::vector<char> valid(std::size_t(len), 1);
    const Mat full = m->forward(x, pos, valid);
    const std::set<int64_t> steps = decode_steps(len, o.max_decode_steps);
    seen.push_back(fmt::format("ctx {} at steps {}", len, fmt::join(steps, ",")));
    Cache<double> cache = m->new_cache();
    struct TpRun {
      int64_t tp;
      std::vector<Device<double>> devices;
      std::vector<Cache<double>> caches;
    };
    std::vector<TpRun> runs;
    for (int64_t tp : o.tps) {
      if (tp_skip.count(tp) != 0) continue;
      TpRun run{tp, m->shard(tp), {}};
      for (const Device<double>& d : run.devices) run.caches.push_back(d.model->new_cache());
      runs.push_back(std::move(run));
    }
    for (int64_t t = 0; t < len; ++t) {
      m->append(cache, x.row(t), t, true);
      for (TpRun& run : runs) tp_append(run.devices, run.caches, Row(x.row(t)), t, true);
      if (steps.count(t) == 0) continue;
      const Mat ref = full.row(t);
      inc.merge(compare<double>(m->decode(cache, x.row(t), t, Form::materialized), ref));
      if (m->has_absorbed()) abs.merge(compare<double>(m->decode(cache, x.row(t), t, Form::absorbed), ref));
      for (TpRun& run : runs) {
        const Row got = tp_decode(run.devices, run.caches, Row(x.row(t)), t, best_form(*m), c.out_proj);
        tp_err[run.tp].merge(compare<double>(Mat(got), ref));
      }
    }
  }
  const std::string where = join(seen);
  std::vector<CheckResult> out;
  out.push_back(make_result(w, "equivalence.incremental", inc, kEquivalenceTol, false,
                            "cached decode (K/V rebuilt from the cache) vs full causal forward; " + where));
  if (m->has_absorbed()) {
    out.push_back(make_result(w, "equivalence.absorbed", abs, kEquivalenceTol, false,
                              m->absorbed_note() + "; " + where));
  } else {
    out.push_back(not_applicable(w, "equivalence.absorbed", m->absorbed_note()));
  }
  for (int64_t tp : o.tps) {
    const std::string name = fmt::format("equivalence.tp{}", tp);
    if (tp_skip.count(tp) != 0) {
      out.push_back(not_applicable(w, name, tp_skip[tp]));
      continue;
    }
    const bool sharded = c.out_proj == OutProj::sharded;
    out.push_back(make_result(
        w, name, tp_err[tp], kEquivalenceTol, false,
        fmt::format("sum of {} device partials ({} decode, W^O {}) vs full forward; {}", tp,
                    model::to_string(best_form(*m)), sharded ? "sharded after reduce-scatter" : "per device rows",
                    where)));
  }
  return out;
}

// ------------------------------------------------------------------------------------------
std::vector<CheckResult> check_one_truth(const Weights& w, const CheckOptions& o) {
  const auto m = make_ref_model<double>(w);
  const RefConfig& c = w.config;
  std::vector<CheckResult> out;
  model::VariantPtr cost;
  std::string cost_error;
  try {
    cost = model::make_variant(c.id, c.json, model::JsonSource{"reference config"});
  } catch (const std::exception& e) {
    cost_error = e.what();
  }
  const Mat x = random_tokens(3, c.d_model, o.seed + 7);
  for (int64_t tp : o.tps) {
    const std::string name = fmt::format("one_truth.tp{}", tp);
    const std::vector<std::string> ref_problems = m->check_tp(tp);
    if (!cost) {
      CheckResult r = not_applicable(w, name, "");
      r.applicable = true;  // the check applies; the cost model is missing: a failure
      r.max_abs_err = r.max_rel_err = std::numeric_limits<double>::infinity();
      r.detail = fmt::format("cost model for '{}' could not be built: {}", model::to_string(c.id),
                             cost_error);
      out.push_back(r);
      continue;
    }
    const std::vector<std::string> model_problems = cost->check_tp(tp);
    if (!ref_problems.empty() && !model_problems.empty()) {
      out.push_back(not_applicable(w, name, "neither the reference nor the model shards to this tp: " +
                                                join(ref_problems)));
      continue;
    }
    if (ref_problems.empty() != model_problems.empty()) {
      CheckResult r = not_applicable(w, name, "");
      r.applicable = true;
      r.max_abs_err = r.max_rel_err = std::numeric_limits<double>::infinity();
      r.detail = fmt::format("reference and model disagree on tp = {}: reference: {}; model: {}", tp,
                             ref_problems.empty() ? "ok" : join(ref_problems),
                             model_problems.empty() ? "ok" : join(model_problems));
      out.push_back(r);
      continue;
    }
    const std::vector<Device<double>> devices = m->shard(tp);
    std::vector<Cache<double>> caches;
    for (const Device<double>& d : devices) caches.push_back(d.model->new_cache());
    for (int64_t t = 0; t < x.rows(); ++t) tp_append(devices, caches, Row(x.row(t)), t, true);
    int64_t worst = 0;
    std::vector<int64_t> per_device;
    for (const Cache<double>& cache : caches) {
      per_device.push_back(cache.cached_elems_per_token());
      worst = std::max(worst, per_device.back());
    }
    const int64_t predicted = cost->kv_elems_per_token(tp);
    ErrorStats e;
    e.max_abs_err = double(std::abs(worst - predicted));
    e.ref_max_abs = double(predicted);
    e.max_rel_err = predicted > 0 ? e.max_abs_err / double(predicted) : e.max_abs_err;
    CheckResult r = make_result(
        w, name, e, 0.0, false,
        fmt::format("reference caches [{}] elements/token per device (worst {}, {} bytes bf16; parts "
                    "{}); model kv_elems_per_token({}) = {}",
                    fmt::join(per_device, ", "), worst, 2 * worst, fmt::join(caches.front().names, "+"),
                    tp, predicted));
    out.push_back(r);
  }
  return out;
}

// ------------------------------------------------------------------------------------------
std::vector<CheckResult> check_e1_scores(const Weights& w, const CheckOptions& o) {
  const auto m = make_ref_model<double>(w);
  const int64_t len = o.equivariance_len;
  const Mat x = random_tokens(len, w.config.d_model, o.seed + 11);
  const std::vector<char> valid(std::size_t(len), 1);
  ScoreRecord<double> base;
  (void)m->forward_y(x, iota_positions(len, 0), valid, &base);
  std::vector<CheckResult> out;
  const bool expect = lrkv_latent(w.config);
  for (int64_t shift : o.shifts) {
    ScoreRecord<double> moved;
    (void)m->forward_y(x, iota_positions(len, shift), valid, &moved);
    ErrorStats all;
    std::vector<std::string> parts;
    for (const auto& [kind, e] : score_errors(moved, base)) {
      all.merge(e);
      parts.push_back(fmt::format("{}: {:.3g}", kind, e.max_rel_err));
    }
    out.push_back(make_result(w, fmt::format("e1.shift_{}", shift), all, kEquivarianceTol, expect,
                              fmt::format("{} score tensors [{}x{}], max rel err per component: {}",
                                          base.scores.size(), len, len, join(parts, ", "))));
  }
  return out;
}

// ------------------------------------------------------------------------------------------
namespace {

// E2 core: outputs at positions p + shift (optionally with an absolute position embedding
// added to the inputs) against outputs at p. Materialized forward and cached decode.
std::pair<ErrorStats, ErrorStats> e2_core(const Model& m, const CheckOptions& o, int64_t shift,
                                          bool abs_pos_embed) {
  const int64_t len = o.equivariance_len, d = m.config().d_model;
  const Mat x = random_tokens(len, d, o.seed + 13);
  const std::vector<char> valid(std::size_t(len), 1);
  auto embed = [&](const std::vector<int64_t>& pos) {
    Mat xe = x;
    if (!abs_pos_embed) return xe;
    for (int64_t t = 0; t < len; ++t) {  // sinusoidal PE(p) (Vaswani et al.), amplitude 1
      for (int64_t j = 0; j < d; ++j) {
        const double a = double(pos[std::size_t(t)]) / std::pow(kRopeBase, double(2 * (j / 2)) / double(d));
        xe(t, j) += j % 2 == 0 ? std::sin(a) : std::cos(a);
      }
    }
    return xe;
  };
  const std::vector<int64_t> p0 = iota_positions(len, 0), p1 = iota_positions(len, shift);
  const Mat x0 = embed(p0), x1 = embed(p1);
  const Mat ref = m.forward(x0, p0, valid);
  const ErrorStats e_forward = compare<double>(m.forward(x1, p1, valid), ref);
  const std::set<int64_t> steps = decode_steps(len, o.max_decode_steps);
  const ErrorStats e_decode =
      compare<double>(decode_sequence(m, x1, p1, valid, steps, best_form(m)), rows_at(ref, steps));
  return {e_forward, e_decode};
}

struct E3Outcome {
  ErrorStats forward, decode, further;
  bool pad_rows_zero = true;
  bool finite = true;
};

E3Outcome e3_core(const Model& m, const CheckOptions& o, int64_t pads, bool hf_positions,
                  bool mask_pads) {
  const int64_t len = o.equivariance_len, d = m.config().d_model;
  const Mat x = random_tokens(len, d, o.seed + 17);
  const Mat x_new = random_tokens(o.further_steps, d, o.seed + 19);
  const Mat pad = o.pad_scale * random_tokens(pads, d, o.seed + 23 + uint64_t(pads));
  Mat xp(pads + len, d);
  xp << pad, x;
  std::vector<char> valid_p(std::size_t(pads + len), 1);
  std::vector<int64_t> pos_p = iota_positions(pads + len, 0);
  for (int64_t t = 0; t < pads; ++t) {
    if (mask_pads) valid_p[std::size_t(t)] = 0;
    if (hf_positions) pos_p[std::size_t(t)] = 1;  // HF masked_fill(attention_mask == 0, 1)
  }
  if (hf_positions) {
    for (int64_t t = 0; t < len; ++t) pos_p[std::size_t(pads + t)] = t;  // cumsum(mask) - 1
  }
  const std::vector<char> valid(std::size_t(len), 1);
  const std::vector<int64_t> pos = iota_positions(len, 0);
  const Form form = best_form(m);

  E3Outcome r;
  const Mat ref = m.forward(x, pos, valid);
  const Mat out_p = m.forward(xp, pos_p, valid_p);
  r.finite = out_p.allFinite();
  r.pad_rows_zero = !mask_pads || (out_p.topRows(pads).array() == 0.0).all();
  r.forward = compare<double>(Mat(out_p.bottomRows(len)), ref);

  std::set<int64_t> steps_p;
  const std::set<int64_t> steps = decode_steps(len, o.max_decode_steps);
  for (int64_t t : steps) steps_p.insert(pads + t);
  Cache<double> cache_p, cache;
  const Mat dec_p = decode_sequence(m, xp, pos_p, valid_p, steps_p, form, &cache_p);
  (void)decode_sequence(m, x, pos, valid, {}, form, &cache);
  r.finite = r.finite && dec_p.allFinite();
  r.decode = compare<double>(dec_p, rows_at(ref, steps));
  for (int64_t j = 0; j < o.further_steps; ++j) {  // k further decode steps from both caches
    const int64_t p_unpadded = len + j;
    const int64_t p_padded = hf_positions ? len + j : pads + len + j;
    m.append(cache, x_new.row(j), p_unpadded, true);
    m.append(cache_p, x_new.row(j), p_padded, true);
    const Row want = m.decode(cache, x_new.row(j), p_unpadded, form);
    const Row got = m.decode(cache_p, x_new.row(j), p_padded, form);
    r.finite = r.finite && got.allFinite();
    r.further.merge(compare<double>(Mat(got), Mat(want)));
  }
  return r;
}

}  // namespace

std::vector<CheckResult> check_e2_outputs(const Weights& w, const CheckOptions& o) {
  const auto m = make_ref_model<double>(w);
  std::vector<CheckResult> out;
  for (int64_t shift : o.shifts) {
    const auto [ef, ed] = e2_core(*m, o, shift, false);
    ErrorStats all = ef;
    all.merge(ed);
    out.push_back(make_result(w, fmt::format("e2.shift_{}", shift), all, kEquivarianceTol,
                              lrkv_latent(w.config),
                              fmt::format("max rel err: forward {:.3g}, {} decode {:.3g}", ef.max_rel_err,
                                          model::to_string(best_form(*m)), ed.max_rel_err)));
  }
  return out;
}

std::vector<CheckResult> check_e3_left_padding(const Weights& w, const CheckOptions& o) {
  const auto m = make_ref_model<double>(w);
  std::vector<CheckResult> out;
  for (int64_t pads : o.pads) {
    for (const bool hf : {false, true}) {
      const E3Outcome r = e3_core(*m, o, pads, hf, true);
      ErrorStats all = r.forward;
      all.merge(r.decode);
      all.merge(r.further);
      if (!r.finite) all.max_abs_err = all.max_rel_err = std::numeric_limits<double>::infinity();
      // Reading (b) of LRKV is not relative: shifting the real tokens by P changes its scores.
      const bool expect = lrkv_latent(w.config) && !hf;
      CheckResult c = make_result(
          w, fmt::format("e3.pad_{}.{}", pads, hf ? "hf_positions" : "first_pad_positions"), all,
          kEquivarianceTol, expect,
          fmt::format("max rel err: forward {:.3g}, {} decode {:.3g}, {} further steps {:.3g}; pad "
                      "rows zero: {}; all finite: {}",
                      r.forward.max_rel_err, model::to_string(best_form(*m)), r.decode.max_rel_err,
                      o.further_steps, r.further.max_rel_err, r.pad_rows_zero ? "yes" : "NO",
                      r.finite ? "yes" : "NO"));
      if (!r.pad_rows_zero || !r.finite) c.pass = false;
      out.push_back(c);
    }
  }
  return out;
}

std::vector<CheckResult> check_negative_controls(const Weights& w, const CheckOptions& o) {
  const auto m = make_ref_model<double>(w);
  std::vector<CheckResult> out;
  {
    const int64_t pads = 3;
    const E3Outcome r = e3_core(*m, o, pads, false, false);
    ErrorStats all = r.forward;
    all.merge(r.decode);
    all.merge(r.further);
    out.push_back(make_result(w, "negative.unmasked_pads", all, 0, true,
                              fmt::format("E3 with {} pads left unmasked must fail: forward {:.3g}, "
                                          "decode {:.3g}, further {:.3g}",
                                          pads, r.forward.max_rel_err, r.decode.max_rel_err,
                                          r.further.max_rel_err)));
  }
  {
    const int64_t shift = 7;
    const auto [ef, ed] = e2_core(*m, o, shift, true);
    ErrorStats all = ef;
    all.merge(ed);
    out.push_back(make_result(w, "negative.abs_pos_embed", all, 0, true,
                              fmt::format("E2 (shift {}) with a sinusoidal absolute position "
                                          "embedding added to the inputs must fail: forward {:.3g}, "
                                          "decode {:.3g}",
                                          shift, ef.max_rel_err, ed.max_rel_err)));
  }
  return out;
}

// ------------------------------------------------------------------------------------------
namespace {

template <class T>
struct Observation {
  Mat scores;  // all score components stacked (rows), as double
  Mat out;
};

template <class T>
Observation<T> observe(const RefModel<T>& m, const MatT<T>& x, int64_t shift) {
  const int64_t len = x.rows();
  const std::vector<char> valid(std::size_t(len), 1);
  ScoreRecord<T> rec;
  const MatT<T> out = m.forward(x, iota_positions(len, shift), valid, &rec);
  Observation<T> ob;
  ob.scores.resize(Eigen::Index(rec.scores.size()) * len, len);
  for (std::size_t k = 0; k < rec.scores.size(); ++k) {
    ob.scores.middleRows(Eigen::Index(k) * len, len) = rec.scores[k].template cast<double>();
  }
  ob.out = out.template cast<double>();
  return ob;
}

}  // namespace

std::vector<PrecisionRow> precision_study(const Weights& w, const CheckOptions& o) {
  std::vector<int64_t> shifts = {0};
  shifts.insert(shifts.end(), o.shifts.begin(), o.shifts.end());
  const int64_t len = o.equivariance_len;
  const Mat x = random_tokens(len, w.config.d_model, o.seed + 29);
  Mat xb = x;
  round_to_bf16_inplace(xb);
  const std::string name = ref_variant_name(w.config);
  std::vector<PrecisionRow> rows;

  const auto exact = make_ref_model<double>(w);
  const Observation<double> e0 = observe<double>(*exact, x, 0);
  for (int64_t s : shifts) {
    const Observation<double> es = observe<double>(*exact, x, s);
    rows.push_back({name, "float64", "float64", s, compare<double>(es.scores, e0.scores).max_rel_err,
                    compare<double>(es.out, e0.out).max_rel_err, compare<double>(es.out, e0.out).max_rel_err});
  }
  // Truth for the low-precision rows: float64 arithmetic on the same bf16-rounded values.
  const auto truth = make_ref_model<double>(w, Numerics{RopeMode::float64, true});
  const Observation<double> t0 = observe<double>(*truth, xb, 0);
  for (const RopeMode mode : {RopeMode::fp32_angles, RopeMode::fp32_angles_bf16_trig}) {
    const auto low = make_ref_model<float>(w, Numerics{mode, true});
    const MatT<float> xf = xb.cast<float>();
    const Observation<float> l0 = observe<float>(*low, xf, 0);
    for (int64_t s : shifts) {
      const Observation<float> ls = observe<float>(*low, xf, s);
      rows.push_back({name, "fp32", mode == RopeMode::fp32_angles ? "fp32_angles" : "fp32_angles_bf16_trig",
                      s, compare<double>(ls.scores, l0.scores).max_rel_err,
                      compare<double>(ls.out, l0.out).max_rel_err,
                      compare<double>(ls.out, t0.out).max_rel_err});
    }
  }
  return rows;
}

LrkvFinding lrkv_finding(const CheckOptions& o, int64_t q_heads) {
  LrkvFinding f;
  std::map<std::string, bool> relative;  // reading.component -> relative at every shift
  for (const char* reading : {"materialized", "latent"}) {
    const RefConfig c = parse_ref_config(VariantId::lrkv, small_config(VariantId::lrkv, q_heads, reading),
                                         model::JsonSource{"lrkv_finding"});
    const Weights w = init_weights(c, o.seed);
    const auto m = make_ref_model<double>(w);
    const int64_t len = o.equivariance_len;
    const Mat x = random_tokens(len, c.d_model, o.seed + 31);
    const std::vector<char> valid(std::size_t(len), 1);
    ScoreRecord<double> base;
    (void)m->forward_y(x, iota_positions(len, 0), valid, &base);
    for (int64_t shift : o.shifts) {
      ScoreRecord<double> moved;
      (void)m->forward_y(x, iota_positions(len, shift), valid, &moved);
      for (const auto& [kind, e] : score_errors(moved, base)) {
        const bool rel = e.max_rel_err <= kEquivarianceTol;
        f.components.push_back({reading, kind, shift, e.max_rel_err, rel});
        const std::string key = std::string(reading) + "." + kind;
        relative[key] = (relative.count(key) == 0 || relative[key]) && rel;
      }
    }
  }
  std::vector<std::string> parts;
  for (const auto& [key, rel] : relative) parts.push_back(fmt::format("{} {}", key, rel ? "relative" : "NOT relative"));
  const bool a_ok = relative["materialized.shared"] && relative["materialized.residual"];
  const bool b_ok = relative["latent.shared"] && relative["latent.residual"];
  f.summary = fmt::format("reading (a) rope=materialized {} scores relative; reading (b) rope=latent {} "
                          "({})",
                          a_ok ? "keeps" : "does NOT keep", b_ok ? "keeps them relative" : "does not",
                          join(parts, ", "));
  return f;
}

}  // namespace attnroof::ref

#include "model/calibration.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "model/checked_math.h"
#include "model/embedded_file.h"
#include "model/error.h"
#include "model/split_plan.h"

namespace attnroof::model {

namespace {

constexpr const char* kSchema = "attnroof.calibration/1";

double quantile(const std::vector<double>& sorted, double q) {
  // Nearest rank: the smallest value with at least q of the points at or below it.
  const std::size_t n = sorted.size();
  const std::size_t rank = std::size_t(std::ceil(q * double(n)));
  return sorted[std::min(n - 1, rank == 0 ? 0 : rank - 1)];
}

ErrorSummary read_summary(ObjectReader r) {
  ErrorSummary s;
  s.n_points = r.get_int("n_points");
  s.median_abs_rel_error = r.get_double("median_abs_rel_error");
  s.p95_abs_rel_error = r.get_double("p95_abs_rel_error");
  s.max_abs_rel_error = r.get_double("max_abs_rel_error");
  r.finish();
  return s;
}

template <std::size_t N>
std::array<double, N> read_params(ObjectReader r, const std::array<std::string_view, N>& names) {
  std::array<double, N> out{};
  for (std::size_t i = 0; i < N; ++i) {
    const std::string key(names[i]);
    out[i] = r.get_double(key.c_str());
    if (!(out[i] > 0) || !std::isfinite(out[i]))
      r.fail(key.c_str(), fmt::format("{} = {}: a fitted parameter must be finite and > 0", key, out[i]));
  }
  r.finish();
  return out;
}

template <std::size_t N>
nlohmann::json params_json(const std::array<double, N>& values,
                           const std::array<std::string_view, N>& names) {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < N; ++i) j[std::string(names[i])] = values[i];
  return j;
}

std::map<std::string, std::shared_ptr<const CalibrationProfile>, std::less<>> load_builtin_profiles() {
  std::map<std::string, std::shared_ptr<const CalibrationProfile>, std::less<>> out;
  for (const EmbeddedFile& f : embedded_calibration_files()) {
    const JsonSource source{fmt::format("model/data/calibration/{}", f.name)};
    auto profile = std::make_shared<CalibrationProfile>(
        parse_calibration(parse_json_text(std::string(f.contents), source), source));
    profile->source = fmt::format("embedded: {}", source.name);
    std::string id(f.name);
    id = id.substr(0, id.rfind('.'));
    out.emplace(id, std::move(profile));
  }
  return out;
}

}  // namespace

nlohmann::json ErrorSummary::to_json() const {
  return {{"n_points", n_points},
          {"median_abs_rel_error", median_abs_rel_error},
          {"p95_abs_rel_error", p95_abs_rel_error},
          {"max_abs_rel_error", max_abs_rel_error}};
}

ErrorSummary summarize_errors(std::vector<double> e) {
  ErrorSummary s;
  s.n_points = int64_t(e.size());
  if (e.empty()) return s;
  std::sort(e.begin(), e.end());
  s.median_abs_rel_error = quantile(e, 0.5);
  s.p95_abs_rel_error = quantile(e, 0.95);
  s.max_abs_rel_error = e.back();
  return s;
}

const KernelCalibration* FamilyCalibration::kernel(std::string_view name) const {
  for (const KernelCalibration& k : kernels)
    if (k.kernel == name) return &k;
  return nullptr;
}

const SplitKvParams& FamilyCalibration::params_for(std::string_view kernel_name) const {
  const KernelCalibration* k = kernel(kernel_name);
  return k != nullptr && k->fitted ? k->params : params;
}

const FamilyCalibration* CalibrationProfile::family(KernelFamily f) const {
  for (const FamilyCalibration& c : families)
    if (c.family == f) return &c;
  return nullptr;
}

const ExternalCalibration* CalibrationProfile::external_kernel(std::string_view kernel) const {
  for (const ExternalCalibration& c : external)
    if (c.kernel == kernel) return &c;
  return nullptr;
}

nlohmann::json CalibrationProfile::to_json() const {
  nlohmann::json fam = nlohmann::json::array();
  for (const FamilyCalibration& f : families) {
    nlohmann::json kernels = nlohmann::json::array();
    for (const KernelCalibration& k : f.kernels) {
      nlohmann::json kj{{"kernel", k.kernel},           {"d_qk", k.d_qk},
                        {"d_v", k.d_v},                 {"tile_m", k.tile_m},
                        {"tile_n", k.tile_n},           {"stages", k.stages},
                        {"ctas_per_sm", k.ctas_per_sm}, {"fitted", k.fitted}};
      if (k.fitted) {
        kj["params"] = params_json(k.params.to_array(), kSplitKvParamNames);
        kj["fit"] = k.fit.to_json();
      }
      kernels.push_back(kj);
    }
    fam.push_back({{"family", to_string(f.family)},
                   {"form", "split_kv"},
                   {"n_params", SplitKvParams::kCount},
                   {"params", params_json(f.params.to_array(), kSplitKvParamNames)},
                   {"fit", f.fit.to_json()},
                   {"kernels", kernels}});
  }
  nlohmann::json ext = nlohmann::json::array();
  for (const ExternalCalibration& e : external)
    ext.push_back({{"kernel", e.kernel},
                   {"family", to_string(e.family)},
                   {"form", "plan_free"},
                   {"n_params", PlanFreeParams::kCount},
                   {"params", params_json(e.params.to_array(), kPlanFreeParamNames)},
                   {"fit", e.fit.to_json()}});
  nlohmann::json proj = nullptr;
  if (projection.present)
    proj = {{"form", "plan_free"},
            {"n_params", PlanFreeParams::kCount},
            {"unit", "one GEMM; per_sequence_s is the cost per row of M (batch x q_tokens)"},
            {"params", params_json(projection.params.to_array(), kPlanFreeParamNames)},
            {"fit", projection.fit.to_json()}};
  return {{"schema", kSchema},
          {"gpu", gpu},
          {"read_ceiling_Bps", read_ceiling_Bps},
          {"sm_count", sm_count},
          {"typical_sm_clock_mhz", typical_sm_clock_mhz},
          {"families", fam},
          {"external", ext},
          {"projection", proj},
          {"collectives", "uncalibrated: no multi-GPU machine has been measured; collective "
                          "times use the hardware profile's alpha-beta defaults"},
          {"provenance", provenance}};
}

CalibrationProfile parse_calibration(const nlohmann::json& j, const JsonSource& source) {
  ObjectReader r(j, source);
  CalibrationProfile p;
  p.source = source.name;
  const std::string schema = r.get_string("schema");
  if (schema != kSchema)
    r.fail("schema", fmt::format("schema = '{}': this version reads '{}'", schema, kSchema));
  p.gpu = r.get_string("gpu");
  p.read_ceiling_Bps = r.get_double("read_ceiling_Bps");
  if (!(p.read_ceiling_Bps > 0)) r.fail("read_ceiling_Bps", "must be > 0");
  p.sm_count = r.get_positive_int("sm_count");
  p.typical_sm_clock_mhz = r.get_double("typical_sm_clock_mhz", 0);
  r.get_string("collectives", "");
  p.provenance = r.has("provenance") ? r.get_raw("provenance") : nlohmann::json::object();
  const nlohmann::json& fams = r.get_array("families", "kernel-family fits");
  for (std::size_t i = 0; i < fams.size(); ++i) {
    ObjectReader f(fams[i], source, r.pointer("families") + "/" + std::to_string(i));
    FamilyCalibration c;
    c.family = parse_kernel_family(f.get_string("family"), f.position("family"));
    if (f.get_string("form") != "split_kv") f.fail("form", "must be \"split_kv\"");
    if (f.get_int("n_params") != int64_t(SplitKvParams::kCount))
      f.fail("n_params", fmt::format("must be {}", SplitKvParams::kCount));
    c.params = SplitKvParams::from_array(read_params(f.get_object("params"), kSplitKvParamNames));
    c.fit = read_summary(f.get_object("fit"));
    const nlohmann::json& ks = f.get_array("kernels", "measured kernels");
    for (std::size_t k = 0; k < ks.size(); ++k) {
      ObjectReader kr(ks[k], source, f.pointer("kernels") + "/" + std::to_string(k));
      KernelCalibration fact;
      fact.kernel = kr.get_string("kernel");
      fact.family = c.family;
      fact.d_qk = kr.get_positive_int("d_qk");
      fact.d_v = kr.get_positive_int("d_v");
      fact.tile_m = kr.get_positive_int("tile_m");
      fact.tile_n = kr.get_positive_int("tile_n");
      fact.stages = kr.get_positive_int("stages");
      fact.ctas_per_sm = kr.get_positive_int("ctas_per_sm");
      fact.fitted = kr.get_bool("fitted", false);
      if (fact.fitted) {
        fact.params =
            SplitKvParams::from_array(read_params(kr.get_object("params"), kSplitKvParamNames));
        fact.fit = read_summary(kr.get_object("fit"));
      }
      kr.finish();
      c.kernels.push_back(fact);
    }
    f.finish();
    p.families.push_back(std::move(c));
  }
  const nlohmann::json& ext = r.get_array("external", "external-kernel fits");
  for (std::size_t i = 0; i < ext.size(); ++i) {
    ObjectReader e(ext[i], source, r.pointer("external") + "/" + std::to_string(i));
    ExternalCalibration c;
    c.kernel = e.get_string("kernel");
    c.family = parse_kernel_family(e.get_string("family"), e.position("family"));
    if (e.get_string("form") != "plan_free") e.fail("form", "must be \"plan_free\"");
    if (e.get_int("n_params") != int64_t(PlanFreeParams::kCount))
      e.fail("n_params", fmt::format("must be {}", PlanFreeParams::kCount));
    c.params = PlanFreeParams::from_array(read_params(e.get_object("params"), kPlanFreeParamNames));
    c.fit = read_summary(e.get_object("fit"));
    e.finish();
    p.external.push_back(std::move(c));
  }
  if (r.has("projection") && !r.get_raw("projection").is_null()) {
    ObjectReader g = r.get_object("projection");
    if (g.get_string("form") != "plan_free") g.fail("form", "must be \"plan_free\"");
    if (g.get_int("n_params") != int64_t(PlanFreeParams::kCount))
      g.fail("n_params", fmt::format("must be {}", PlanFreeParams::kCount));
    g.get_string("unit", "");
    p.projection.present = true;
    p.projection.params = PlanFreeParams::from_array(read_params(g.get_object("params"), kPlanFreeParamNames));
    p.projection.fit = read_summary(g.get_object("fit"));
    g.finish();
  } else if (r.has("projection")) {
    r.get_raw("projection");
  }
  r.finish();
  return p;
}

CalibrationProfile load_calibration_file(const std::string& path) {
  CalibrationProfile p = parse_calibration(load_json_file(path), JsonSource{path});
  p.source = path;
  return p;
}

namespace {

const std::map<std::string, std::shared_ptr<const CalibrationProfile>, std::less<>>& builtin() {
  static const auto all = load_builtin_profiles();
  return all;
}

}  // namespace

std::shared_ptr<const CalibrationProfile> find_builtin_calibration(std::string_view hardware_id) {
  const auto it = builtin().find(hardware_id);
  return it == builtin().end() ? nullptr : it->second;
}

std::shared_ptr<const CalibrationProfile> find_builtin_calibration_for_gpu(std::string_view gpu,
                                                                           int64_t sm_count) {
  for (const auto& [id, profile] : builtin())
    if (profile->gpu == gpu && profile->sm_count == sm_count) return profile;
  return nullptr;
}

std::optional<PlannedWork> plan_for(const CalibrationProfile& profile, const DecodeWork& work) {
  const FamilyCalibration* fam = profile.family(work.family);
  if (fam == nullptr || fam->kernels.empty()) return std::nullopt;
  const auto rows_if_fits =
      product_if_fits(work.q_heads / std::max<int64_t>(work.kv_heads, 1), work.q_tokens);
  if (!rows_if_fits) return std::nullopt;  // no kernel launches that many rows
  const int64_t rows = *rows_if_fits;
  const int64_t tile_m = decode_tile_m(work.family, rows);
  // The measured kernel of this exact shape and tile, else the nearest score width.
  const KernelCalibration* best = nullptr;
  double best_distance = 0;
  for (const KernelCalibration& k : fam->kernels) {
    // In double: the widths of a hostile config would pass int64 when summed.
    const double distance = std::abs(double(k.d_qk) - double(work.d_qk)) +
                            std::abs(double(k.d_v) - double(work.d_v)) +
                            (k.tile_m == tile_m ? 0 : 1);
    if (best == nullptr || distance < best_distance) {
      best = &k;
      best_distance = distance;
    }
  }
  PlannedWork out;
  out.kernel = best->kernel;
  out.assumed = best_distance != 0;
  KernelPlan& plan = out.plan;
  plan.tile_m = best->tile_m;
  plan.tile_n = best->tile_n;
  plan.stages = best->stages;
  plan.ctas_per_sm = best->ctas_per_sm;
  plan.sm_count = profile.sm_count;
  // An assumed kernel (another shape's facts) is priced with the family's parameters.
  out.params = out.assumed ? fam->params : fam->params_for(best->kernel);
  DecodeWork priced = work;
  priced.plan = plan;
  priced.read_ceiling_Bps = profile.read_ceiling_Bps;
  if (!(priced.sm_clock_mhz > 0)) priced.sm_clock_mhz = profile.typical_sm_clock_mhz;
  const SplitPlan split = plan_splits(priced, out.params);
  plan.n_splits = split.n_splits;
  plan.split_len = split.split_len;
  return out;
}

std::optional<TimePrediction> predict_attention(const CalibrationProfile& profile, DecodeWork work) {
  const FamilyCalibration* fam = profile.family(work.family);
  if (fam == nullptr) return std::nullopt;
  // The plan is formed from the work's sizes: only from sizes a kernel can run.
  work.read_ceiling_Bps = profile.read_ceiling_Bps;
  if (!work.problems().empty()) return std::nullopt;
  const std::optional<PlannedWork> planned = plan_for(profile, work);
  if (!planned) return std::nullopt;
  work.plan = planned->plan;
  if (!(work.sm_clock_mhz > 0)) work.sm_clock_mhz = profile.typical_sm_clock_mhz;
  if (!work.problems().empty()) return std::nullopt;  // past what the model schedules
  return predict_split_kv(work_features(work), planned->params);
}

std::optional<TimePrediction> predict_gemm(const CalibrationProfile& profile, double rows,
                                           double bytes, double flops) {
  if (!profile.projection.present) return std::nullopt;
  WorkFeatures f;
  f.bytes = bytes;
  f.flops = flops;
  f.batch = rows;
  f.read_ceiling_Bps = profile.read_ceiling_Bps;
  return predict_plan_free(f, profile.projection.params);
}

}  // namespace attnroof::model

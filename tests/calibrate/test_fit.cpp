// The fit: it recovers what generated the data, it is deterministic, and (the regression guard)
// a refit of the committed measurements reproduces the shipped profiles and their fidelity.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "calibrate/fidelity.h"
#include "calibrate/fit.h"
#include "calibrate/measurement.h"
#include "model/calibration.h"
#include "model/error.h"
#include "model/json_reader.h"

using namespace attnroof;
using calibrate::DecodeMeasurement;

namespace {

std::string data(const std::string& file) {
  return std::string(ATTNROOF_SOURCE_DIR) + "/reports/calibration/data/" + file;
}

std::vector<DecodeMeasurement> records(const std::string& file) {
  return calibrate::read_measurements({data(file)}).records;
}


double rel(double a, double b) { return std::abs(a / b - 1); }

// The shipped profile of a builtin hardware id, parsed from the source tree (the embedded copy
// is the same file).
model::CalibrationProfile shipped(const std::string& id) {
  return model::load_calibration_file(std::string(ATTNROOF_SOURCE_DIR) + "/model/data/calibration/" + id + ".json");
}

nlohmann::json committed_fidelity(const std::string& gpu_dir) {
  return model::load_json_file(std::string(ATTNROOF_SOURCE_DIR) + "/reports/calibration/" + gpu_dir + "/fidelity.json");
}

const nlohmann::json& section(const nlohmann::json& fidelity, const std::string& name) {
  for (const auto& s : fidelity["sections"])
    if (s["name"] == name) return s;
  FAIL("no section " << name);
  return fidelity;
}

}  // namespace

TEST_CASE("the fit recovers the times a known parameter set generated", "[calibrate][fit]") {
  // The H100 records' real plans and shapes, with times from a known parameter set.
  std::vector<DecodeMeasurement> recs = records("h100_measurements.json");
  const model::SplitKvParams truth{.launch_s = 4e-6, .cta_start_s = 1.5e-6, .bw_efficiency = 0.9,
                                   .sm_bandwidth_Bps = 40e9, .mem_latency_s = 2e-6,
                                   .sm_flops_per_s = 3.3e12, .merge_launch_s = 2e-6,
                                   .merge_wave_s = 2.5e-6, .merge_step_s = 0.4e-6};
  std::vector<calibrate::FitPoint> points;
  for (DecodeMeasurement& m : recs) {
    if (m.family != model::KernelFamily::shared_latent) continue;
    const model::WorkFeatures f = model::work_features(calibrate::to_work(m));
    points.push_back({.features = f, .time_s = model::predict_split_kv(f, truth).t_s});
  }
  const calibrate::FitResult fit = calibrate::fit_split_kv(points);
  const model::SplitKvParams got = model::SplitKvParams::from_array(fit.params);
  double worst = 0;
  for (const auto& p : points) worst = std::max(worst, rel(model::predict_split_kv(p.features, got).t_s, p.time_s));
  CHECK(worst < 2e-3);
  // The parameters that bind somewhere come back.
  CHECK(rel(got.bw_efficiency, truth.bw_efficiency) < 0.02);
  CHECK(rel(got.sm_flops_per_s, truth.sm_flops_per_s) < 0.02);
  CHECK(rel(got.launch_s, truth.launch_s) < 0.1);
}

TEST_CASE("plan-free fit recovers a known parameter set", "[calibrate][fit]") {
  std::vector<DecodeMeasurement> recs = records("h100_measurements.json");
  const model::PlanFreeParams truth{.fixed_s = 8e-6, .per_sequence_s = 2e-7, .bw_efficiency = 0.85,
                                    .flops_per_s = 4e14};
  std::vector<calibrate::FitPoint> points;
  for (DecodeMeasurement& m : recs) {
    m.plan = {};
    const model::WorkFeatures f = model::work_features(calibrate::to_work(m));
    points.push_back({.features = f, .time_s = model::predict_plan_free(f, truth).t_s});
  }
  const model::PlanFreeParams got = model::PlanFreeParams::from_array(calibrate::fit_plan_free(points).params);
  CHECK(rel(got.fixed_s, truth.fixed_s) < 0.01);
  CHECK(rel(got.per_sequence_s, truth.per_sequence_s) < 0.05);
  CHECK(rel(got.bw_efficiency, truth.bw_efficiency) < 0.01);
  CHECK(rel(got.flops_per_s, truth.flops_per_s) < 0.01);
}

TEST_CASE("too few points or two GPUs are input errors", "[calibrate][fit]") {
  std::vector<DecodeMeasurement> recs = records("h100_measurements.json");
  recs.resize(3);
  CHECK_THROWS_WITH(calibrate::calibrate_profile(recs), Catch::Contains("cannot fit 9 parameters"));
  std::vector<DecodeMeasurement> mixed = records("h100_measurements.json");
  mixed.back().gpu = "NVIDIA H200";
  CHECK_THROWS_WITH(calibrate::calibrate_profile(mixed), Catch::Contains("2 GPUs"));
  std::vector<DecodeMeasurement> no_ceiling = records("h100_measurements.json");
  for (auto& m : no_ceiling) m.read_ceiling_Bps = 0;
  CHECK_THROWS_WITH(calibrate::calibrate_profile(no_ceiling), Catch::Contains("--read-ceiling"));
}

// The regression guard: the committed measurements, refitted, give the shipped profile (the same
// code on the same data: equal up to the last bits of floating point across compilers and
// optimization levels) and the committed fidelity numbers. A change to the time model, the fit
// or the measurements that is not followed by scripts/calibrate-profiles.sh fails here.
namespace {

void check_refit(const std::string& id, const std::string& dir) {
  {
    INFO(id);
    const model::CalibrationProfile ship = shipped(id);
    // The files the profile names (scripts/calibrate-profiles.sh passes repository paths).
    std::vector<std::string> files;
    for (const auto& f : ship.provenance.at("measurements"))
      files.push_back(std::string(ATTNROOF_SOURCE_DIR) + "/" + f.at("path").get<std::string>());
    REQUIRE(!files.empty());
    const calibrate::MeasurementSet set = calibrate::read_measurements(files);
    const std::vector<DecodeMeasurement>& recs = set.records;
    const model::CalibrationProfile refit = calibrate::calibrate_profile(recs, 0, set.gemms);
    CHECK(refit.gpu == ship.gpu);
    CHECK(refit.projection.present == ship.projection.present);
    if (ship.projection.present) {
      const auto a = refit.projection.params.to_array(), b = ship.projection.params.to_array();
      for (std::size_t i = 0; i < a.size(); ++i) CHECK(rel(a[i], b[i]) < 1e-3);
    }
    CHECK(rel(refit.read_ceiling_Bps, ship.read_ceiling_Bps) < 1e-12);
    REQUIRE(refit.families.size() == ship.families.size());
    for (std::size_t f = 0; f < ship.families.size(); ++f) {
      const auto a = refit.families[f].params.to_array(), b = ship.families[f].params.to_array();
      for (std::size_t i = 0; i < a.size(); ++i) CHECK(rel(a[i], b[i]) < 1e-3);
      REQUIRE(refit.families[f].kernels.size() == ship.families[f].kernels.size());
      for (std::size_t k = 0; k < ship.families[f].kernels.size(); ++k) {
        const model::KernelCalibration& x = refit.families[f].kernels[k];
        const model::KernelCalibration& y = ship.families[f].kernels[k];
        CHECK(x.kernel == y.kernel);
        CHECK(x.fitted == y.fitted);
        CHECK(std::abs(x.fit.median_abs_rel_error - y.fit.median_abs_rel_error) < 1e-3);
      }
    }
    REQUIRE(refit.external.size() == ship.external.size());
    for (std::size_t e = 0; e < ship.external.size(); ++e) {
      CHECK(refit.external[e].kernel == ship.external[e].kernel);
      const auto a = refit.external[e].params.to_array(), b = ship.external[e].params.to_array();
      for (std::size_t i = 0; i < a.size(); ++i) CHECK(rel(a[i], b[i]) < 1e-3);
    }
    // The shipped profile predicts its own measurements as the committed report says.
    const calibrate::FidelitySection in = calibrate::predict_all(ship, recs, "in_sample", "");
    const nlohmann::json committed = section(committed_fidelity(dir), "in_sample")["summary"];
    CHECK(in.summary().n_points == committed["n_points"].get<int64_t>());
    CHECK(in.summary().median_abs_rel_error == Approx(committed["median_abs_rel_error"].get<double>()).epsilon(1e-6));
    CHECK(in.summary().p95_abs_rel_error == Approx(committed["p95_abs_rel_error"].get<double>()).epsilon(1e-6));
  }
}

}  // namespace

TEST_CASE("refitting the committed H100 measurements reproduces the shipped profile", "[calibrate][fit][guard]") {
  check_refit("h100_sxm", "h100");
}

TEST_CASE("refitting the committed H200 measurements reproduces the shipped profile", "[calibrate][fit][guard][slow]") {
  check_refit("h200_sxm", "h200");
}

TEST_CASE("held-out error on the H100 measurements stays where the report says", "[calibrate][fit][guard]") {
  const std::vector<DecodeMeasurement> recs = records("h100_measurements.json");
  const calibrate::FidelitySection kfold = calibrate::kfold_held_out(recs, 5);
  const nlohmann::json committed = section(committed_fidelity("h100"), "kfold")["summary"];
  CHECK(kfold.summary().n_points == 172);
  CHECK(kfold.summary().median_abs_rel_error == Approx(committed["median_abs_rel_error"].get<double>()).epsilon(1e-3));
  // The calibration is worth something: far inside the uncalibrated model's 34% median and 72%
  // p95 miss. (Before the few-splits merge these measurements fitted to 1.7% / 8.1%; their split
  // points with 2-32 splits ran the previous merge, which the model no longer prices, so they fit
  // to 6.2% / 25.7% until an H100 is measured again: reports/kernels/h200/README.md.)
  CHECK(kfold.summary().median_abs_rel_error < 0.08);
  CHECK(kfold.summary().p95_abs_rel_error < 0.30);
}

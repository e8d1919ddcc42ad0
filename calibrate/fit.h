// defines: FitPoint, fit_split_kv, fit_plan_free, calibrate_profile, predict_record, fidelity_rows,
//          FidelityRow, noise_floor
//
// The calibration fit (docs/time-model.md "The fit"): deterministic least squares on the log of
// predicted / measured time (a relative error that weighs a 10 us and a 10 ms point alike),
// Levenberg-Marquardt over the logs of the parameters (so each stays positive), from fixed starting
// points. Our kernels (records with a known plan) fit the split-KV form per (GPU, family); other
// kernels fit the plan-free form per (GPU, kernel). Pure CPU code, tested in CI on committed
// measurements.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "calibrate/measurement.h"
#include "model/calibration.h"
#include "model/time_model.h"

namespace attnroof::calibrate {

struct FitPoint {
  model::WorkFeatures features;
  double time_s = 0;
};

struct FitResult {
  std::vector<double> params;
  double cost = 0;  // sum of squared log residuals
  int iterations = 0;
};

FitResult fit_split_kv(const std::vector<FitPoint>& points);
FitResult fit_plan_free(const std::vector<FitPoint>& points);

// Fits every (family) of our kernels and every external kernel in `records` (one GPU: the caller
// groups by GPU; mixing GPUs is an InputError). read_ceiling_Bps > 0 overrides the records'.
// gemms: projection GEMMs of the same GPU and call (may be empty): the profile's projection fit.
model::CalibrationProfile calibrate_profile(const std::vector<DecodeMeasurement>& records,
                                            double read_ceiling_Bps = 0,
                                            const std::vector<GemmMeasurement>& gemms = {});

// The projection fit judged on points it did not see: every other GEMM in (k, n, m) order fitted,
// the rest predicted.
model::ErrorSummary gemm_half_split(const std::vector<GemmMeasurement>& gemms, double read_ceiling_Bps);

// One record predicted with a profile: our kernels with the split-KV form of the record's family
// and the record's own plan; external kernels with their plan-free fit. nullopt: the profile has
// no fit that applies (the message says why).
struct RecordPrediction {
  std::optional<model::TimePrediction> prediction;
  std::string form;    // "split_kv" or "plan_free"
  std::string reason;  // when there is no prediction
};
RecordPrediction predict_record(const model::CalibrationProfile& profile,
                                const DecodeMeasurement& record);

// The spread of repeats: every point measured in more than one pass gives |t_a / t_b - 1| of its
// passes; and every record's (max - min) / median within its runs.
nlohmann::json noise_floor(const std::vector<DecodeMeasurement>& records);

// The read ceiling of a set of records: the median of the records' (all must know one).
double median_read_ceiling(const std::vector<DecodeMeasurement>& records);

}  // namespace attnroof::calibrate

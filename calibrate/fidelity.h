// defines: FidelityPoint, FidelitySection, predict_all, kfold_held_out, extrapolation,
//          leave_one_shape_out, cross_gpu_transfer, between_files, external_half_split,
//          section_json, section_csv
//
// How well a calibration predicts points it did not see (docs/time-model.md "Fidelity"): k-fold
// held-out error, extrapolation from short to long contexts, leave one shape out, and transfer
// from one GPU to another (the other GPU's measured read ceiling is the only thing changed).
// Every section refits with calibrate_profile on its training points only.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "calibrate/fit.h"
#include "calibrate/measurement.h"
#include "model/calibration.h"

namespace attnroof::calibrate {

struct FidelityPoint {
  const DecodeMeasurement* record = nullptr;
  double predicted_s = 0;
  std::string bound;
  double rel_error() const { return predicted_s / record->time_s - 1; }
};

struct FidelitySection {
  std::string name;         // "kfold", "extrapolation", ...
  std::string description;  // what was fitted on what
  std::vector<FidelityPoint> points{};
  std::vector<std::string> skipped{};  // records or groups that could not be predicted, and why
  model::ErrorSummary summary() const;
  // Per kernel name, in first-seen order.
  std::vector<std::pair<std::string, model::ErrorSummary>> per_kernel() const;
};

// Every record predicted with `profile` (records it cannot predict go to skipped).
FidelitySection predict_all(const model::CalibrationProfile& profile,
                            const std::vector<DecodeMeasurement>& records, std::string name,
                            std::string description);

FidelitySection kfold_held_out(const std::vector<DecodeMeasurement>& records, int folds);
// Fit on ctx_len_max <= train_max, predict ctx_len_max >= test_min.
FidelitySection extrapolation(const std::vector<DecodeMeasurement>& records, int64_t train_max,
                              int64_t test_min);
// A shape: (kernel, q_heads, kv_heads, d_qk, d_v). Each left out in turn, fitted on the rest.
FidelitySection leave_one_shape_out(const std::vector<DecodeMeasurement>& records);
// Fit on `from`, predict `to` (each record with its own read ceiling and plan).
// name: the section's name ("transfer_to_other", "transfer_from_other").
FidelitySection cross_gpu_transfer(const std::vector<DecodeMeasurement>& from,
                                   const std::vector<DecodeMeasurement>& to, std::string name);
// Measurements of the same GPU from several files (calls on different machines, hours apart):
// each file predicted by a fit of the other files. Empty when there is one file.
FidelitySection between_files(const MeasurementSet& set);
// External (plan-free) kernels: fit on every other point in (batch, context) order, predict the
// rest.
FidelitySection external_half_split(const std::vector<DecodeMeasurement>& records);

nlohmann::json section_json(const FidelitySection& s, bool with_points);
// One row per point (reports/SCHEMA.md, `fidelity` CSV), header first.
std::string section_csv(const FidelitySection& s);

}  // namespace attnroof::calibrate

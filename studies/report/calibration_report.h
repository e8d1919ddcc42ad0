// defines: CalibrationReportInput, write_calibration_report (reports/calibration/<gpu>/: README.md
// with the fitted parameters and every fidelity section's errors, fidelity.json, profile.json,
// and two plots: predicted against measured (parity) and relative error against context),
//          write_fidelity_plots
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "calibrate/fidelity.h"
#include "calibrate/measurement.h"
#include "model/calibration.h"

namespace attnroof::cli {

struct CalibrationReportInput {
  model::CalibrationProfile profile;
  // Their points refer to the caller's records, which must outlive the call.
  std::vector<calibrate::FidelitySection> sections;
  std::optional<model::ErrorSummary> gemm_held_out;  // the projection fit on GEMMs it did not see
  std::string command_line;
};

// Writes into `dir` (an existing, empty directory).
void write_calibration_report(const std::filesystem::path& dir, const CalibrationReportInput& in);

// The two plots of a fidelity section: <stem>_parity (predicted against measured, log-log, one
// colour per kernel) and <stem>_error_vs_context (relative error against the longest context).
// Returns the gnuplot scripts written (none for a section without points).
std::vector<std::string> write_fidelity_plots(const std::filesystem::path& dir,
                                              const calibrate::FidelitySection& s,
                                              const std::string& stem);

}  // namespace attnroof::cli

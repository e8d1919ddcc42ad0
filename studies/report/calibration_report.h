// defines: CalibrationReportInput, write_calibration_report (reports/calibration/<gpu>/: README.md
// with the fitted parameters and every fidelity section's errors, fidelity.json, profile.json,
// and two plots: predicted against measured (parity) and relative error against context)
#pragma once
#include <filesystem>
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
  std::string command_line;
};

// Writes into `dir` (an existing, empty directory).
void write_calibration_report(const std::filesystem::path& dir, const CalibrationReportInput& in);

}  // namespace attnroof::cli

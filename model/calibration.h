// defines: ErrorSummary, summarize_errors, FamilyCalibration, ExternalCalibration,
//          KernelCalibration, CalibrationProfile, parse_calibration, load_calibration_file, builtin_calibration,
//          find_builtin_calibration, find_builtin_calibration_for_gpu, plan_for,
//          predict_attention
//
// A calibration profile: the fitted time-model parameters (model/time_model.h) of one GPU. Our
// own kernels take the split-KV form (9 parameters): one fit per compiled kernel (each is its own
// program: tile loop, warpgroups, occupancy) and one per kernel family over all of its kernels,
// used for a kernel of the family that was not measured. External kernels take the plan-free
// form (4 parameters each). With them: the facts of the kernels' plans measured there, the
// residuals of every fit and where the measurements came from. Written by `attnroof calibrate`,
// shipped profiles embedded from model/data/calibration/ and attached to their hardware profile
// (`--calibration FILE|none` overrides). reports/SCHEMA.md ("Calibration profile") defines it.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/json_reader.h"
#include "model/time_model.h"

namespace attnroof::model {

// |predicted / measured - 1| over a set of points.
struct ErrorSummary {
  int64_t n_points = 0;
  double median_abs_rel_error = 0;
  double p95_abs_rel_error = 0;
  double max_abs_rel_error = 0;
  nlohmann::json to_json() const;
};
ErrorSummary summarize_errors(std::vector<double> abs_rel_errors);

// One compiled kernel of ours on the profile's GPU: what the launcher picked for its shape
// (kernels/cuda/launch_decode), and its own fit when enough of its points were measured.
struct KernelCalibration {
  std::string kernel;
  KernelFamily family = KernelFamily::separate_kv;
  int64_t d_qk = 0, d_v = 0;
  int64_t tile_m = 0, tile_n = 0, stages = 0, ctas_per_sm = 0;
  bool fitted = false;  // false: too few points; the family's parameters price it
  SplitKvParams params{};
  ErrorSummary fit{};   // in-sample residuals of its own fit
};
// A kernel's own fit needs at least this many points per parameter.
inline constexpr int64_t kMinPointsPerParam = 3;

struct FamilyCalibration {
  KernelFamily family = KernelFamily::separate_kv;
  SplitKvParams params;  // one fit over every kernel of the family
  ErrorSummary fit;      // its in-sample residuals
  std::vector<KernelCalibration> kernels;

  const KernelCalibration* kernel(std::string_view name) const;
  // The kernel's own parameters when it has them, else the family's.
  const SplitKvParams& params_for(std::string_view kernel_name) const;
};

struct ExternalCalibration {
  std::string kernel;
  KernelFamily family = KernelFamily::separate_kv;
  PlanFreeParams params;
  ErrorSummary fit;
};

// The projection GEMMs (C[M,N] = A[M,K] x W[K,N], bf16) timed with cuBLAS at decode shapes: the
// plan-free form per GEMM, per_sequence_s being the cost per row of M. A projection or output
// stage then costs the sum over its GEMMs.
struct GemmCalibration {
  bool present = false;
  PlanFreeParams params{};
  ErrorSummary fit{};
};

struct CalibrationProfile {
  std::string gpu;            // as the driver names it: "NVIDIA H200"
  double read_ceiling_Bps = 0;  // measured with the kernels (median over the measurement files)
  int64_t sm_count = 0;
  // The median SM clock of the measurements (0: unknown). Predictions for points that carry no
  // clock (the model's own) assume it: a loaded GPU near its power limit runs below its boost.
  double typical_sm_clock_mhz = 0;
  std::vector<FamilyCalibration> families;
  std::vector<ExternalCalibration> external;
  GemmCalibration projection;
  nlohmann::json provenance;  // files, commits, command, date, noise floor
  std::string source;         // where this profile was read from ("embedded: ...", a path)

  const FamilyCalibration* family(KernelFamily f) const;
  const ExternalCalibration* external_kernel(std::string_view kernel) const;
  nlohmann::json to_json() const;
};

CalibrationProfile parse_calibration(const nlohmann::json& j, const JsonSource& source);
CalibrationProfile load_calibration_file(const std::string& path);
// The embedded profiles (model/data/calibration/*.json), keyed by their file's base name
// ("h200_sxm" for h200_sxm.json): a hardware profile of that id uses it by default.
std::shared_ptr<const CalibrationProfile> find_builtin_calibration(std::string_view hardware_id);
// The embedded profile measured on this GPU (its driver name and SM count, as
// cudaGetDeviceProperties reports them: "NVIDIA H200", 132); nullptr when none was.
std::shared_ptr<const CalibrationProfile> find_builtin_calibration_for_gpu(std::string_view gpu,
                                                                           int64_t sm_count);

// The plan our launcher would choose for this shape and batch on the profile's GPU: the tile
// rule (model::decode_tile_m), the measured kernel facts of the family (the same d_qk/d_v and
// tile_m when measured, else the nearest widths: `assumed` says so; its kernel's parameters then
// are the family's) and model::plan_splits with those parameters, the profile's read ceiling and
// (when the work names none) its typical SM clock. Throws InputError when the work has problems().
struct PlannedWork {
  KernelPlan plan;
  std::string kernel;  // the fact's kernel name
  bool assumed = false;
  SplitKvParams params;  // what prices it (and chose its splits)
};
std::optional<PlannedWork> plan_for(const CalibrationProfile& profile, const DecodeWork& work);

// The calibrated attention time of the work on the profile's GPU, with the profile's read
// ceiling; nullopt when the profile has no fit of the work's family or the work has problems()
// (past the sizes and the CTA count the time model schedules: model/time_model.h).
std::optional<TimePrediction> predict_attention(const CalibrationProfile& profile, DecodeWork work);
// One GEMM of `rows` rows moving `bytes` and doing `flops`, on the profile's GPU; nullopt without
// a projection fit.
std::optional<TimePrediction> predict_gemm(const CalibrationProfile& profile, double rows,
                                           double bytes, double flops);

}  // namespace attnroof::model

// attnroof calibrate: measured decode points (bench-kernels JSON, or the measurement CSV any
// kernel's benchmark can write) in, a calibration profile out: the time model's parameters per
// kernel family (our kernels, split-KV form) and per external kernel (plan-free form), with the
// fit residuals and the noise floor of the measurements. --report-dir adds the fidelity report:
// k-fold held-out error, extrapolation to long contexts, leave one shape out, transfer to another
// GPU's measurements, and the parity and error-vs-context plots.
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <string_view>
#include <memory>

#include "calibrate/fidelity.h"
#include "calibrate/fit.h"
#include "calibrate/measurement.h"
#include "model/error.h"
#include "model/time_model.h"
#include "studies/report/calibration_report.h"
#include "studies/commands/commands.h"
#include "studies/options.h"
#include "studies/report/output.h"
#include "studies/report/provenance.h"
#include "studies/report/text_table.h"

namespace attnroof::cli {

namespace calibrate_command {  // named, not anonymous: a unity build compiles the commands as one unit

struct Options {
  std::vector<std::string> inputs;
  std::string out;
  double read_ceiling = 0;
  std::string report_dir;
  std::vector<std::string> transfer;
  int64_t folds = 5;
  int64_t train_max_ctx = 262144;
  int64_t test_min_ctx = 524288;
};

template <std::size_t N>
std::string params_line(const std::array<double, N>& values, const std::array<std::string_view, N>& names) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) out += fmt::format("{}{}={:.3g}", i ? " " : "", names[i], values[i]);
  return out;
}

// One row per fit: the family's over all its kernels, each kernel's own, each external kernel's
// and the projection GEMMs'.
std::string params_text(const model::CalibrationProfile& p) {
  report::TextTable t;
  t.header = {"fit", "form", "points", "median |err|", "p95 |err|", "max |err|", "parameters"};
  auto row = [&](std::string name, const char* form, const model::ErrorSummary& e, std::string params) {
    auto pct = [](double v) { return fmt::format("{:.1f}%", 100 * v); };
    t.rows.push_back({std::move(name), form, std::to_string(e.n_points), pct(e.median_abs_rel_error),
                      pct(e.p95_abs_rel_error), pct(e.max_abs_rel_error), std::move(params)});
  };
  for (const model::FamilyCalibration& f : p.families) {
    row(fmt::format("{} (all kernels)", model::to_string(f.family)), "split_kv", f.fit,
        params_line(f.params.to_array(), model::kSplitKvParamNames));
    for (const model::KernelCalibration& k : f.kernels) {
      if (k.fitted) row(k.kernel, "split_kv", k.fit, params_line(k.params.to_array(), model::kSplitKvParamNames));
      else t.rows.push_back({k.kernel, "split_kv", "-", "-", "-", "-", "too few points: the family's"});
    }
  }
  for (const model::ExternalCalibration& e : p.external)
    row(e.kernel, "plan_free", e.fit, params_line(e.params.to_array(), model::kPlanFreeParamNames));
  if (p.projection.present)
    row("projection GEMMs (cuBLAS)", "plan_free", p.projection.fit,
        params_line(p.projection.params.to_array(), model::kPlanFreeParamNames));
  return t.aligned();
}

void run(const Options& o, const Context& ctx) {
  if (o.out.empty()) throw InputError("-o: give the profile's path (PROFILE.json), or - for stdout");
  if (o.read_ceiling < 0) throw InputError(fmt::format("--read-ceiling: {} must be > 0 B/s", o.read_ceiling));
  if (o.folds < 2) throw InputError(fmt::format("--folds: {} must be >= 2", o.folds));
  if (o.train_max_ctx < 1 || o.test_min_ctx <= o.train_max_ctx)
    throw InputError(fmt::format("--train-max-ctx {} / --test-min-ctx {}: need 1 <= train max < test min",
                                 o.train_max_ctx, o.test_min_ctx));
  if (!o.transfer.empty() && o.report_dir.empty())
    throw InputError("--transfer needs --report-dir (the transfer is a section of the fidelity report)");
  // Everything is read and checked before anything is written.
  const calibrate::MeasurementSet set = calibrate::read_measurements(o.inputs);
  std::optional<calibrate::MeasurementSet> other;
  if (!o.transfer.empty()) other = calibrate::read_measurements(o.transfer);
  std::optional<report::AtomicDir> dir;
  if (!o.report_dir.empty()) dir.emplace(o.report_dir, "fidelity.json", "--report-dir");
  report::Output out(o.out, "-o");

  model::CalibrationProfile profile =
      calibrate::calibrate_profile(set.records, o.read_ceiling, set.gemms);
  profile.provenance = report::provenance(ctx.command_line);
  profile.provenance["measurements"] = set.files;
  profile.provenance["noise_floor"] = calibrate::noise_floor(set.records);
  profile.provenance["read_ceiling_source"] =
      o.read_ceiling > 0 ? "--read-ceiling" : "median of the records' read_ceiling_Bps";
  out.write(profile.to_json().dump(1) + "\n");

  if (dir) {
    CalibrationReportInput in;
    in.profile = profile;
    in.sections.push_back(calibrate::predict_all(profile, set.records, "in_sample",
                                                 "every point, predicted by the fit of all of them"));
    in.sections.push_back(calibrate::kfold_held_out(set.records, int(o.folds)));
    in.sections.push_back(calibrate::extrapolation(set.records, o.train_max_ctx, o.test_min_ctx));
    in.sections.push_back(calibrate::leave_one_shape_out(set.records));
    if (set.files.size() > 1) in.sections.push_back(calibrate::between_files(set));
    if (other) {
      in.sections.push_back(
          calibrate::cross_gpu_transfer(set.records, other->records, "transfer_to_other"));
      in.sections.push_back(
          calibrate::cross_gpu_transfer(other->records, set.records, "transfer_from_other"));
    }
    in.sections.push_back(calibrate::external_half_split(set.records));
    in.command_line = ctx.command_line;
    if (set.gemms.size() >= 2 * model::PlanFreeParams::kCount)
      in.gemm_held_out = calibrate::gemm_half_split(set.gemms, profile.read_ceiling_Bps);
    write_calibration_report(dir->temp(), in);
    dir->commit();
  }
  out.commit();
  if (!out.is_stdout()) fmt::print("{}wrote {}\n", params_text(profile), o.out);
  if (dir) fmt::print("wrote {}/ (README.md, fidelity.json, plots)\n", o.report_dir);
}

}  // namespace calibrate_command

Runner setup_calibrate(CLI::App& app, const Context& ctx) {
  auto o = std::make_shared<calibrate_command::Options>();
  app.add_option("measurements", o->inputs,
                 "bench-kernels JSON files (their \"records\") or measurement CSV files (*.csv, "
                 "reports/SCHEMA.md \"Measurement CSV\"), all from one GPU")
      ->required();
  app.add_option("-o,--out", o->out, "the profile to write (JSON, atomically); - for stdout")->required();
  add_real_option(app, "--read-ceiling", o->read_ceiling,
                  "streaming-read bandwidth of the GPU in B/s, for records that carry none (CSV "
                  "rows without read_ceiling_Bps); overrides the records' own; 0: the records'",
                  0);
  app.add_option("--report-dir", o->report_dir,
                 "also write the fidelity report there: README.md, fidelity.json, parity and "
                 "error-vs-context plots");
  app.add_option("--transfer", o->transfer,
                 "another GPU's measurements: the report adds the cross-GPU transfer both ways")
      ->expected(1, -1);
  add_int_option(app, "--folds", o->folds, "k of the k-fold held-out error", 2);
  add_int_option(app, "--train-max-ctx", o->train_max_ctx,
                 "extrapolation: fit on contexts up to this", 1);
  add_int_option(app, "--test-min-ctx", o->test_min_ctx,
                 "extrapolation: predict contexts from this", 1);
  app.footer(fmt::format(
      "The fit: least squares on log(predicted / measured), Levenberg-Marquardt, deterministic. "
      "Our kernels (records with a plan) fit {} parameters per kernel and per kernel family; "
      "other kernels fit {} per kernel (fixed cost, per-sequence cost, bandwidth efficiency, "
      "tensor rate).\n"
      "Examples (from the source directory):\n"
      "  attnroof calibrate reports/calibration/data/h200_run8_measurements.json -o h200.json\n"
      "  attnroof calibrate flashmla.csv --read-ceiling 4.57e12 -o flashmla_h200.json\n"
      "  attnroof calibrate reports/calibration/data/h200_run8_measurements.json -o h200.json \\\n"
      "      --report-dir /tmp/h200 --transfer reports/calibration/data/h100_measurements.json\n"
      "Then: attnroof fidelity --calibration h200.json MEASUREMENTS..., and --calibration on "
      "explain and sweep.",
      model::SplitKvParams::kCount, model::PlanFreeParams::kCount));
  return [o, &ctx] { calibrate_command::run(*o, ctx); };
}

}  // namespace attnroof::cli

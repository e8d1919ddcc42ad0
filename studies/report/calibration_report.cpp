#include "studies/report/calibration_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "studies/report/gnuplot.h"
#include "studies/report/output.h"
#include "studies/report/text_table.h"

namespace attnroof::cli {

namespace {

std::string pct(double v) { return fmt::format("{:.1f}%", 100 * v); }

std::string summary_table(const std::vector<calibrate::FidelitySection>& sections) {
  report::TextTable t;
  t.header = {"section", "points", "median |err|", "p95 |err|", "max |err|",
                                 "not predicted"};
  for (const calibrate::FidelitySection& s : sections) {
    const model::ErrorSummary e = s.summary();
    t.rows.push_back({s.name, std::to_string(e.n_points), pct(e.median_abs_rel_error),
                      pct(e.p95_abs_rel_error), pct(e.max_abs_rel_error),
                      std::to_string(s.skipped.size())});
  }
  return t.markdown();
}

std::string per_kernel_table(const calibrate::FidelitySection& s) {
  report::TextTable t;
  t.header = {"kernel", "points", "median |err|", "p95 |err|", "max |err|"};
  for (const auto& [kernel, e] : s.per_kernel())
    t.rows.push_back({kernel, std::to_string(e.n_points), pct(e.median_abs_rel_error),
                      pct(e.p95_abs_rel_error), pct(e.max_abs_rel_error)});
  return t.markdown();
}

std::string params_table(const model::CalibrationProfile& p) {
  std::string out;
  for (const model::FamilyCalibration& f : p.families) {
    report::TextTable t;
    t.header = {"parameter", "family"};
    const auto v = f.params.to_array();
    for (std::size_t i = 0; i < v.size(); ++i)
      t.rows.push_back({std::string(model::kSplitKvParamNames[i]), fmt::format("{:.4g}", v[i])});
    for (const model::KernelCalibration& k : f.kernels) {
      t.header.push_back(fmt::format("`{}`", k.kernel));
      const auto kv = k.params.to_array();
      for (std::size_t i = 0; i < kv.size(); ++i)
        t.rows[i].push_back(k.fitted ? fmt::format("{:.4g}", kv[i]) : "(family's)");
    }
    t.rows.push_back({"fit: points, median / p95 |err|",
                      fmt::format("{}, {} / {}", f.fit.n_points, pct(f.fit.median_abs_rel_error),
                                  pct(f.fit.p95_abs_rel_error))});
    for (const model::KernelCalibration& k : f.kernels)
      t.rows.back().push_back(k.fitted ? fmt::format("{}, {} / {}", k.fit.n_points,
                                                     pct(k.fit.median_abs_rel_error),
                                                     pct(k.fit.p95_abs_rel_error))
                                       : "-");
    t.rows.push_back({"plan: tile_m x tile_n, stages, CTAs/SM", "-"});
    for (const model::KernelCalibration& k : f.kernels)
      t.rows.back().push_back(fmt::format("{} x {}, {}, {}", k.tile_m, k.tile_n, k.stages, k.ctas_per_sm));
    out += fmt::format("**{}** (split-KV form, {} parameters per fit: the family's over all its "
                       "kernels, then each kernel's own)\n\n{}\n",
                       model::to_string(f.family), v.size(), t.markdown());
  }
  if (p.projection.present) {
    report::TextTable t;
    t.header = {"parameter", "value"};
    const auto v = p.projection.params.to_array();
    for (std::size_t i = 0; i < v.size(); ++i)
      t.rows.push_back({std::string(model::kPlanFreeParamNames[i]), fmt::format("{:.4g}", v[i])});
    out += fmt::format("**projection GEMMs** (plan-free form per GEMM, per_sequence_s per row of M)\n\n{}\n",
                       t.markdown());
  }
  for (const model::ExternalCalibration& e : p.external) {
    report::TextTable t;
  t.header = {"parameter", "value"};
    const auto v = e.params.to_array();
    for (std::size_t i = 0; i < v.size(); ++i)
      t.rows.push_back({std::string(model::kPlanFreeParamNames[i]), fmt::format("{:.4g}", v[i])});
    out += fmt::format("**{}** ({}, plan-free form, {} parameters)\n\n{}\n", e.kernel,
                       model::to_string(e.family), v.size(), t.markdown());
  }
  return out;
}

}  // namespace

std::vector<std::string> write_fidelity_plots(const std::filesystem::path& dir,
                                              const calibrate::FidelitySection& s,
                                              const std::string& stem) {
  std::vector<std::string> scripts;
  std::map<std::string, report::Series> parity, error;
  std::vector<std::string> order;
  double lo = 1e300, hi = 0;
  for (const calibrate::FidelityPoint& p : s.points) {
    const std::string& k = p.record->kernel;
    if (!parity.contains(k)) {
      order.push_back(k);
      parity[k] = report::Series{.title = k, .points_only = true};
      error[k] = report::Series{.title = k, .points_only = true};
    }
    parity[k].x.push_back(p.record->time_s * 1e6);
    parity[k].y.push_back(p.predicted_s * 1e6);
    error[k].x.push_back(double(p.record->ctx_len_max()));
    error[k].y.push_back(100 * p.rel_error());
    lo = std::min({lo, p.record->time_s * 1e6, p.predicted_s * 1e6});
    hi = std::max({hi, p.record->time_s * 1e6, p.predicted_s * 1e6});
  }
  if (order.empty()) return scripts;
  report::LinePlot par{.title = fmt::format("{}: predicted vs measured (one point per measured decode step)", s.name),
                       .x_label = "measured time (us)",
                       .y_label = "predicted time (us)",
                       .log_x = true,
                       .log_y = true};
  par.series.push_back(report::Series{.title = "predicted = measured", .x = {lo, hi}, .y = {lo, hi},
                                      .color = 8, .dashed = true});
  report::LinePlot err{.title = fmt::format("{}: relative error vs context", s.name),
                       .x_label = "longest context (keys)",
                       .y_label = "predicted / measured - 1 (%)",
                       .log_x = true};
  for (std::size_t i = 0; i < order.size(); ++i) {
    parity[order[i]].color = int(i) + 1;
    error[order[i]].color = int(i) + 1;
    par.series.push_back(parity[order[i]]);
    err.series.push_back(error[order[i]]);
  }
  scripts.push_back(report::write_line_plot(dir, stem + "_parity", par));
  scripts.push_back(report::write_line_plot(dir, stem + "_error_vs_context", err));
  return scripts;
}

void write_calibration_report(const std::filesystem::path& dir, const CalibrationReportInput& in) {
  nlohmann::json sections = nlohmann::json::array();
  // Every point of the k-fold section (the plotted one); the others as summaries (their points
  // are a rerun of `attnroof calibrate --report-dir` away, and would make the file tens of MB).
  for (const calibrate::FidelitySection& s : in.sections)
    sections.push_back(calibrate::section_json(s, s.name == "kfold"));
  nlohmann::json doc{{"report", "calibration_fidelity"},
                     {"gpu", in.profile.gpu},
                     {"provenance", in.profile.provenance},
                     {"sections", sections}};
  if (in.gemm_held_out) doc["projection_gemms_half_split"] = in.gemm_held_out->to_json();
  // Compact: thousands of points per section.
  report::write_file_atomic(dir / "fidelity.json", doc.dump() + "\n");
  report::write_file_atomic(dir / "profile.json", in.profile.to_json().dump(1) + "\n");

  std::vector<std::string> scripts;
  for (const calibrate::FidelitySection& s : in.sections)
    if (s.name == "kfold") scripts = write_fidelity_plots(dir, s, "kfold");
  bool rendered = report::gnuplot_available();
  for (const std::string& script : scripts) rendered = rendered && report::run_gnuplot(dir, script);

  std::string md = fmt::format("# Calibration of the decode time model: {}\n\n", in.profile.gpu);
  md += fmt::format(
      "Written by `{}`. The profile (`profile.json`) holds the fitted parameters; `fidelity.json` "
      "every point of every section below (measured, predicted, relative error, bound). "
      "reports/SCHEMA.md defines both. Collectives are not calibrated: no multi-GPU machine has "
      "been measured.\n\n",
      in.command_line);
  md += "## Fidelity: |predicted / measured - 1|\n\n" + summary_table(in.sections) + "\n";
  for (const calibrate::FidelitySection& s : in.sections) {
    md += fmt::format("### {}\n\n{}.\n\n{}\n", s.name, s.description, per_kernel_table(s));
    if (!s.skipped.empty()) {
      md += fmt::format("Not predicted ({}):\n\n", s.skipped.size());
      for (std::size_t i = 0; i < s.skipped.size() && i < 10; ++i) md += fmt::format("- {}\n", s.skipped[i]);
      if (s.skipped.size() > 10) md += fmt::format("- ... and {} more (fidelity.json)\n", s.skipped.size() - 10);
      md += "\n";
    }
  }
  if (in.profile.projection.present) {
    const model::ErrorSummary& f = in.profile.projection.fit;
    md += fmt::format("### projection GEMMs\n\ncuBLAS bf16 GEMMs at decode shapes (M = 1..128 rows against "
                      "real projection weights), the plan-free form: {} GEMMs in-sample median {}, p95 {}",
                      f.n_points, pct(f.median_abs_rel_error), pct(f.p95_abs_rel_error));
    if (in.gemm_held_out)
      md += fmt::format("; fitted on every other GEMM in (K, N, M) order, the other {}: median {}, p95 {}, max {}",
                        in.gemm_held_out->n_points, pct(in.gemm_held_out->median_abs_rel_error),
                        pct(in.gemm_held_out->p95_abs_rel_error), pct(in.gemm_held_out->max_abs_rel_error));
    md += ".\n\n";
  }
  md += "## Noise floor of the measurements\n\n";
  if (in.profile.provenance.contains("noise_floor")) {
    const nlohmann::json& n = in.profile.provenance["noise_floor"];
    const nlohmann::json& b = n["between_passes_abs_rel_difference"];
    const nlohmann::json& w = n["within_runs_max_minus_min_over_median"];
    md += fmt::format(
        "- Between passes (the same point measured again later in the call, interleaved): "
        "{} points, median {}, p95 {}, max {} ({}).\n"
        "- Within one point's runs, (max - min) / median: {} points, median {}, p95 {}.\n\n",
        b["n_points"].get<int64_t>(), pct(b["median_abs_rel_error"].get<double>()),
        pct(b["p95_abs_rel_error"].get<double>()), pct(b["max_abs_rel_error"].get<double>()),
        n["note"].get<std::string>(), w["n_points"].get<int64_t>(),
        pct(w["median_abs_rel_error"].get<double>()), pct(w["p95_abs_rel_error"].get<double>()));
  }
  md += "## Fitted parameters\n\n" + params_table(in.profile);
  if (!scripts.empty()) {
    md += rendered ? "## Plots (k-fold held-out points)\n\n![parity](kfold_parity.png)\n\n"
                     "![error vs context](kfold_error_vs_context.png)\n"
                   : "## Plots\n\ngnuplot was not available: run `gnuplot kfold_parity.gp "
                     "kfold_error_vs_context.gp` here to render them.\n";
  }
  report::write_file_atomic(dir / "README.md", md);
}

}  // namespace attnroof::cli

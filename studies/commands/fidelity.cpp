// attnroof fidelity: every measured point predicted with a calibration profile, against its
// measured time: the error of each point and the summary (median, p95, max |predicted/measured
// - 1|) over all points and per kernel.
#include <fmt/format.h>

#include <memory>

#include "calibrate/fidelity.h"
#include "calibrate/measurement.h"
#include "model/error.h"
#include "studies/commands/commands.h"
#include "studies/options.h"
#include "studies/report/columns.h"
#include "studies/report/output.h"
#include "studies/report/provenance.h"
#include "studies/report/text_table.h"

namespace attnroof::cli {

namespace fidelity_command {  // named, not anonymous: a unity build compiles the commands as one unit

struct Options {
  std::string calibration;
  std::vector<std::string> inputs;
  std::string format = "table";
  std::string out;
};

std::string pct(double v) { return fmt::format("{:+.1f}%", 100 * v); }

void run(const Options& o, const Context& ctx) {
  const report::Format format = report::parse_format(o.format, "--format");
  const model::CalibrationProfile profile = resolve_calibration(o.calibration, "--calibration");
  const calibrate::MeasurementSet set = calibrate::read_measurements(o.inputs);
  report::Output out(o.out, "-o");
  const calibrate::FidelitySection s = calibrate::predict_all(
      profile, set.records, "fidelity", fmt::format("predicted with {}", profile.source));
  const model::ErrorSummary e = s.summary();
  if (format == report::Format::json) {
    nlohmann::json doc = calibrate::section_json(s, true);
    doc["summary"] = e.to_json();
    doc["report"] = "fidelity";
    doc["calibration"] = {{"source", profile.source}, {"gpu", profile.gpu}};
    doc["measurements"] = set.files;
    doc["provenance"] = report::provenance(ctx.command_line);
    out.write(doc.dump(1) + "\n");
  } else if (format == report::Format::csv) {
    out.write(calibrate::section_csv(s));
  } else {
    report::TextTable t;
  t.header = {"kernel", "heads", "batch", "ctx", "page", "measured us",
                                   "predicted us", "error", "bound"};
    for (const calibrate::FidelityPoint& p : s.points) {
      const calibrate::DecodeMeasurement& m = *p.record;
      t.rows.push_back({m.kernel, fmt::format("{}/{}", m.q_heads, m.kv_heads),
                        std::to_string(m.batch()),
                        fmt::format("{}{}", m.ctx_len_max(), m.ragged() ? " (ragged)" : ""),
                        std::to_string(m.page_size), fmt::format("{:.1f}", m.time_s * 1e6),
                        fmt::format("{:.1f}", p.predicted_s * 1e6), pct(p.rel_error()), p.bound});
    }
    std::string text = t.aligned();
    text += fmt::format("\n{} points predicted with {} ({}): median |err| {:.1f}%, p95 {:.1f}%, "
                        "max {:.1f}%\n",
                        e.n_points, profile.source, profile.gpu, 100 * e.median_abs_rel_error,
                        100 * e.p95_abs_rel_error, 100 * e.max_abs_rel_error);
    for (const auto& [kernel, k] : s.per_kernel())
      text += fmt::format("  {}: {} points, median {:.1f}%, p95 {:.1f}%, max {:.1f}%\n", kernel,
                          k.n_points, 100 * k.median_abs_rel_error, 100 * k.p95_abs_rel_error,
                          100 * k.max_abs_rel_error);
    if (!s.skipped.empty())
      text += fmt::format("{} records not predicted; the first: {}\n", s.skipped.size(), s.skipped.front());
    out.write(text);
  }
  out.commit();
}

}  // namespace fidelity_command

Runner setup_fidelity(CLI::App& app, const Context& ctx) {
  auto o = std::make_shared<fidelity_command::Options>();
  app.add_option("--calibration", o->calibration,
                 "a profile written by `attnroof calibrate`, or a hardware id whose shipped "
                 "profile to use (h100_sxm, h200_sxm)")
      ->required();
  app.add_option("measurements", o->inputs, "bench-kernels JSON or measurement CSV files")->required();
  app.add_option("--format", o->format, "table, csv or json")->capture_default_str();
  app.add_option("-o,--out", o->out, "write to FILE (atomically) instead of stdout");
  app.footer(
      "Examples:\n"
      "  attnroof fidelity --calibration h200_sxm \\\n"
      "      reports/calibration/data/h200_run8_q_tokens_measurements.json\n"
      "  attnroof fidelity --calibration my_h200.json flashmla.csv --format json -o f.json\n"
      "The JSON's \"summary\" holds n_points, median_abs_rel_error, p95_abs_rel_error and "
      "max_abs_rel_error; \"per_kernel\" the same per kernel.");
  return [o, &ctx] { fidelity_command::run(*o, ctx); };
}

}  // namespace attnroof::cli

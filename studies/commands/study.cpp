// attnroof study NAME: runs the study definition studies/NAME.json into reports/NAME/:
// report.json (provenance, the definition, every section's rows), one CSV per section,
// README.md (the tables in Markdown, the ratios against the papers' claims, the plots) and
// the plots (.dat + .gp, rendered to PNG and SVG by gnuplot when it is installed). The
// directory is built under a temporary name and renamed into place; on an error nothing is left.
//
// A study definition (reports/SCHEMA.md, "Study definitions"):
//   {"schema_version": 1, "name", "title", "description", "sections": [SECTION, ...]}
//   SECTION kv_table: {"type": "kv_table", "id", "title", "note", "models", "tp", "kv_dtype"}
//   SECTION sweep:    {"type": "sweep", "id", "title", "note", "models", "hardware", "tp",
//                      "batch", "context", "q_tokens", "ep", "dp_attention", "form", "kv_dtype",
//                      "weight_dtype" (default bf16; "native": each preset's), "act_dtype", "markdown_columns", "ratios": [RATIO], "plot": PLOT
//                      (files ID.*) or "plots": [PLOT with "name"] (files ID_NAME.*), not both}
//   models: [{"preset": NAME-or-GLOB or FILE or hf:FILE, "label"?, "tp"?}]   ("tp" pins the
//           model's TP degree; a relative FILE, like a "hardware" file, is relative to the study)
//   RATIO: {"name", "metric", "numerator", "denominator", "claimed", "claimed_min", "claimed_max"}
//          ratio = metric(numerator label) / metric(denominator label) at each ctx_len
//   PLOT:  {"type": "lines", "x", "y", "x_label", "y_label", "x_divisor", "y_divisor",
//           "log_x", "log_y", "title", "series"?, "note"?} or {"type": "roofline", "title",
//           "measured"?: MEASURED}; "series" is a comma list of sweep columns (default "label"):
//           one line per distinct value, the first column picks the colour, the rest solid or
//           dashed; on a log axis a point at or below 0 is not drawn and its legend entry says so
//   MEASURED: {"bench" (a bench-kernels JSON, relative to the repository), "gpu"? (required
//           when the hardware has no calibration; else must equal its calibration's GPU),
//           "shapes"? (comma list), "batch"?, "context"? (axes; default every timed point)}:
//           open markers at FLOPs / bytes moved and FLOPs / measured time; the bench's "gpu"
//           must be the roof's
//   SECTION measured_kernels: {"type": "measured_kernels", "id", "title", "note", "bench" (a
//                     bench-kernels JSON, relative to the repository), "hardware", "batch",
//                     "shapes": [{"shape" (a decode case: model/decode_cases.h), "label"?}],
//                     "ratios"?: [{"numerator",
//                     "denominator", "claimed"?}]}: prediction vs measurement
//   SECTION calibration_fidelity: {"type": "calibration_fidelity", "id", "title", "note",
//                     "hardware" (its shipped calibration), "measurements": [files, relative to the
//                     repository], "held_out"?: "kfold" (default) or "none"}: measured against
//                     predicted, per kernel, with the parity and error-vs-context plots
//   SECTION verify:   {"type": "verify", "id", "title", "note", "variants"?, "tp"?, "seed"?}
//                     runs the float64 reference checks (attnroof verify) into ID.json; when a
//                     check fails the report is still written and the study exits with status 1
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <span>

#include "calibrate/bench_report.h"
#include "calibrate/fidelity.h"
#include "calibrate/measurement.h"
#include "kernels/reference/verify.h"
#include "model/decode_cases.h"
#include "model/error.h"
#include "model/json_reader.h"
#include "studies/cli.h"
#include "studies/commands/commands.h"
#include "studies/data_dir.h"
#include "studies/evaluate.h"
#include "studies/limits.h"
#include "studies/kv_table.h"
#include "studies/options.h"
#include "studies/ranges.h"
#include "studies/report/calibration_report.h"
#include "studies/report/gnuplot.h"
#include "studies/report/output.h"
#include "studies/report/provenance.h"
#include "studies/report/sweep_columns.h"

namespace attnroof::cli {

namespace study_command {  // named, not anonymous: a unity build compiles the commands as one unit

namespace fs = std::filesystem;
using model::ObjectReader;
using report::Output;

struct Options {
  std::string name = "paper";
  std::string studies_dir;  // empty: the data directory's studies/ (data_dir.h)
  std::string out_dir = "reports";
  bool no_plots = false;
};

// The study name and the section ids name the report directory and its files: each must be one
// safe path component (no '/', no "." or "..", nothing a shell or a file system treats specially).
void require_file_name(const ObjectReader& r, const char* key, const std::string& value, std::string_view names) {
  if (value.empty() || value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
    r.fail(key, fmt::format("{} '{}' is invalid: it names {}, so it must be lower-case letters, digits "
                            "and '_' (not empty)",
                            key, model::excerpt(value), names));
  }
}

// A label or title is one line of text: it goes into Markdown headings and table cells and into
// gnuplot scripts, where a newline or another control character would end it early.
std::string one_line(ObjectReader& r, const char* key, const std::string& value) {
  for (const char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      r.fail(key, fmt::format("{} '{}' holds a control character (code {}): a {} is one line of text", key,
                              model::excerpt(value), int(static_cast<unsigned char>(c)), key));
    }
  }
  return value;
}
std::string get_line(ObjectReader& r, const char* key) { return one_line(r, key, r.get_string(key)); }
std::string get_line(ObjectReader& r, const char* key, const std::string& fallback) {
  return one_line(r, key, r.get_string(key, fallback));
}

// A plot divides a column by this before plotting: a finite number > 0.
double get_divisor(ObjectReader& r, const char* key) {
  const double d = r.get_double(key, 1);
  if (!std::isfinite(d) || d <= 0) r.fail(key, fmt::format("{} = {} is invalid: must be a finite number > 0", key, d));
  return d;
}

// An axis given in a study as a string ("128k:2m:+128k") or an array of integers.
std::string axis_text(ObjectReader& r, const char* key, const std::string& fallback) {
  if (!r.has(key)) return fallback;
  const nlohmann::json& v = r.get_raw(key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_array()) {
    std::string out;
    for (const nlohmann::json& e : v) {
      if (!e.is_number_integer()) r.fail(key, "expected an array of integers or an axis string");
      out += (out.empty() ? "" : ",") + std::to_string(e.get<int64_t>());
    }
    if (!out.empty()) return out;
  }
  r.fail(key, fmt::format("expected an axis string such as \"1,2,4,8\" or \"4k:2m:x2\", or an "
                          "array of integers; got {}",
                          v.type_name()));
}

// A relative preset or hardware file path in a study is relative to the study file's directory,
// so a study and its model files can move together.
std::string study_dir(const ObjectReader& r) { return fs::path(r.source().name).parent_path().string(); }

std::vector<ModelEntry> read_models(ObjectReader& section) {
  const nlohmann::json& arr = section.get_raw("models");
  if (!arr.is_array() || arr.empty()) section.fail("models", "expected a non-empty array of {\"preset\": ...}");
  std::vector<ModelEntry> out;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    ObjectReader m(arr[i], section.source(),
                   section.pointer("models") + "/" + std::to_string(i));
    const std::string preset = m.get_string("preset");
    std::vector<ModelEntry> found = resolve_presets({preset}, m.position("preset"), study_dir(m));
    const std::string label = get_line(m, "label", "");
    const int64_t tp = m.get_int("tp", 0);
    if (tp < 0) m.fail("tp", fmt::format("tp = {} is invalid: must be >= 1", tp));
    if (!label.empty() && found.size() != 1) {
      m.fail("label", "a label needs a preset name, not a glob matching several presets");
    }
    for (ModelEntry& e : found) {
      if (!label.empty()) e.label = label;
      e.pinned_tp = tp;
      out.push_back(std::move(e));
    }
    m.finish();
  }
  return out;
}

double metric_of(const Row& r, const std::string& column) {
  for (const report::SweepColumn& c : report::sweep_columns()) {
    if (c.name == column) {
      const report::Cell cell = c.get(r);
      return cell.kind == report::Cell::Kind::integer ? double(cell.integer) : cell.real;
    }
  }
  return 0;
}

void require_numeric_column(ObjectReader& r, const char* key, const std::string& name) {
  for (const report::SweepColumn& c : report::sweep_columns()) {
    if (c.name == name) {
      // probe the kind on a default row is not possible; text columns are listed here
      static const char* const kText[] = {"model", "label", "variant", "hardware", "form", "kv_dtype",
                                          "weight_dtype", "act_dtype", "comm_algorithm", "bound",
                                          "attention_bound", "fits"};
      for (const char* t : kText) {
        if (name == t) r.fail(key, fmt::format("column '{}' is not numeric", name));
      }
      return;
    }
  }
  r.fail(key, fmt::format("unknown column '{}' (reports/SCHEMA.md lists the sweep columns)", name));
}

struct SectionResult {
  nlohmann::json json;
  std::string markdown;
  std::vector<const model::Hardware*> hardware;  // the profiles a sweep section used (report.json echoes them)
};

std::string md_escape(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\";
    out.push_back(c);
  }
  return out;
}

// One row per variant: how many checks passed, the worst error of the checks that must hold and
// the smallest violation of the negative controls (which must exceed their threshold).
SectionResult run_verify_section(ObjectReader& s, const fs::path& dir, const std::string& id,
                                 bool& failed) {
  ref::VerifyOptions v;
  if (s.has("variants")) v.variants = parse_list(s.get_string("variants"), s.position("variants"));
  v.tps = parse_int_axis(axis_text(s, "tp", "1,2,4,8"), s.position("tp"));
  const int64_t seed = s.get_int("seed", 1);
  if (seed < 0) s.fail("seed", fmt::format("seed = {} is invalid: must be >= 0", seed));
  v.seed = uint64_t(seed);
  const nlohmann::json rep = ref::run_verify(v);
  report::write_file_atomic(dir / (id + ".json"), rep.dump(2) + "\n");
  failed = !ref::verify_passed(rep);

  std::string md =
      "| variant | checks passed | worst error of the checks that must hold | check | negative "
      "controls: smallest violation (must exceed tol) |\n|---|---:|---:|---|---:|\n";
  for (const nlohmann::json& var : rep["variants"]) {
    int64_t applicable = 0, passed = 0;
    double worst = 0, weakest_violation = -1;
    std::string worst_check = "-";
    for (const nlohmann::json& c : var["checks"]) {
      if (!c["applicable"].get<bool>()) continue;
      ++applicable;
      passed += c["pass"].get<bool>() ? 1 : 0;
      const double err = c["max_rel_err"].get<double>();
      if (c["expect_violation"].get<bool>()) {
        if (weakest_violation < 0 || err < weakest_violation) weakest_violation = err;
      } else if (err >= worst) {
        worst = err;
        worst_check = c["check"].get<std::string>();
      }
    }
    md += fmt::format("| {} | {} / {} | {:.2e} | {} | {} |\n", md_escape(var["label"].get<std::string>()),
                      passed, applicable, worst, worst_check,
                      weakest_violation < 0 ? std::string("-") : fmt::format("{:.3g}", weakest_violation));
  }
  const nlohmann::json& sum = rep["summary"];
  md += fmt::format(
      "\n{} checks, {} failed, {} not applicable (a variant without a separate absorbed form, or a "
      "TP degree it does not shard to). Errors are max |x - ref| / max |ref|. Every check, its "
      "tolerance and detail, the precision study (bf16 inputs, fp32 arithmetic, error vs shift) "
      "and the LRKV finding: [{}.json]({}.json).\n",
      sum["checks"].get<int64_t>(), sum["failed"].get<int64_t>(),
      sum["not_applicable"].get<int64_t>(), id, id);
  if (failed) md += "\n**FAILED: at least one check above did not hold.**\n";
  SectionResult res;
  res.json = {{"file", id + ".json"}, {"summary", sum}, {"pass", !failed}};
  res.markdown = md;
  return res;
}

SectionResult run_kv_section(ObjectReader& s, const fs::path& dir, const std::string& id) {
  std::vector<ModelEntry> models = read_models(s);
  const std::vector<int64_t> tps = parse_int_axis(axis_text(s, "tp", "1,2,4,8"), s.position("tp"));
  const model::Dtype kv = model::parse_dtype(s.get_string("kv_dtype", "bf16"), s.position("kv_dtype"));
  std::vector<nlohmann::json> skipped;
  const std::vector<KvRow> rows = kv_rows(models, tps, kv, skipped);
  {
    Output out((dir / (id + ".csv")).string(), "report");
    report::write_rows<KvRow>(out, report::Format::csv, kv_columns(), rows);
    out.commit();
  }
  SectionResult res;
  res.json = {{"csv", id + ".csv"},
              {"rows", report::rows_json<KvRow>(kv_columns(), rows)},
              {"skipped", skipped}};
  res.markdown = "Elements per token per layer on the worst device (multiple of d_h) and their " +
                 std::string(model::to_string(kv)) + " bytes (elements x " +
                 fmt::format("{:g}", model::bytes_of(kv)) + ").\n\n" + kv_pivot(models, tps, rows).markdown();
  for (const nlohmann::json& k : skipped) {
    res.markdown += fmt::format("\nSkipped {} at tp {}: {}\n", k["model"].get<std::string>(),
                                k["tp"].get<int64_t>(), k["reasons"][0].get<std::string>());
  }
  res.markdown += fmt::format("\nData: [{0}.csv]({0}.csv)\n", id);
  return res;
}

// The model's prediction next to the kernels' measured time (a bench-kernels report): one row
// per benchmark point of the listed shapes, each shape mapped to the preset and TP degree whose
// per-device attention it is. The bench's KV bytes must equal the model's (one truth).
SectionResult run_measured_section(ObjectReader& s, const fs::path& dir, const std::string& id,
                                   const fs::path& repo_root, bool plots, bool& rendered_all,
                                   std::vector<std::string>& plot_files) {
  fs::path bench_path = s.get_string("bench");
  if (bench_path.is_relative()) bench_path = repo_root / bench_path;
  const calibrate::BenchReport bench = calibrate::read_bench_report(bench_path.string());
  const model::Hardware& hw =
      *resolve_hardware(s.get_string("hardware", "h100_sxm"), s.position("hardware"), "", study_dir(s)).at(0);
  const std::vector<int64_t> batches = parse_int_axis(axis_text(s, "batch", "1"), s.position("batch"));
  const double read_bytes_per_s = bench.read_ceiling_Bps;

  // Each shape is a decode case (model/decode_cases.h): the preset and TP degree the benchmark
  // timed it as come from there, never from the study.
  struct Shape {
    std::string name;
    ModelEntry model;
    int64_t tp = 1;
  };
  std::vector<Shape> shapes;
  const nlohmann::json& arr = s.get_raw("shapes");
  if (!arr.is_array() || arr.empty()) s.fail("shapes", "expected a non-empty array of {\"shape\", \"label\"}");
  for (std::size_t i = 0; i < arr.size(); ++i) {
    ObjectReader m(arr[i], s.source(), s.pointer("shapes") + "/" + std::to_string(i));
    Shape sh;
    sh.name = m.get_string("shape");
    const model::DecodeCase& dc = model::find_decode_case(sh.name, m.position("shape"));
    sh.model = resolve_presets({std::string(dc.preset)}, m.position("shape"), study_dir(m)).at(0);
    sh.model.label = m.get_string("label", sh.model.name);
    sh.tp = dc.tp;
    m.finish();
    shapes.push_back(std::move(sh));
  }

  std::string md =
      "| shape | batch | ctx_len | kv_bytes | measured_time_s | predicted_time_s | measured / predicted | "
      "bytes / measured read ceiling (s) | measured fraction of read ceiling |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  std::string csv = "shape,label,preset,tp,batch,ctx_len,kv_bytes,measured_time_s,predicted_time_s,"
                    "measured_over_predicted,read_ceiling_time_s,measured_fraction_of_read_ceiling\n";
  nlohmann::json rows = nlohmann::json::array();
  report::LinePlot lp;
  lp.title = fmt::format("Decode attention, batch {}: model prediction ({}) vs measured kernels ({})",
                         batches.front(), hw.id, bench.gpu);
  lp.x_label = "context length (K tokens, K = 1024)";
  lp.y_label = "time per layer (microseconds)";
  lp.log_x = lp.log_y = true;
  for (const Shape& sh : shapes) {
    const int color = int(lp.series.size() / 2) + 1;
    report::Series predicted{sh.model.label + " predicted", {}, {}, color, true};
    report::Series measured{sh.model.label + " measured", {}, {}, color, false};
    for (const calibrate::BenchPoint& pt : bench.points) {
      if (pt.shape != sh.name) continue;
      const int64_t batch = pt.batch;
      if (std::find(batches.begin(), batches.end(), batch) == batches.end()) continue;
      const int64_t ctx = pt.ctx;
      const model::DecodePoint point = model::DecodePoint::uniform(sh.tp, batch, ctx);
      const std::vector<std::string> problems = point_problems(sh.model, hw, point);
      if (!problems.empty()) s.fail("shapes", fmt::format("{} at tp {}: {}", sh.name, sh.tp, problems.front()));
      Row row;
      evaluate_point(sh.model, hw, point, row);
      const double kv_bytes = pt.kv_bytes;
      const double model_kv = row.cost.kv_read_bytes();
      if (std::abs(kv_bytes - model_kv) > 1e-9 * model_kv) {
        throw InputError(fmt::format("{}: {} batch {} ctx {}: the benchmark moved {} KV bytes but the "
                                     "model's {} at tp {} reads {}: the mapping or one of the two is wrong",
                                     bench_path.string(), sh.name, batch, ctx, kv_bytes, sh.model.name,
                                     sh.tp, model_kv));
      }
      const double t_measured = pt.time_s;
      const double t_predicted = row.stage(model::Stage::attention).t_s;
      const double t_ceiling = pt.total_bytes / read_bytes_per_s;
      md += fmt::format("| {} | {} | {} | {:.4g} | {:.4g} | {:.4g} | {:.3f} | {:.4g} | {:.3f} |\n",
                        md_escape(sh.model.label), batch, ctx, kv_bytes, t_measured, t_predicted,
                        t_measured / t_predicted, t_ceiling, t_ceiling / t_measured);
      csv += fmt::format("{},{},{},{},{},{},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g}\n", sh.name,
                         sh.model.label, sh.model.name, sh.tp, batch, ctx, kv_bytes, t_measured,
                         t_predicted, t_measured / t_predicted, t_ceiling, t_ceiling / t_measured);
      rows.push_back({{"shape", sh.name}, {"label", sh.model.label}, {"preset", sh.model.name},
                      {"tp", sh.tp}, {"batch", batch}, {"ctx_len", ctx}, {"kv_bytes", kv_bytes},
                      {"measured_time_s", t_measured}, {"predicted_time_s", t_predicted},
                      {"measured_over_predicted", t_measured / t_predicted},
                      {"read_ceiling_time_s", t_ceiling},
                      {"measured_fraction_of_read_ceiling", t_ceiling / t_measured}});
      predicted.x.push_back(double(ctx) / 1024);
      predicted.y.push_back(t_predicted * 1e6);
      measured.x.push_back(double(ctx) / 1024);
      measured.y.push_back(t_measured * 1e6);
    }
    if (measured.x.empty()) s.fail("shapes", fmt::format("the benchmark has no point of shape '{}' at the requested batch", sh.name));
    lp.series.push_back(std::move(predicted));
    lp.series.push_back(std::move(measured));
  }
  // Time ratios between shapes at each context, measured and predicted (the papers' speed-ups).
  std::string ratio_md;
  nlohmann::json ratios = nlohmann::json::array();
  if (s.has("ratios")) {
    const nlohmann::json& rarr = s.get_raw("ratios");
    if (!rarr.is_array()) s.fail("ratios", "expected an array of {\"numerator\", \"denominator\", \"claimed\"}");
    for (std::size_t i = 0; i < rarr.size(); ++i) {
      ObjectReader q(rarr[i], s.source(), s.pointer("ratios") + "/" + std::to_string(i));
      const std::string num = q.get_string("numerator"), den = q.get_string("denominator");
      const std::string claimed = q.get_string("claimed", "");
      q.finish();
      ratio_md += fmt::format("\nTime of `{}` / time of `{}` (claimed: {}):\n\n| ctx_len | measured | predicted |\n|---:|---:|---:|\n",
                              num, den, claimed.empty() ? "-" : claimed);
      nlohmann::json points = nlohmann::json::array();
      for (const nlohmann::json& a : rows) {
        if (a["shape"] != num) continue;
        for (const nlohmann::json& b : rows) {
          if (b["shape"] != den || b["ctx_len"] != a["ctx_len"] || b["batch"] != a["batch"]) continue;
          const double measured_ratio = a["measured_time_s"].get<double>() / b["measured_time_s"].get<double>();
          const double predicted_ratio = a["predicted_time_s"].get<double>() / b["predicted_time_s"].get<double>();
          ratio_md += fmt::format("| {} | {:.2f} | {:.2f} |\n", a["ctx_len"].get<int64_t>(), measured_ratio, predicted_ratio);
          points.push_back({{"ctx_len", a["ctx_len"]}, {"batch", a["batch"]}, {"measured", measured_ratio},
                            {"predicted", predicted_ratio}});
        }
      }
      if (points.empty()) q.fail("numerator", fmt::format("no common points of shapes '{}' and '{}'", num, den));
      ratios.push_back({{"numerator", num}, {"denominator", den}, {"claimed", claimed}, {"points", points}});
    }
  }

  report::write_file_atomic(dir / (id + ".csv"), csv);
  const std::string script = report::write_line_plot(dir, id, lp);
  bool rendered = false;
  if (plots) rendered = report::run_gnuplot(dir, script);
  rendered_all = rendered_all && rendered;
  plot_files.push_back(id + ".dat");
  plot_files.push_back(script);
  SectionResult res;
  res.json = {{"csv", id + ".csv"},
              {"bench", bench_path.lexically_relative(repo_root).string()},
              {"bench_gpu", bench.gpu},
              {"bench_command", bench.command},
              {"bench_read_ceiling_bytes_per_s", read_bytes_per_s},
              {"rows", rows},
              {"ratios", ratios},
              {"plot", {{"type", "lines"}, {"data", id + ".dat"}, {"script", script},
                        {"png", rendered ? nlohmann::json(id + ".png") : nlohmann::json()},
                        {"svg", rendered ? nlohmann::json(id + ".svg") : nlohmann::json()}}}};
  res.markdown = md + ratio_md + fmt::format(
      "\nMeasured: `{}` on {} (CUDA-graph replay median; read ceiling {:.0f} GB/s measured in the same "
      "run). Predicted: the model's attention stage on the `{}` profile ({}).\n\n"
      "![{}]({}.png)\n\nData: [{}.csv]({}.csv)\n",
      bench.command.empty() ? "bench_kernels" : bench.command, bench.gpu, read_bytes_per_s / 1e9,
      hw.id,
      hw.calibration ? fmt::format("calibrated: the split-KV time model of {}, fitted to these kernels' "
                                   "measurements; the fit's held-out error is in the fidelity section",
                                   hw.calibration->source)
                     : fmt::format("efficiencies: {}", hw.efficiency.source),
      lp.title, id, id, id);
  return res;
}

// Measured decode points predicted with a hardware profile's shipped calibration: every point
// (in_sample), or each by a fit that did not see it (held_out "kfold"); a table per kernel, the
// points as CSV and the parity and error-vs-context plots.
SectionResult run_fidelity_section(ObjectReader& s, const fs::path& dir, const std::string& id,
                                   const fs::path& repo_root, bool plots, bool& rendered_all,
                                   std::vector<std::string>& plot_files,
                                   std::vector<std::unique_ptr<calibrate::MeasurementSet>>& keep) {
  const std::string hw_id = s.get_string("hardware");
  const std::string held_out = s.get_string("held_out", "kfold");
  if (held_out != "kfold" && held_out != "none")
    s.fail("held_out", fmt::format("held_out = '{}': kfold (each point by a fit of the others) or none", held_out));
  const nlohmann::json& files = s.get_raw("measurements");
  if (!files.is_array() || files.empty()) s.fail("measurements", "expected an array of measurement files (repository paths)");
  std::vector<std::string> paths;
  for (const auto& f : files) {
    if (!f.is_string()) s.fail("measurements", "expected file paths");
    paths.push_back((repo_root / f.get<std::string>()).string());
  }
  keep.push_back(std::make_unique<calibrate::MeasurementSet>(calibrate::read_measurements(paths)));
  const calibrate::MeasurementSet& set = *keep.back();
  const model::CalibrationProfile profile = resolve_calibration(hw_id, s.position("hardware"));
  const calibrate::FidelitySection sec =
      held_out == "kfold" ? calibrate::kfold_held_out(set.records, 5)
                          : calibrate::predict_all(profile, set.records, "in_sample",
                                                   fmt::format("predicted with {}", profile.source));
  report::write_file_atomic(dir / (id + ".csv"), calibrate::section_csv(sec));
  std::string md = "| kernel | points | median \\|err\\| | p95 \\|err\\| | max \\|err\\| |\n|---|---:|---:|---:|---:|\n";
  auto row = [&](const std::string& name, const model::ErrorSummary& e) {
    md += fmt::format("| {} | {} | {:.1f}% | {:.1f}% | {:.1f}% |\n", name, e.n_points, 100 * e.median_abs_rel_error,
                      100 * e.p95_abs_rel_error, 100 * e.max_abs_rel_error);
  };
  for (const auto& [kernel, e] : sec.per_kernel()) row("`" + kernel + "`", e);
  row("**all**", sec.summary());
  const std::vector<std::string> scripts = write_fidelity_plots(dir, sec, id);
  bool rendered = plots && !scripts.empty();
  for (const std::string& script : scripts) {
    if (plots) rendered = report::run_gnuplot(dir, script) && rendered;
    plot_files.push_back(script);
    plot_files.push_back(script.substr(0, script.size() - 3) + ".dat");
  }
  rendered_all = rendered_all && rendered;
  SectionResult res;
  res.json = {{"csv", id + ".csv"},
              {"calibration", profile.source},
              {"held_out", held_out},
              {"description", sec.description},
              {"measurements", set.files},
              {"plots", scripts}};
  const nlohmann::json summary = calibrate::section_json(sec, false);
  for (const char* key : {"summary", "per_kernel", "skipped"}) res.json[key] = summary[key];
  res.markdown = md + fmt::format(
      "\n{} points: {}. The profile: `{}` (`attnroof hardware {}` shows it; reports/calibration/ has "
      "every fidelity section: extrapolation, leave one shape out, transfer between GPUs).\n\n"
      "![parity]({}_parity.png)\n\n![error vs context]({}_error_vs_context.png)\n\nData: [{}.csv]({}.csv)\n",
      sec.summary().n_points, sec.description, profile.source, hw_id, id, id, id, id);
  return res;
}

// Where a sweep section's plots go.
struct PlotTarget {
  const fs::path& dir;
  const fs::path& repo_root;  // "measured" bench paths are relative to it
  bool render = false;
  bool& rendered_all;
  std::vector<std::string>& plot_files;  // every plot file written so far, in any section
};

// "" when no plot of the study wrote <stem>.*; else why the stem cannot be used.
std::string plot_stem_taken(const std::vector<std::string>& plot_files, const std::string& stem) {
  if (std::find(plot_files.begin(), plot_files.end(), stem + ".dat") == plot_files.end()) return "";
  return fmt::format("the plot files {0}.dat, {0}.gp, ... are already written by another plot of this study: "
                     "each plot's files must have their own name",
                     stem);
}

// A series' legend text: each series column's value, a number as column=value.
std::string series_title(std::span<const report::SweepColumn* const> columns, const Row& r) {
  std::string out;
  for (const report::SweepColumn* c : columns) {
    const report::Cell cell = c->get(r);
    const std::string text = report::cell_text(cell);
    out += (out.empty() ? "" : ", ") + (cell.kind == report::Cell::Kind::text ? text : fmt::format("{}={}", c->name, text));
  }
  return out;
}

// The position of `value` in `seen`, appended when new.
std::size_t index_of(std::vector<std::string>& seen, const std::string& value) {
  const auto at = std::find(seen.begin(), seen.end(), value);
  if (at != seen.end()) return std::size_t(at - seen.begin());
  seen.push_back(value);
  return seen.size() - 1;
}

// The values of `xs` as a short list ("512, 1024" or "4, 8, 16 and 3 more").
std::string short_list(const std::vector<double>& xs) {
  constexpr std::size_t kShown = 3;
  std::string out;
  for (std::size_t i = 0; i < std::min(xs.size(), kShown); ++i) out += fmt::format("{}{:g}", i ? ", " : "", xs[i]);
  if (xs.size() > kShown) out += fmt::format(" and {} more", xs.size() - kShown);
  return out;
}

// A lines plot of a sweep's rows: one series per distinct value of the "series" columns (the
// first picks the colour, the others solid or dashed when there are several). A log axis has no
// 0: points at or below 0 are left out of the .dat, named in their series' legend entry and
// listed in `not_drawn`, so a max_batch of 0 (the weights do not fit) is said, not lost.
report::LinePlot line_plot(ObjectReader& p, const std::string& title,
                           const std::vector<std::unique_ptr<Row>>& rows, nlohmann::json& not_drawn) {
  report::LinePlot lp;
  lp.title = title;
  const std::string x = p.get_string("x", "ctx_len");
  const std::string y = p.get_string("y", "t_layer_s");
  require_numeric_column(p, "x", x);
  require_numeric_column(p, "y", y);
  lp.x_label = get_line(p, "x_label", x);
  lp.y_label = get_line(p, "y_label", y);
  const double xd = get_divisor(p, "x_divisor"), yd = get_divisor(p, "y_divisor");
  lp.log_x = p.get_bool("log_x", false);
  lp.log_y = p.get_bool("log_y", false);
  const std::string series_list = p.get_string("series", "label");
  if (series_list.empty()) p.fail("series", "expected a comma list of sweep columns, such as \"label,hardware\"");
  const auto series_columns = report::select_columns(report::sweep_columns(), series_list, p.position("series"));
  if (p.has("note")) lp.notes.push_back(get_line(p, "note"));
  const std::span<const report::SweepColumn* const> columns(series_columns);
  std::vector<std::string> colours, styles;  // distinct first-column values, distinct values of the rest
  struct Hidden {
    std::vector<double> x;   // as drawn (divided by x_divisor)
    bool all_zero = true;    // "= 0" rather than "<= 0" in the legend
    std::string column;      // the column at or below 0
  };
  std::vector<Hidden> hidden;  // per series
  for (const auto& r : rows) {
    const std::string key = series_title(columns, *r);
    auto it = std::find_if(lp.series.begin(), lp.series.end(), [&](const report::Series& se) { return se.title == key; });
    if (it == lp.series.end()) {
      report::Series se{key, {}, {}};
      if (columns.size() == 1) {  // a colour each, dashed once gnuplot's 8 colours repeat
        se.color = int(lp.series.size()) + 1;
        se.dashed = lp.series.size() >= 8;
      } else {
        se.color = int(index_of(colours, series_title(columns.first(1), *r))) + 1;
        se.dashed = index_of(styles, series_title(columns.subspan(1), *r)) % 2 == 1;
      }
      lp.series.push_back(std::move(se));
      hidden.emplace_back();
      it = lp.series.end() - 1;
    }
    const double xv = metric_of(*r, x), yv = metric_of(*r, y);
    if ((lp.log_x && xv <= 0) || (lp.log_y && yv <= 0)) {
      Hidden& h = hidden[std::size_t(it - lp.series.begin())];
      h.x.push_back(xv / xd);
      h.column = lp.log_x && xv <= 0 ? x : y;
      h.all_zero = h.all_zero && (h.column == x ? xv : yv) == 0;
      not_drawn.push_back({{"series", key}, {"x", xv}, {"y", yv}});
      continue;
    }
    it->x.push_back(xv / xd);
    it->y.push_back(yv / yd);
  }
  for (std::size_t i = 0; i < lp.series.size(); ++i) {
    const Hidden& h = hidden[i];
    if (h.x.empty()) continue;
    const std::string what = h.column + (h.all_zero ? " = 0" : " <= 0");
    lp.series[i].title += lp.series[i].x.empty()
                              ? fmt::format(": {} (not drawn)", what)
                              : fmt::format(" ({} at x = {}, not drawn)", what, short_list(h.x));
  }
  return lp;
}

// The roofline's measured points: the timed kernels of a bench-kernels report (the shapes,
// batches and contexts asked for) at FLOPs / bytes moved against FLOPs / measured time. The
// bench must come from the roof's GPU: the one the hardware profile's calibration was measured
// on, or "gpu" for a profile without one.
std::vector<report::RooflinePoint> measured_points(ObjectReader& m, const model::Hardware& hw,
                                                   const fs::path& repo_root, nlohmann::json& json,
                                                   std::string& md) {
  fs::path bench_path = m.get_string("bench");
  if (bench_path.is_relative()) bench_path = repo_root / bench_path;
  const calibrate::BenchReport bench = calibrate::read_bench_report(bench_path.string());
  const std::string calibrated_gpu = hw.calibration ? hw.calibration->gpu : "";
  const std::string roof_gpu = get_line(m, "gpu", calibrated_gpu);
  if (roof_gpu.empty()) {
    m.fail("gpu", fmt::format("hardware '{}' has no calibration naming its GPU: give \"gpu\", the GPU (as the "
                              "driver names it) whose measurements may stand on this roof",
                              hw.id));
  }
  if (!calibrated_gpu.empty() && roof_gpu != calibrated_gpu) {
    m.fail("gpu", fmt::format("gpu '{}' is not the GPU of hardware '{}' ('{}', its calibration's)",
                              model::excerpt(roof_gpu), hw.id, calibrated_gpu));
  }
  if (bench.gpu != roof_gpu) {
    m.fail("bench", fmt::format("{} was measured on '{}' but the roof is {} ('{}'): measured points must come "
                                "from the roof's GPU",
                                bench_path.string(), model::excerpt(bench.gpu), hw.id, roof_gpu));
  }
  std::vector<std::string> shapes;
  for (const calibrate::BenchPoint& pt : bench.points) {
    if (std::find(shapes.begin(), shapes.end(), pt.shape) == shapes.end()) shapes.push_back(pt.shape);
  }
  std::vector<std::string> wanted = shapes;
  if (m.has("shapes")) {
    wanted = parse_list(m.get_string("shapes"), m.position("shapes"));
    for (const std::string& w : wanted) {
      if (std::find(shapes.begin(), shapes.end(), w) == shapes.end()) {
        std::string known;
        for (const std::string& sh : shapes) known += (known.empty() ? "" : ", ") + sh;
        m.fail("shapes", fmt::format("no timed point of shape '{}' in {}; its shapes: {}", model::excerpt(w),
                                     bench_path.string(), known));
      }
    }
  }
  // A batch or context no point has is a typo, not an empty filter.
  const auto axis_filter = [&](const char* key, auto value_of) {
    std::vector<int64_t> values;
    if (!m.has(key)) return values;
    values = parse_int_axis(axis_text(m, key, ""), m.position(key));
    for (const int64_t v : values) {
      const bool seen = std::any_of(bench.points.begin(), bench.points.end(),
                                    [&](const calibrate::BenchPoint& pt) { return value_of(pt) == v; });
      if (!seen) m.fail(key, fmt::format("no timed point of {} has {} {}", bench_path.string(), key, v));
    }
    return values;
  };
  const std::vector<int64_t> batches = axis_filter("batch", [](const calibrate::BenchPoint& pt) { return pt.batch; });
  const std::vector<int64_t> contexts = axis_filter("context", [](const calibrate::BenchPoint& pt) { return pt.ctx; });
  m.finish();
  const auto kept = [](const std::vector<int64_t>& filter, int64_t v) {
    return filter.empty() || std::find(filter.begin(), filter.end(), v) != filter.end();
  };
  std::vector<const calibrate::BenchPoint*> selected;
  std::vector<int64_t> selected_contexts;
  for (const calibrate::BenchPoint& pt : bench.points) {
    if (std::find(wanted.begin(), wanted.end(), pt.shape) == wanted.end() || !kept(batches, pt.batch) ||
        !kept(contexts, pt.ctx)) {
      continue;
    }
    if (pt.flops <= 0) {
      m.fail("bench", fmt::format("{}: the {} point at batch {}, ctx {} has no \"flops\", so it has no place on a "
                                  "roofline",
                                  bench_path.string(), pt.shape, pt.batch, pt.ctx));
    }
    selected.push_back(&pt);
    if (std::find(selected_contexts.begin(), selected_contexts.end(), pt.ctx) == selected_contexts.end()) {
      selected_contexts.push_back(pt.ctx);
    }
  }
  if (selected.empty()) m.fail("shapes", fmt::format("no timed point of {} has the shapes, batch and context asked for", bench_path.string()));
  std::vector<report::RooflinePoint> out;
  for (const calibrate::BenchPoint* pt : selected) {
    // The label names the batch; the context too when the points have several.
    const std::string label = selected_contexts.size() == 1 ? fmt::format("b={}", pt->batch)
                                                            : fmt::format("b={} {}K", pt->batch, pt->ctx / 1024);
    out.push_back({fmt::format("{} measured on {}", pt->shape, bench.gpu), label, pt->flops / pt->total_bytes,
                   pt->flops / pt->time_s});
  }
  json = {{"bench", bench_path.lexically_relative(repo_root).string()}, {"gpu", bench.gpu},
          {"bench_command", bench.command}, {"points", out.size()}};
  std::string context_text;
  for (const int64_t c : selected_contexts) context_text += fmt::format("{}{}", context_text.empty() ? "" : ", ", c);
  md += fmt::format(
      "\nOpen markers: {} kernels measured on {} (`{}`, `{}`), at context {}; x = the kernel's FLOPs / "
      "the bytes it moved, y = its FLOPs / its measured time (CUDA-graph replay median); the label b=N is "
      "the batch. They are the benchmark's shapes, not the models of the filled points.\n",
      out.size(), bench.gpu, bench.command.empty() ? "bench_kernels" : bench.command, json["bench"].get<std::string>(),
      context_text);
  return out;
}

// One plot (`p`) of a sweep section's (`s`) rows: <stem>.dat and .gp (and .png and .svg when
// rendered), its Markdown appended to `md`; returns its report.json entry.
nlohmann::json write_sweep_plot(ObjectReader& p, const ObjectReader& s, const std::string& stem,
                                const std::string& section_title, const Axes& axes,
                                const std::vector<std::unique_ptr<Row>>& rows, const PlotTarget& target,
                                std::string& md) {
  const std::string type = p.get_string("type", "lines");
  const std::string title = get_line(p, "title", section_title);
  nlohmann::json entry = {{"type", type}};
  std::string script, plot_md;
  if (type == "lines") {
    nlohmann::json not_drawn = nlohmann::json::array();
    const report::LinePlot lp = line_plot(p, title, rows, not_drawn);
    p.finish();
    script = report::write_line_plot(target.dir, stem, lp);
    entry["not_drawn"] = not_drawn;
    if (!lp.notes.empty()) plot_md += "\n" + lp.notes.front() + "\n";
    if (!not_drawn.empty()) {
      plot_md += fmt::format("\n{} point(s) are not drawn: a log axis has no 0 (their series' legend entries say "
                             "where; report.json lists them).\n",
                             not_drawn.size());
    }
  } else if (type == "roofline") {
    if (axes.hardware.size() != 1) s.fail("hardware", "a roofline plot takes one hardware profile");
    const model::Hardware& hw = *axes.hardware[0];
    report::RooflinePlot rp;
    rp.title = title;
    rp.hardware = hw.id;
    rp.peak_flop_per_s = hw.peak_flops_per_s(axes.act_dtypes[0]);
    rp.hbm_bytes_per_s = hw.hbm_bytes_per_s;
    rp.eff_hbm = hw.efficiency.hbm;
    rp.eff_tensor = hw.efficiency.tensor;
    for (const auto& r : rows) {
      const model::StageEstimate& st = r->stage(model::Stage::attention);
      rp.points.push_back({r->model->label, fmt::format("tp{}", r->point.tp), st.intensity,
                           st.t_s > 0 ? st.flops / st.t_s : 0});
    }
    if (p.has("measured")) {
      ObjectReader m = p.get_object("measured");
      nlohmann::json measured;
      rp.measured = measured_points(m, hw, target.repo_root, measured, plot_md);
      entry["measured"] = measured;
    }
    p.finish();
    script = report::write_roofline_plot(target.dir, stem, rp);
  } else {
    p.fail("type", fmt::format("unknown plot type '{}'; known: lines, roofline", type));
  }
  const bool rendered = target.render && report::run_gnuplot(target.dir, script);
  target.rendered_all = target.rendered_all && rendered;
  target.plot_files.push_back(stem + ".dat");
  target.plot_files.push_back(script);
  entry["data"] = stem + ".dat";
  entry["script"] = script;
  entry["png"] = rendered ? nlohmann::json(stem + ".png") : nlohmann::json();
  entry["svg"] = rendered ? nlohmann::json(stem + ".svg") : nlohmann::json();
  md += rendered ? fmt::format("\n![{0}]({1}.png)\n\n(SVG: [{1}.svg]({1}.svg); data and gnuplot script: "
                               "[{1}.dat]({1}.dat), [{2}]({2}))\n",
                               md_escape(title), stem, script)
                 : fmt::format("\nPlot not rendered (gnuplot absent or failed): data [{0}.dat]({0}.dat), "
                               "script [{1}]({1}); run `gnuplot {1}` in this directory.\n",
                               stem, script);
  md += plot_md;
  return entry;
}

SectionResult run_sweep_section(ObjectReader& s, const fs::path& dir, const std::string& id,
                                const fs::path& repo_root, bool plots, bool& rendered_all,
                                std::vector<std::string>& plot_files) {
  Axes axes;
  axes.models = read_models(s);
  axes.hardware = resolve_hardware(s.get_string("hardware", "h100_sxm"), s.position("hardware"), "", study_dir(s));
  axes.tp = parse_int_axis(axis_text(s, "tp", "1"), s.position("tp"));
  axes.batch = parse_int_axis(axis_text(s, "batch", "1"), s.position("batch"));
  axes.ctx_len = parse_int_axis(axis_text(s, "context", "8192"), s.position("context"));
  axes.q_tokens = parse_int_axis(axis_text(s, "q_tokens", "1"), s.position("q_tokens"));
  axes.forms = parse_forms(s.get_string("form", "absorbed"), s.position("form"));
  axes.kv_dtypes = parse_dtypes(s.get_string("kv_dtype", "bf16"), s.position("kv_dtype"));
  axes.ep = parse_int_axis(axis_text(s, "ep", "1"), s.position("ep"));
  axes.dp_attention = parse_int_axis(axis_text(s, "dp_attention", "1"), s.position("dp_attention"));
  // bf16 unless the section says otherwise: the studies reproduce papers that state bf16.
  const std::string weight_dtype = s.get_string("weight_dtype", "bf16");
  if (weight_dtype == "native")
    axes.weight_dtypes.clear();
  else
    axes.weight_dtypes = parse_dtypes(weight_dtype, s.position("weight_dtype"));
  axes.act_dtypes = parse_dtypes(s.get_string("act_dtype", "bf16"), s.position("act_dtype"));
  if (axes.size() > kMaxReportPoints) {
    throw InputError(fmt::format("{}: section '{}': {} points, past the limit of {} a study section "
                                 "holds in memory; `attnroof sweep` streams any number",
                                 s.source().name, id, axes.size(), kMaxReportPoints));
  }
  const std::string md_cols = s.get_string(
      "markdown_columns", "label,hardware,tp,batch,ctx_len,kv_bytes_per_token,t_layer_s,bound");
  const auto md_columns = report::select_columns(report::sweep_columns(), md_cols, s.position("markdown_columns"));

  // A study is small: rows are kept (for ratios, plots and Markdown).
  std::vector<std::unique_ptr<Row>> rows;
  std::vector<nlohmann::json> skipped;
  {
    Output out((dir / (id + ".csv")).string(), "report");
    report::RowStream<Row> csv(out, report::Format::csv,
                               report::select_columns(report::sweep_columns(), "", "columns"));
    for_each_point(
        axes,
        [&](const Row& r) {
          csv.row(r);
          rows.push_back(std::make_unique<Row>(r));
        },
        [&](Skip&& k) { skipped.push_back(k.to_json()); });
    csv.finish();
    out.commit();
  }
  SectionResult res;
  nlohmann::json rows_json = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json o = nlohmann::json::object();
    for (const report::SweepColumn& c : report::sweep_columns()) o[std::string(c.name)] = report::cell_json(c.get(*r));
    rows_json.push_back(std::move(o));
  }
  res.hardware = axes.hardware;
  res.json = {{"csv", id + ".csv"}, {"inputs", axes.to_json()}, {"rows", rows_json},
              {"skipped", skipped}, {"skipped_count", skipped.size()}};

  // Markdown table.
  std::string md = "|";
  for (const auto* c : md_columns) md += fmt::format(" {} |", c->name);
  md += "\n|";
  for (std::size_t i = 0; i < md_columns.size(); ++i) md += "---|";
  md += "\n";
  for (const auto& r : rows) {
    md += "|";
    for (const auto* c : md_columns) md += fmt::format(" {} |", md_escape(report::cell_text(c->get(*r))));
    md += "\n";
  }
  res.markdown = md;
  for (const nlohmann::json& k : skipped) {
    res.markdown += fmt::format("\nSkipped {} at tp {}: {}\n", k["model"].get<std::string>(),
                                k["tp"].get<int64_t>(), k["reasons"][0].get<std::string>());
  }
  res.markdown += fmt::format("\nAll columns: [{0}.csv]({0}.csv) (reports/SCHEMA.md defines them)\n", id);

  // Ratios against the papers' claims.
  if (s.has("ratios")) {
    const nlohmann::json& arr = s.get_raw("ratios");
    if (!arr.is_array()) s.fail("ratios", "expected an array");
    nlohmann::json ratios = nlohmann::json::array();
    std::string rmd = "\n| ratio | metric | predicted min | predicted max | claimed |\n|---|---|---:|---:|---|\n";
    std::string per_ctx;
    for (std::size_t i = 0; i < arr.size(); ++i) {
      ObjectReader q(arr[i], s.source(), s.pointer("ratios") + "/" + std::to_string(i));
      const std::string name = q.get_string("name");
      const std::string metric = q.get_string("metric", "t_attention_s");
      require_numeric_column(q, "metric", metric);
      const std::string num = q.get_string("numerator");
      const std::string den = q.get_string("denominator");
      const std::string claimed = q.get_string("claimed", "");
      const double claimed_min = q.get_double("claimed_min", 0);
      const double claimed_max = q.get_double("claimed_max", claimed_min);
      q.finish();
      std::map<int64_t, std::pair<double, double>> by_ctx;  // ctx -> (num, den)
      bool saw_num = false, saw_den = false;
      for (const auto& r : rows) {
        if (r->model->label == num) {
          by_ctx[r->point.ctx_len_max].first = metric_of(*r, metric);
          saw_num = true;
        }
        if (r->model->label == den) {
          by_ctx[r->point.ctx_len_max].second = metric_of(*r, metric);
          saw_den = true;
        }
      }
      if (!saw_num || !saw_den) {
        q.fail(saw_num ? "denominator" : "numerator",
               fmt::format("no evaluated row has label '{}'", saw_num ? den : num));
      }
      nlohmann::json points = nlohmann::json::array();
      double lo = 1e300, hi = -1e300;
      for (const auto& [ctx, v] : by_ctx) {
        if (v.first <= 0 || v.second <= 0) continue;
        const double ratio = v.first / v.second;
        lo = std::min(lo, ratio);
        hi = std::max(hi, ratio);
        points.push_back({{"ctx_len", ctx}, {"numerator", v.first}, {"denominator", v.second}, {"ratio", ratio}});
      }
      ratios.push_back({{"name", name}, {"metric", metric}, {"numerator", num}, {"denominator", den},
                        {"predicted_min", lo}, {"predicted_max", hi}, {"claimed", claimed},
                        {"claimed_min", claimed_min}, {"claimed_max", claimed_max},
                        {"points", points}});
      rmd += fmt::format("| {} = {}({}) / {}({}) | {} | {:.3f} | {:.3f} | {} |\n", name, metric,
                         md_escape(num), metric, md_escape(den), metric, lo, hi, md_escape(claimed));
      per_ctx += fmt::format("\n{} at each ctx_len: ", name);
      for (const nlohmann::json& p : points) {
        per_ctx += fmt::format("{}: {:.3f}; ", p["ctx_len"].get<int64_t>(), p["ratio"].get<double>());
      }
      per_ctx += "\n";
    }
    res.json["ratios"] = ratios;
    res.markdown += rmd + per_ctx;
  }

  // Plots: "plot" (files named by the id) or "plots" (each named <id>_<name>).
  if (s.has("plot") && s.has("plots")) {
    s.fail("plots", "a section takes \"plot\" (one plot, named by the section id) or \"plots\" (several, "
                    "each with a \"name\"), not both");
  }
  const PlotTarget target{dir, repo_root, plots, rendered_all, plot_files};
  if (s.has("plot")) {
    if (const std::string taken = plot_stem_taken(plot_files, id); !taken.empty()) s.fail("plot", taken);
    ObjectReader p = s.get_object("plot");
    res.json["plot"] = write_sweep_plot(p, s, id, s.get_string("title", id), axes, rows, target, res.markdown);
  }
  if (s.has("plots")) {
    const nlohmann::json& arr = s.get_array("plots", "plot objects, each with a \"name\"");
    if (arr.empty()) s.fail("plots", "expected at least one plot");
    res.json["plots"] = nlohmann::json::array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      ObjectReader p(arr[i], s.source(), s.pointer("plots") + "/" + std::to_string(i));
      const std::string name = p.get_string("name");
      require_file_name(p, "name", name, "the plot's files (<section id>_<name>.png, ...)");
      const std::string stem = id + "_" + name;
      if (const std::string taken = plot_stem_taken(plot_files, stem); !taken.empty()) p.fail("name", taken);
      nlohmann::json entry = write_sweep_plot(p, s, stem, s.get_string("title", id), axes, rows, target, res.markdown);
      entry["name"] = name;
      res.json["plots"].push_back(std::move(entry));
    }
  }
  return res;
}

fs::path find_study(Options o) {
  const bool is_path = o.name.find('/') != std::string::npos ||
                       (o.name.size() > 5 && o.name.substr(o.name.size() - 5) == ".json");
  if (!is_path && o.studies_dir.empty()) o.studies_dir = (data_dir() / "studies").string();
  const fs::path p = is_path ? fs::path(o.name) : fs::path(o.studies_dir) / (o.name + ".json");
  if (!fs::exists(p)) {
    std::string known;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(o.studies_dir, ec)) {
      if (e.path().extension() == ".json") known += (known.empty() ? "" : ", ") + e.path().stem().string();
    }
    throw InputError(fmt::format("NAME: no study '{}' ({} does not exist); studies in {}: {}", o.name,
                                 p.string(), o.studies_dir, known.empty() ? "none" : known));
  }
  return p;
}

void run(const Options& o, const Context& ctx) {
  const fs::path file = find_study(o);
  const nlohmann::json def = model::load_json_file(file.string());
  ObjectReader r(def, model::JsonSource{file.string()});
  const int64_t version = r.get_int("schema_version");
  if (version != 1) r.fail("schema_version", fmt::format("schema_version {} is not supported; this attnroof reads 1", version));
  const std::string name = r.get_string("name");
  require_file_name(r, "name", name, "the report directory");
  const std::string title = get_line(r, "title");
  const std::string description = r.get_string("description", "");
  const nlohmann::json& sections = r.get_raw("sections");
  if (!sections.is_array() || sections.empty()) r.fail("sections", "expected a non-empty array");
  r.finish();

  const bool plots = !o.no_plots && report::gnuplot_available();
  if (!o.no_plots && !plots) {
    fmt::print(stderr, "warning: gnuplot not found: plot data and scripts are written, not rendered "
                       "(install gnuplot-nox)\n");
  }
  report::AtomicDir dir(fs::path(o.out_dir) / name, "report.json", "--out-dir");
  nlohmann::json report = {{"schema_version", report::kSchemaVersion},
                           {"report", "study"},
                           {"provenance", report::provenance(ctx.command_line)},
                           {"study_file", file.string()},
                           {"definition", def}};
  std::string readme = fmt::format("# {}\n\n{}\n\n", title, description);
  const nlohmann::json prov = report["provenance"];
  readme += fmt::format(
      "Generated by `{}` (attnroof {}, commit {}{}, build {}) on {}. Every number below is computed "
      "by the model from the presets and hardware profiles named in `report.json`; times use the "
      "calibration profile of the hardware where it has one (the attention stage of the variants "
      "our kernels implement, and the projection GEMMs where the profile has a GEMM fit: the "
      "`attention_calibration` and `projection_calibration` columns name it) and the hardware "
      "profiles' uncalibrated efficiency terms for the rest (collectives always). "
      "Per layer, per device, per decode step unless a column says otherwise. Fields: "
      "`reports/SCHEMA.md`.\n\n",
      ctx.command_line, prov["version"].get<std::string>(), prov["git_commit"].get<std::string>(),
      prov["git_dirty"].get<bool>() ? " + uncommitted changes" : "", prov["build"].get<std::string>(),
      prov["date_utc"].get<std::string>());

  nlohmann::json out_sections = nlohmann::json::array();
  std::map<std::string, const model::Hardware*> used_hw;
  bool rendered_all = true;
  std::vector<std::string> plot_files;
  std::vector<std::string> failed_sections;
  std::vector<std::unique_ptr<calibrate::MeasurementSet>> measurement_sets;
  std::map<std::string, std::size_t> section_of_id;
  for (std::size_t i = 0; i < sections.size(); ++i) {
    ObjectReader s(sections[i], model::JsonSource{file.string()}, fmt::format("/sections/{}", i));
    const std::string type = s.get_string("type");
    const std::string id = s.get_string("id");
    require_file_name(s, "id", id, "the section's files");
    if (const auto [it, fresh] = section_of_id.emplace(id, i); !fresh) {
      s.fail("id", fmt::format("id '{}' is also the id of /sections/{}: each section's files are named by "
                               "its id, so ids must differ",
                               id, it->second));
    }
    const std::string stitle = get_line(s, "title");
    const std::string note = s.get_string("note", "");
    SectionResult res;
    if (type == "kv_table") {
      res = run_kv_section(s, dir.temp(), id);
    } else if (type == "sweep") {
      res = run_sweep_section(s, dir.temp(), id, file.parent_path().parent_path(), plots, rendered_all,
                              plot_files);
      for (const model::Hardware* hw : res.hardware) used_hw[hw->id] = hw;
    } else if (type == "measured_kernels") {
      res = run_measured_section(s, dir.temp(), id, file.parent_path().parent_path(), plots,
                                 rendered_all, plot_files);
    } else if (type == "calibration_fidelity") {
      res = run_fidelity_section(s, dir.temp(), id, file.parent_path().parent_path(), plots,
                                 rendered_all, plot_files, measurement_sets);
    } else if (type == "verify") {
      bool failed = false;
      res = run_verify_section(s, dir.temp(), id, failed);
      if (failed) failed_sections.push_back(id);
    } else {
      s.fail("type", fmt::format("unknown section type '{}'; known: kv_table, sweep, verify, measured_kernels, calibration_fidelity", type));
    }
    s.finish();
    res.json["id"] = id;
    res.json["type"] = type;
    res.json["title"] = stitle;
    res.json["note"] = note;
    out_sections.push_back(res.json);
    readme += fmt::format("## {}\n\n{}{}{}\n", stitle, note, note.empty() ? "" : "\n\n", res.markdown);
  }
  report["sections"] = out_sections;
  report["hardware"] = nlohmann::json::array();
  for (const auto& [hw_id, hw] : used_hw) report["hardware"].push_back(hw->to_json());
  report["plots_rendered"] = plots && rendered_all;
  report::write_file_atomic(dir.temp() / "report.json", report.dump(2) + "\n");
  report::write_file_atomic(dir.temp() / "README.md", readme);
  dir.commit();
  fmt::print(stderr, "study {}: {} sections written to {}{}\n", name, sections.size(),
             dir.target().string(), plots && rendered_all ? "" : " (plots not rendered)");
  if (!failed_sections.empty()) {
    std::string ids;
    for (const std::string& f : failed_sections) ids += (ids.empty() ? "" : ", ") + f;
    throw CommandFailed(fmt::format("checks failed in section(s) {} (the report was written)", ids));
  }
}

}  // namespace study_command

Runner setup_study(CLI::App& app, const Context& ctx) {
  auto o = std::make_shared<study_command::Options>();
  app.add_option("NAME", o->name, "study name (studies/NAME.json) or a path to a study file")
      ->capture_default_str();
  app.add_option("--studies-dir", o->studies_dir,
                 "where NAME is looked up (default: DATA/studies, DATA being $ATTNROOF_DATA_DIR, else "
                 "the install's share/attnroof, else the source tree of a build-tree binary)");
  app.add_option("--out-dir", o->out_dir, "reports go to OUT_DIR/<study name>/")->capture_default_str();
  app.add_flag("--no-plots", o->no_plots, "write plot data and scripts but do not run gnuplot");
  app.footer(
      "Examples:\n"
      "  attnroof study paper                 # studies/paper.json -> reports/paper/\n"
      "  attnroof study my_study.json --out-dir /tmp/reports\n"
      "The report directory holds report.json, README.md, one CSV per section and the plots; it is\n"
      "built under a temporary name and renamed into place, so a failed or interrupted run leaves the\n"
      "old one and creates nothing. The study's \"name\" and section ids are lower-case letters,\n"
      "digits and '_'. An existing OUT_DIR/NAME is replaced only when it is empty or a report (it\n"
      "holds report.json); any other directory or file there is refused.\n"
      "The study file format is documented in reports/SCHEMA.md (\"Study definitions\").");
  return [o, &ctx] { study_command::run(*o, ctx); };
}

}  // namespace attnroof::cli

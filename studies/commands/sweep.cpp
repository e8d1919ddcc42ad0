// attnroof sweep: the cartesian product of any axes, one model evaluation per point, rows
// streamed as they are computed (constant memory for any number of points). Points that cannot
// be evaluated (TP does not shard, ctx_len < q_tokens, fp8 on a part without it) are counted and
// listed, never dropped silently.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include "studies/commands/commands.h"
#include "studies/evaluate.h"
#include "studies/limits.h"
#include "studies/queries.h"
#include "studies/ranges.h"
#include "studies/report/provenance.h"
#include "studies/report/sweep_columns.h"

namespace attnroof::cli {

namespace sweep_command {  // named, not anonymous: a unity build compiles the commands as one unit

// Skipped points kept in full (JSON "skipped", stderr summary); the rest are counted.
constexpr std::size_t kSkippedKept = 100;

struct Options {
  PointQuery point;
  std::string columns;
  std::string format = "table";
  std::string time_unit = "s";
  std::string out;
  bool quiet = false;
};

// "3.2 s", "4.1 h", "16 years": the time a rate gives the rest of the points.
std::string duration_text(double s) {
  if (s < 120) return fmt::format("{:.0f} s", s);
  if (s < 7200) return fmt::format("{:.0f} min", s / 60);
  if (s < 2 * 86400) return fmt::format("{:.1f} h", s / 3600);
  if (s < 2 * 365 * 86400) return fmt::format("{:.0f} days", s / 86400);
  return fmt::format("{:.3g} years", s / (365.25 * 86400));
}

class Progress {
 public:
  Progress(uint64_t total, bool enabled)
      : total_(total), enabled_(enabled), tty_(::isatty(2) != 0),
        start_(std::chrono::steady_clock::now()), last_(start_) {
    // A long sweep says what it is about to do before the first row (Ctrl-C stops it cleanly).
    if (enabled_ && total_ >= kAnnouncedSweepPoints) {
      fmt::print(stderr, "sweep: {} points; the time left is shown after the first second\n",
                 total_);
    }
  }
  void tick(uint64_t done) {
    if (!enabled_ || (done & 0xFFFF) != 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - start_ < std::chrono::seconds(1) || now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    shown_ = true;
    const double s = std::chrono::duration<double>(now - start_).count();
    const double rate = double(done) / s;
    fmt::print(stderr, "{}sweep: {}/{} points ({:.1f}%), {:.3g} points/s, about {} left{}",
               tty_ ? "\r" : "", done, total_, 100.0 * double(done) / double(total_), rate,
               duration_text(double(total_ - done) / rate), tty_ ? "" : "\n");
  }
  void done() const {
    if (shown_ && tty_) fmt::print(stderr, "\n");
  }

 private:
  uint64_t total_;
  bool enabled_;
  bool tty_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

void run(Options o, CLI::App& app, const Context& ctx) {
  const report::Format format = report::parse_format(o.format, "--format");
  o.point.batch_given = app.count("--batch") > 0;
  o.point.context_given = app.count("--context") > 0;
  const Axes axes = sweep_axes(o.point);
  std::vector<std::string_view> varying;
  if (axes.forms.size() > 1) varying.push_back("form");
  if (axes.kv_dtypes.size() > 1) varying.push_back("kv_dtype");
  if (axes.weight_dtypes.size() > 1) varying.push_back("weight_dtype");
  if (axes.act_dtypes.size() > 1) varying.push_back("act_dtype");
  if (axes.q_tokens.size() > 1) varying.push_back("q_tokens");
  if (axes.ep.size() > 1 || axes.ep != std::vector<int64_t>{1}) varying.push_back("ep");
  if (axes.dp_attention.size() > 1 || axes.dp_attention != std::vector<int64_t>{1}) varying.push_back("dp_attention");
  const std::string column_list = o.columns.empty() && format == report::Format::table
                                      ? report::default_table_columns(varying)
                                      : o.columns;
  auto columns = report::select_columns(report::sweep_columns(), column_list, "--columns");
  const uint64_t total = axes.size();

  report::Output out(o.out, "-o");
  nlohmann::json header = nlohmann::json::object();
  if (format == report::Format::json) {
    header = {{"schema_version", report::kSchemaVersion},
              {"report", "sweep"},
              {"provenance", report::provenance(ctx.command_line)},
              {"inputs", axes.to_json()}};
    header["hardware"] = nlohmann::json::array();
    for (const model::Hardware* h : axes.hardware) header["hardware"].push_back(h->to_json());
  }
  report::RowStream<Row> stream(out, format, std::move(columns), header,
                                report::parse_time_unit(o.time_unit, "--time-unit"));
  std::vector<nlohmann::json> skipped;
  uint64_t skipped_count = 0;
  Progress progress(total, !o.quiet);
  uint64_t visited = 0;
  for_each_point(
      axes,
      [&](const Row& r) {
        stream.row(r);
        progress.tick(++visited);
      },
      [&](Skip&& s) {
        ++skipped_count;
        if (skipped.size() < kSkippedKept) skipped.push_back(s.to_json());
        progress.tick(++visited);
      });
  progress.done();
  stream.finish({{"skipped_count", skipped_count},
                 {"skipped_truncated", skipped_count > skipped.size()},
                 {"skipped", skipped}});
  out.commit();

  // Summary on stderr, so stdout stays a clean table / CSV / JSON document.
  if (!o.quiet || skipped_count > 0) {
    fmt::print(stderr, "sweep: {} points, {} rows{}{}\n", total, stream.rows(),
               skipped_count ? fmt::format(", {} skipped", skipped_count) : "",
               out.is_stdout() ? "" : fmt::format(", written to {}", o.out));
  }
  if (skipped_count > 0 && format != report::Format::json) {
    for (const nlohmann::json& s : skipped) {
      fmt::print(stderr, "  skipped {} on {} at tp {}, batch {}, ctx_len {}, q_tokens {}: {}\n",
                 s["model"].get<std::string>(), s["hardware"].get<std::string>(),
                 s["tp"].get<int64_t>(), s["batch"].get<int64_t>(), s["ctx_len"].get<int64_t>(),
                 s["q_tokens"].get<int64_t>(), fmt::join(s["reasons"].get<std::vector<std::string>>(), "; "));
    }
    if (skipped_count > skipped.size()) {
      fmt::print(stderr, "  ... and {} more skipped points\n", skipped_count - skipped.size());
    }
  }
}

}  // namespace sweep_command

Runner setup_sweep(CLI::App& app, const Context& ctx) {
  auto o = std::make_shared<sweep_command::Options>();
  add_point_options(app, o->point, true);
  app.add_option("--columns", o->columns,
                 "columns to write, comma-separated (default: all for csv/json, a short set for table)");
  app.add_option("--format", o->format, "table, csv or json")->capture_default_str();
  app.add_option("--time-unit", o->time_unit,
                 "unit of the table's time columns (t_..._s): s, ms or us; CSV and JSON stay in "
                 "seconds")
      ->capture_default_str();
  app.add_option("-o,--out", o->out,
                 "write to FILE (temporary + rename, keeping its mode; nothing on error); a device "
                 "or fifo is streamed to");
  app.add_flag("-q,--quiet", o->quiet, "no progress and no summary line (skips are still listed)");
  app.footer(fmt::format(
      "Axis syntax (every integer axis; integers are decimal, \"010\" is ten):\n"
      "  4096 | 4k | 2m        values; k = 1024 and m = 1048576 (binary, so 128k = 131072 tokens)\n"
      "  1,2,4,8               a list\n"
      "  4k:2m:x2              geometric range, ends included when reached\n"
      "  128k:2m:+128k         arithmetic range (a:b:S is the same as a:b:+S)\n"
      "Examples:\n"
      "  attnroof sweep --preset llama3_70b --tp 1,2,4,8 --batch 1,16 --context 4k:1m:x2\n"
      "  attnroof sweep --preset 'paper29b_*' --tp 1:8:x2 --hardware h100_sxm,h200_sxm --format csv -o s.csv\n"
      "  attnroof sweep --preset llama3_70b --kv-dtype bf16,fp8 --format json -o s.json\n"
      "  attnroof sweep --preset dsv3_mla --tp 1 --dp-attention 8 --ep 8 --batch 1:256:x4 --context 4k --hardware h200\n"
      "Axis order (outermost first): model, hardware, form, kv/weight/act dtype, tp, q_tokens, ep,\n"
      "dp_attention, batch, context. t_step_s is the whole model's step (attention, FFN/MoE, LM head;\n"
      "model/step.h). Rows stream: any number of points in constant memory. An axis expands to at most\n"
      "{} values; from {} points the count is printed before the first row, and the time\n"
      "left with the progress. Progress goes to stderr after 1 s; skipped points are summarised on\n"
      "stderr (JSON: the \"skipped\" array, first 100, with skipped_count). Columns: reports/SCHEMA.md.",
      kMaxAxisValues, kAnnouncedSweepPoints));
  CLI::App* self = &app;
  return [o, self, &ctx] { sweep_command::run(*o, *self, ctx); };
}

}  // namespace attnroof::cli

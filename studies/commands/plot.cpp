// attnroof plot: a sweep's CSV or JSON drawn as lines (one x column, one or more y columns, a line
// per value of the series columns), rendered by gnuplot to PNG and SVG. The .dat and .gp stay
// beside the images, so the plot can be edited and rendered again without attnroof.
#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "model/error.h"
#include "model/json_reader.h"
#include "studies/commands/commands.h"
#include "studies/ranges.h"
#include "studies/report/column_label.h"
#include "studies/report/gnuplot.h"
#include "studies/report/output.h"
#include "studies/report/sweep_reader.h"

namespace attnroof::cli {

namespace plot_command {  // named, not anonymous: a unity build compiles the commands as one unit

namespace fs = std::filesystem;

// More lines than this cannot be told apart in one plot (gnuplot's 8 colours, then dashed).
constexpr std::size_t kMaxPlotSeries = 12;
// An empty-selection message lists at most this many of the values a column does have.
constexpr std::size_t kValuesListed = 12;

struct Options {
  std::string input;
  std::string x, y, series;
  std::vector<std::string> filters;
  bool log_x = false, log_y = false;
  std::string title;
  std::string out;
};

// --filter COL=VALUE[,VALUE...]: a row is kept when its COL is one of the values.
struct Filter {
  std::string text;  // as given
  std::string column;
  std::vector<std::string> values;
};

// A number as sweep writes one ("4096", "1.5e-05"); nullopt for text, inf and nan.
std::optional<double> number(std::string_view s) {
  double v = 0;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (error != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// A filter value may also use the axis syntax's k/m suffixes (ctx_len=128k).
std::optional<double> filter_number(const std::string& v) {
  if (const auto n = number(v)) return n;
  const bool suffixed = v.size() > 1 && std::string_view("kKmM").find(v.back()) != std::string_view::npos &&
                        std::all_of(v.begin(), v.end() - 1, [](char c) { return c >= '0' && c <= '9'; });
  if (suffixed) return double(parse_size(v, "--filter"));
  return std::nullopt;
}

bool matches(const std::string& cell, const std::string& value) {
  if (cell == value) return true;
  const auto c = number(cell);
  const auto v = c ? filter_number(value) : std::nullopt;
  return c && v && *c == *v;
}

std::vector<Filter> parse_filters(const std::vector<std::string>& given) {
  std::vector<Filter> out;
  for (const std::string& f : given) {
    const std::size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == f.size()) {
      throw InputError(fmt::format("--filter: '{}' is not COLUMN=VALUE (e.g. tp=8, or tp=1,8 for either)",
                                   model::excerpt(f)));
    }
    out.push_back({f, f.substr(0, eq), parse_list(f.substr(eq + 1), "--filter")});
  }
  return out;
}

// The four files of -o STEM, each an Output made before any work (a path that cannot be written
// is refused first) and written only at the end.
struct PlotFiles {
  explicit PlotFiles(const std::string& stem_path)
      : given(stem_path), dat(checked(stem_path) + ".dat", "-o"), gp(stem_path + ".gp", "-o"),
        png(stem_path + ".png", "-o"), svg(stem_path + ".svg", "-o") {}

  // The stem as given (-o plots/attention), and its file name and directory.
  std::string given;
  report::Output dat, gp, png, svg;
  std::string stem() const { return fs::path(given).filename().string(); }
  std::string dir() const {
    const fs::path parent = fs::path(given).parent_path();
    return parent.empty() ? "." : parent.string();
  }

 private:
  static const std::string& checked(const std::string& stem_path) {
    const std::string name = fs::path(stem_path).filename().string();
    if (stem_path == "-" || name.empty() || name == "." || name == "..") {
      throw InputError(fmt::format("-o: '{}' is not a file stem: give a name such as -o plots/attention "
                                   "(it writes attention.png, .svg, .dat and .gp)",
                                   model::excerpt(stem_path)));
    }
    return stem_path;
  }
};

// -o attention.png means the stem "attention".
std::string stem_of(const std::string& out) {
  for (std::string_view ext : {".png", ".svg", ".dat", ".gp"}) {
    if (out.size() > ext.size() && out.compare(out.size() - ext.size(), ext.size(), ext) == 0) {
      return out.substr(0, out.size() - ext.size());
    }
  }
  return out;
}

// A private directory that gnuplot renders in, removed with its files (and on a signal).
class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (fs::temp_directory_path() / "attnroof_plot_XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
      throw report::IoError(fmt::format("cannot create a temporary directory in {}: {}",
                                        fs::temp_directory_path().string(), std::strerror(errno)));
    }
    path_ = templ;
    registration_ = report::Temporary(path_, report::TempKind::tree);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  report::Temporary registration_;
};

void copy_into(const fs::path& from, report::Output& to) {
  std::ifstream in(from, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw report::IoError(fmt::format("cannot read back '{}'", from.string()));
  to.write(text.view());
  to.commit();
}

// The requests of read_sweep_table, in this order: x, each y, each series column, each filter's.
struct Columns {
  std::vector<report::ColumnRequest> requests;
  std::size_t y_first = 1, series_first = 0, filter_first = 0;
};

Columns requests(const Options& o, const std::vector<std::string>& ys,
                 const std::vector<std::string>& series, const std::vector<Filter>& filters) {
  Columns c;
  c.requests.push_back({o.x, "--x"});
  for (const std::string& y : ys) c.requests.push_back({y, "--y"});
  c.series_first = c.requests.size();
  for (const std::string& s : series) c.requests.push_back({s, "--series"});
  c.filter_first = c.requests.size();
  for (const Filter& f : filters) c.requests.push_back({f.column, "--filter"});
  return c;
}

// The distinct values of a request's column over `rows`, for a message.
std::string values_of(const report::SweepTable& t, const std::vector<std::size_t>& rows, std::size_t request) {
  std::vector<std::string> seen;
  for (std::size_t r : rows) {
    const std::string& v = t.cell(r, request);
    if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
  }
  std::string out;
  for (std::size_t i = 0; i < std::min(seen.size(), kValuesListed); ++i) {
    out += fmt::format("{}{}", i ? ", " : "", model::excerpt(seen[i]));
  }
  if (seen.size() > kValuesListed) out += fmt::format(" and {} more", seen.size() - kValuesListed);
  return out;
}

// The rows every filter keeps; a filter that leaves none is named, with the values it could match.
std::vector<std::size_t> selected_rows(const report::SweepTable& t, const std::vector<Filter>& filters,
                                       std::size_t filter_first) {
  std::vector<std::size_t> rows(t.rows());
  for (std::size_t r = 0; r < rows.size(); ++r) rows[r] = r;
  if (rows.empty()) throw InputError(fmt::format("{}: no rows to plot", t.path()));
  for (std::size_t f = 0; f < filters.size(); ++f) {
    std::vector<std::size_t> kept;
    for (std::size_t r : rows) {
      const std::string& cell = t.cell(r, filter_first + f);
      if (std::any_of(filters[f].values.begin(), filters[f].values.end(),
                      [&](const std::string& v) { return matches(cell, v); })) {
        kept.push_back(r);
      }
    }
    if (kept.empty()) {
      throw InputError(fmt::format("--filter {}: no row of {}{} has it; {} there: {}",
                                   model::excerpt(filters[f].text), t.path(),
                                   f ? " left by the filters before it" : "", filters[f].column,
                                   values_of(t, rows, filter_first + f)));
    }
    rows = std::move(kept);
  }
  return rows;
}

double cell_number(const report::SweepTable& t, std::size_t row, std::size_t request,
                   const report::ColumnRequest& r) {
  const std::string& cell = t.cell(row, request);
  if (const auto v = number(cell)) return *v;
  throw InputError(fmt::format("{}: {}, column {}: '{}' is not a finite number", r.option, t.where(row),
                               r.name, model::excerpt(cell)));
}

struct Point {
  double x = 0, y = 0;
  std::size_t row = 0;
};

// Two rows of one series at the same x would zigzag the line: a varying column is missing from
// --series. The message names the columns in which the two rows differ.
void check_distinct_x(const report::SweepTable& t, const std::vector<Point>& points, const std::string& x) {
  for (std::size_t i = 1; i < points.size(); ++i) {
    if (points[i].x != points[i - 1].x) continue;
    const std::vector<std::string> a = t.full_row(points[i - 1].row), b = t.full_row(points[i].row);
    std::string differ;
    for (std::size_t c = 0; c < t.columns().size(); ++c) {
      if (a[c] != b[c]) differ += fmt::format("{}{}", differ.empty() ? "" : ", ", model::excerpt(t.columns()[c]));
    }
    throw InputError(fmt::format(
        "--series: {} and {} fall in one series at the same {} = {:.9g}; {}: add a column to --series "
        "or pick one value with --filter",
        t.where(points[i - 1].row), t.where(points[i].row), x, points[i].x,
        differ.empty() ? std::string("the rows are identical") : fmt::format("they differ in {}", differ)));
  }
}

// A log axis has no 0: points at or below it are not drawn (gnuplot skips them), all of them is
// an error.
void check_log_axis(const std::vector<double>& values, const std::string& option, const std::string& columns) {
  const auto hidden = std::count_if(values.begin(), values.end(), [](double v) { return v <= 0; });
  if (hidden == 0) return;
  if (std::size_t(hidden) == values.size()) {
    throw InputError(fmt::format("{}: every value of {} is <= 0, which a log axis cannot show", option, columns));
  }
  fmt::print(stderr, "warning: {}: {} of {} points have {} <= 0 and are not drawn on the log axis\n",
             option, hidden, values.size(), columns);
}

bool powers_of_two(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(),
                     [](double v) { return v > 0 && std::exp2(std::round(std::log2(v))) == v; });
}

double max_abs(const std::vector<double>& values) {
  double m = 0;
  for (double v : values) m = std::max(m, std::abs(v));
  return m;
}

// The series' legend text: text values as they are, numbers as column=value.
std::string series_title(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += fmt::format("{}{}", i ? ", " : "", number(values[i]) ? names[i] + "=" + values[i] : values[i]);
  }
  return out;
}

std::string joined(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& s : items) out += fmt::format("{}{}", out.empty() ? "" : separator, s);
  return out;
}

void run(const Options& o, const Context& ctx) {
  const std::vector<std::string> ys = parse_list(o.y, "--y");
  const std::vector<std::string> series_columns =
      o.series.empty() ? std::vector<std::string>{} : parse_list(o.series, "--series");
  const std::vector<Filter> filters = parse_filters(o.filters);
  PlotFiles files(stem_of(o.out));
  const Columns cols = requests(o, ys, series_columns, filters);
  const report::SweepTable table = report::read_sweep_table(o.input, cols.requests);
  const std::vector<std::size_t> rows = selected_rows(table, filters, cols.filter_first);

  // Rows grouped by their series values, in order of first appearance.
  std::vector<std::vector<std::string>> group_values;
  std::vector<std::vector<std::size_t>> group_rows;
  std::map<std::vector<std::string>, std::size_t> group_of;
  for (std::size_t r : rows) {
    std::vector<std::string> key;
    for (std::size_t s = 0; s < series_columns.size(); ++s) key.push_back(table.cell(r, cols.series_first + s));
    const auto [it, added] = group_of.try_emplace(key, group_values.size());
    if (added) {
      group_values.push_back(key);
      group_rows.emplace_back();
    }
    group_rows[it->second].push_back(r);
  }
  const std::size_t n_series = group_values.size() * ys.size();
  if (n_series > kMaxPlotSeries) {
    // Suggest pinning the series column with the most values.
    std::size_t widest = 0, widest_count = 0;
    for (std::size_t s = 0; s < series_columns.size(); ++s) {
      std::vector<std::string> seen;
      for (const auto& g : group_values) {
        if (std::find(seen.begin(), seen.end(), g[s]) == seen.end()) seen.push_back(g[s]);
      }
      if (seen.size() > widest_count) {
        widest = s;
        widest_count = seen.size();
      }
    }
    throw InputError(fmt::format(
        "--series: {} series ({} {} of {}{}); one plot shows at most {}: keep fewer with --filter, "
        "e.g. --filter {}={}",
        n_series, group_values.size(), series_columns.size() > 1 ? "combinations" : "values",
        joined(series_columns, ", "), ys.size() > 1 ? fmt::format(" x {} --y columns", ys.size()) : "",
        kMaxPlotSeries, series_columns[widest], model::excerpt(group_values[0][widest])));
  }

  std::vector<report::ColumnLabel> y_labels;
  std::vector<std::string> y_quantities;
  for (const std::string& y : ys) {
    y_labels.push_back(report::column_label(y));
    if (y_labels.back().unit != y_labels.front().unit) {
      throw InputError(fmt::format("--y: {} is in {} but {} in {}: one y axis has one unit; plot them separately",
                                   ys.front(), y_labels.front().unit.empty() ? "no unit" : y_labels.front().unit, y,
                                   y_labels.back().unit.empty() ? "no unit" : y_labels.back().unit));
    }
    if (std::find(y_quantities.begin(), y_quantities.end(), y_labels.back().quantity) == y_quantities.end()) {
      y_quantities.push_back(y_labels.back().quantity);
    }
  }

  report::LinePlot plot;
  std::vector<double> all_x, all_y;
  for (std::size_t g = 0; g < group_values.size(); ++g) {
    for (std::size_t k = 0; k < ys.size(); ++k) {
      std::vector<Point> points;
      for (std::size_t r : group_rows[g]) {
        points.push_back({cell_number(table, r, 0, cols.requests[0]),
                          cell_number(table, r, cols.y_first + k, cols.requests[cols.y_first + k]), r});
      }
      std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
      check_distinct_x(table, points, o.x);
      report::Series s;
      const std::string values = series_title(series_columns, group_values[g]);
      s.title = ys.size() == 1 ? (values.empty() ? y_labels[k].quantity : values)
                               : (values.empty() ? y_labels[k].quantity : y_labels[k].quantity + ", " + values);
      // Two y columns: one colour per series value, the second column dashed. Otherwise a colour
      // each, dashed once gnuplot's 8 colours repeat.
      const bool paired = ys.size() == 2 && group_values.size() > 1;
      const std::size_t i = plot.series.size();
      s.color = paired ? int(g) + 1 : int(i) + 1;
      s.dashed = paired ? k == 1 : i >= 8;
      for (const Point& p : points) {
        s.x.push_back(p.x);
        s.y.push_back(p.y);
        all_x.push_back(p.x);
        all_y.push_back(p.y);
      }
      plot.series.push_back(std::move(s));
    }
  }
  if (o.log_x) check_log_axis(all_x, "--logx", o.x);
  if (o.log_y) check_log_axis(all_y, "--logy", o.y);

  const report::ColumnLabel x_label = report::column_label(o.x);
  const report::AxisLabel x_axis = report::axis_label(x_label, x_label.quantity, max_abs(all_x));
  const report::AxisLabel y_axis = report::axis_label(y_labels.front(), joined(y_quantities, ", "), max_abs(all_y));
  std::vector<std::string> filter_texts;
  for (const Filter& f : filters) filter_texts.push_back(f.text);
  plot.title = !o.title.empty() ? o.title
                                : fmt::format("{} vs {}{}", joined(y_quantities, ", "), x_label.quantity,
                                              filters.empty() ? "" : fmt::format(" ({})", joined(filter_texts, ", ")));
  plot.x_label = x_axis.text;
  plot.y_label = y_axis.text;
  plot.log_x = o.log_x;
  plot.log_y = o.log_y;
  plot.log_x_base = powers_of_two(all_x) ? 2 : 10;
  plot.x_scale = x_axis.scale;
  plot.y_scale = y_axis.scale;
  plot.notes = {
      fmt::format("made by: {}", ctx.command_line),
      fmt::format("source: {}; x: {}; y: {}; series: {}; filter: {}", o.input, o.x, joined(ys, ", "),
                  series_columns.empty() ? "none" : joined(series_columns, ", "),
                  filters.empty() ? "none" : joined(filter_texts, " ")),
      fmt::format("data blocks: x y as in the source, one block per series; drawn as x * {:.9g}, y * {:.9g}",
                  x_axis.scale, y_axis.scale),
  };

  const ScratchDir scratch;
  const std::string stem = files.stem();
  const std::string script = report::write_line_plot(scratch.path(), stem, plot);
  const bool have_gnuplot = report::gnuplot_available();
  const bool rendered = have_gnuplot && report::run_gnuplot(scratch.path(), script);
  copy_into(scratch.path() / (stem + ".dat"), files.dat);
  copy_into(scratch.path() / script, files.gp);
  const std::string render = fmt::format("cd {} && gnuplot {}", shell_quote(files.dir()), shell_quote(script));
  if (!rendered) {
    fmt::print(stderr, "{}plot: wrote {}.dat and {}.gp but no image; render it with: {}\n",
               have_gnuplot ? "" : "warning: gnuplot not found (install gnuplot-nox): ", files.given,
               files.given, render);
    return;
  }
  copy_into(scratch.path() / (stem + ".png"), files.png);
  copy_into(scratch.path() / (stem + ".svg"), files.svg);
  std::size_t points = 0;
  for (const report::Series& s : plot.series) points += s.x.size();
  fmt::print(stderr, "plot: {} series, {} points: wrote {}.png and {}.svg (data and script: {}.dat, {}.gp; "
                     "after editing: {})\n",
             plot.series.size(), points, files.given, files.given, files.given, files.given, render);
}

}  // namespace plot_command

Runner setup_plot(CLI::App& app, const Context& ctx) {
  auto o = std::make_shared<plot_command::Options>();
  app.add_option("INPUT", o->input, "a sweep written with --format csv or --format json")->required();
  app.add_option("--x", o->x, "the x column")->required();
  app.add_option("--y", o->y, "the y column(s), comma-separated: one unit, one axis")->required();
  app.add_option("--series", o->series,
                 "columns whose values split the rows into lines, comma-separated (default: one line per --y)");
  app.add_option("--filter", o->filters,
                 "COLUMN=VALUE[,VALUE...]: keep the rows with one of these values (repeat for several "
                 "columns; numbers compare as numbers, 128k = 131072)")
      ->expected(1)
      ->take_all();
  app.add_flag("--logx", o->log_x, "logarithmic x axis (base 2 when every x is a power of two)");
  app.add_flag("--logy", o->log_y, "logarithmic y axis");
  app.add_option("--title", o->title, "the plot's title (default: Y vs X and the filters)");
  app.add_option("-o,--out", o->out,
                 "file stem: writes STEM.png, STEM.svg, STEM.dat and STEM.gp (each atomically)")
      ->required();
  app.footer(fmt::format(
      "Examples (the first writes the sweep the others plot):\n"
      "  attnroof sweep --preset llama3_70b,paper29b_mla,paper29b_mlra4 --tp 1,2,4,8 --context 4k:1m:x2 --format csv -o s.csv\n"
      "  attnroof plot s.csv --x ctx_len --y t_attention_s --series model --filter tp=8 --logx --logy -o attention\n"
      "  attnroof plot s.csv --x tp --y kv_bytes_per_token --series model --filter ctx_len=4k -o kv\n"
      "  attnroof plot s.csv --x ctx_len --y t_attention_s,t_comm_s --series model --filter tp=8 --logx -o times\n"
      "One line per value of the --series columns (per --y column when there are several); at most {}\n"
      "lines, or the command asks for a --filter. Two rows of one line at the same x are an error naming\n"
      "the columns they differ in. Labels come from the column names (reports/SCHEMA.md): the unit is\n"
      "the trailing s, bytes, flop(s), elems or params, with any \"_per_X\" after it (kv_bytes_per_token:\n"
      "B/token); the words before it are the quantity, abbreviations spelled out (t_attention_s:\n"
      "attention time). Seconds, bytes and FLOPs take the SI prefix that suits the largest value (µs,\n"
      "GB); the .dat keeps the values as in the input and the .gp scales them. Without gnuplot the .dat\n"
      "and .gp are still written (exit status 0) and the command prints how to render them.",
      plot_command::kMaxPlotSeries));
  return [o, &ctx] { plot_command::run(*o, ctx); };
}

}  // namespace attnroof::cli

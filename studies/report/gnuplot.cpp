#include "studies/report/gnuplot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "studies/cli.h"
#include "studies/report/output.h"

namespace attnroof::report {

namespace {

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// A gnuplot double-quoted string literal. Titles come from study and measurement files: a raw
// newline would end the command mid-string, so control characters are written as gnuplot's
// octal escapes (\ooo).
std::string gnuplot_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (is_control(c)) {
      out += fmt::format("\\{:03o}", static_cast<unsigned char>(c));
      continue;
    }
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// Text after '#' in a data file: one line, or the rest would be read as data.
std::string comment(const std::string& s) {
  std::string out = s;
  std::replace_if(out.begin(), out.end(), is_control, ' ');
  return out;
}

// The two terminals every plot is rendered to. The stem may be any file name (attnroof plot -o).
// gnuplot's fifth line colour (yellow) is unreadable on white: a brown replaces it.
std::string terminals(const std::string& stem, const std::string& plot_commands) {
  return fmt::format(
      "set linetype 5 lc rgb '#8c564b'\n"
      "set terminal pngcairo size 1200,800 noenhanced font 'Sans,12'\n"
      "set output {0}\n{2}\n"
      "set terminal svg size 1200,800 noenhanced font 'Sans,12' background '#ffffff'\n"
      "set output {1}\n{2}\nunset output\n",
      gnuplot_string(stem + ".png"), gnuplot_string(stem + ".svg"), plot_commands);
}

std::string comment_lines(const std::vector<std::string>& notes) {
  std::string out;
  for (const std::string& n : notes) out += fmt::format("# {}\n", comment(n));
  return out;
}

// A legend under the plot in two columns (gnuplot overestimates the text's width: `width`
// takes some back).
constexpr const char* kLegendBelow = "outside below center horizontal maxcols 2 width -5 samplen 3";

// The roofline's measured points: a colour no variant group uses (gnuplot's first 8 line colours).
constexpr const char* kMeasuredColour = "#b2182b";

// `using` columns of a .dat whose values are drawn times `scale`.
std::string scaled_column(int column, double scale) {
  return scale == 1 ? fmt::format("{}", column) : fmt::format("(${}*{:.9g})", column, scale);
}

// The groups of `points`, in order of first appearance.
std::vector<std::string> groups_of(const std::vector<RooflinePoint>& points) {
  std::vector<std::string> groups;
  for (const RooflinePoint& p : points) {
    if (std::find(groups.begin(), groups.end(), p.group) == groups.end()) groups.push_back(p.group);
  }
  return groups;
}

}  // namespace

std::string write_line_plot(const std::filesystem::path& dir, const std::string& stem,
                            const LinePlot& plot) {
  std::string dat = fmt::format("# {}\n{}# x: {}\n# y: {}\n", comment(plot.title), comment_lines(plot.notes),
                                comment(plot.x_label), comment(plot.y_label));
  for (const Series& s : plot.series) {
    dat += fmt::format("# series: {}\n", comment(s.title));
    for (std::size_t i = 0; i < s.x.size(); ++i) dat += fmt::format("{:.9g} {:.9g}\n", s.x[i], s.y[i]);
    dat += "\n\n";  // a gnuplot data block per series (selected with `index`)
  }
  write_file_atomic(dir / (stem + ".dat"), dat);
  // %.10g: tick labels such as 1048576 in full, never 1.04858e+06. The x range is the data's
  // with a margin, so the first and last points are not drawn on the frame.
  // A legend on the right takes the width of its longest entry from the plot: long ones go below.
  constexpr std::size_t kLegendRightChars = 40;
  const bool legend_below = std::any_of(plot.series.begin(), plot.series.end(),
                                        [](const Series& s) { return s.title.size() > kLegendRightChars; });
  std::string cmds = fmt::format(
      "set title {}\nset xlabel {}\nset ylabel {}\nset grid\nset key {}\n"
      "set autoscale xfix\nset offsets graph 0.02, graph 0.02, 0, 0\n"
      "set format x '%.10g'\nset format y '%.10g'\n{}{}set style data linespoints\nplot ",
      gnuplot_string(plot.title), gnuplot_string(plot.x_label), gnuplot_string(plot.y_label),
      legend_below ? kLegendBelow : "outside right top",
      plot.log_x ? fmt::format("set logscale x {}\n", plot.log_x_base) : "",
      plot.log_y ? "set logscale y\n" : "");
  const std::string columns =
      scaled_column(1, plot.x_scale) + ":" + scaled_column(2, plot.y_scale);
  for (std::size_t i = 0; i < plot.series.size(); ++i) {
    const Series& s = plot.series[i];
    // NaN draws nothing but keeps the legend entry (an empty data block would warn and a block
    // gnuplot cannot draw, such as zeros on a log axis, would vanish from the legend).
    const std::string source = s.x.empty() ? std::string("NaN")
                                           : fmt::format("{} index {} using {}", gnuplot_string(stem + ".dat"), i, columns);
    cmds += fmt::format("{}{} {} lw 2 pt 7 ps 0.8 lc {} dt {} title {}", i ? ", \\\n     " : "", source,
                        s.points_only ? "with points" : "with linespoints", s.color > 0 ? s.color : int(i) + 1,
                        s.dashed ? 2 : 1, gnuplot_string(s.title));
  }
  cmds += "\n";
  const std::string script = stem + ".gp";
  write_file_atomic(dir / script, fmt::format("# generated by attnroof; run: gnuplot {}\n{}{}",
                                              comment(script), comment_lines(plot.notes),
                                              terminals(stem, cmds)));
  return script;
}

std::string write_roofline_plot(const std::filesystem::path& dir, const std::string& stem,
                                const RooflinePlot& plot) {
  std::string dat = fmt::format("# {}\n# intensity_flop_per_byte attainable_tflop_per_s label\n", comment(plot.title));
  double lo = 1e300, hi = 0, ylo = 1e300;
  std::string point_cmds;
  std::size_t block = 0;  // data blocks: the model's groups, then the measured ones
  // style(g): group g's `with` clause and its labels' text colour; `label_side`: where the labels
  // sit (the model's on the left, the measured ones on the right, so a measured point on top of
  // the model's point it corresponds to leaves both labels readable).
  auto add_groups = [&](const std::vector<RooflinePoint>& points, const char* kind, const char* label_side, auto style) {
    const std::vector<std::string> groups = groups_of(points);
    for (std::size_t g = 0; g < groups.size(); ++g, ++block) {
      dat += fmt::format("# {}: {}\n", kind, comment(groups[g]));
      for (const RooflinePoint& p : points) {
        if (p.group != groups[g]) continue;
        dat += fmt::format("{:.9g} {:.9g} {}\n", p.intensity_flop_per_byte, p.flop_per_s / 1e12,
                           gnuplot_string(p.label));
        lo = std::min(lo, p.intensity_flop_per_byte);
        hi = std::max(hi, p.intensity_flop_per_byte);
        ylo = std::min(ylo, p.flop_per_s / 1e12);
      }
      dat += "\n\n";
      const auto [with, text_colour] = style(g);
      point_cmds += fmt::format(
          ", \\\n     '{0}.dat' index {1} using 1:2 with {2} title {3}"
          ", \\\n     '' index {1} using 1:2:3 with labels {5} font 'Sans,9' tc {4} notitle",
          stem, block, with, gnuplot_string(groups[g]), text_colour, label_side);
    }
  };
  add_groups(plot.points, "group", "offset -0.8,0.5 right", [](std::size_t g) {
    return std::pair{fmt::format("points pt 7 ps 1.5 lc {}", g + 1), fmt::format("lt {}", g + 1)};
  });
  // Open markers (triangles, diamonds, pentagons, squares, circles) in one colour apart from the
  // variants' filled circles.
  static constexpr int kMeasuredPointTypes[] = {8, 10, 12, 14, 4, 6};
  add_groups(plot.measured, "measured", "offset 1.2,0 left", [](std::size_t g) {
    return std::pair{fmt::format("points pt {} ps 2 lw 2 lc rgb '{}'",
                                 kMeasuredPointTypes[g % std::size(kMeasuredPointTypes)], kMeasuredColour),
                     fmt::format("rgb '{}'", kMeasuredColour)};
  });
  write_file_atomic(dir / (stem + ".dat"), dat);
  const double ridge = plot.peak_flop_per_s / plot.hbm_bytes_per_s;
  // Where the bound labels switch: the efficiency-adjusted roofs' crossing.
  const double eff_ridge = ridge * plot.eff_tensor / plot.eff_hbm;
  const double xmin = std::pow(10.0, std::floor(std::log10(std::max(std::min({lo, ridge, eff_ridge}) / 4, 1e-3))));
  const double xmax = std::pow(10.0, std::ceil(std::log10(std::max(hi, ridge) * 4)));
  const double ymin = std::pow(10.0, std::floor(std::log10(std::max(std::min(ylo, xmin * plot.hbm_bytes_per_s / 1e12) / 2, 1e-6))));
  const double ymax = plot.peak_flop_per_s / 1e12 * 2;
  const std::string cmds = fmt::format(
      "set title {title}\n"
      "set xlabel 'arithmetic intensity (FLOP / byte of HBM traffic)'\n"
      "set ylabel 'attainable / predicted TFLOP/s'\n"
      "set logscale xy 10\nset grid xtics ytics mxtics mytics\n"
      "set xrange [{xmin:g}:{xmax:g}]\nset yrange [{ymin:g}:{ymax:g}]\n"
      "set key {legend}\nset samples 400\n"
      "spec(x) = (x * {bw:.9g} < {peak:.9g}) ? x * {bw:.9g} : {peak:.9g}\n"
      "eff(x) = (x * {bw:.9g} * {eh:.9g} < {peak:.9g} * {et:.9g}) ? x * {bw:.9g} * {eh:.9g} : {peak:.9g} * {et:.9g}\n"
      "set arrow from {ridge:.9g},{ymin:g} to {ridge:.9g},{peak:.9g} nohead dt 3 lc rgb 'gray40'\n"
      "set label 'datasheet ridge {ridge:.0f} FLOP/B' at {ridge:.9g},{ymin2:g} offset 0.5,0 tc rgb 'gray30'\n"
      "set arrow from {eff_ridge:.9g},{ymin:g} to {eff_ridge:.9g},{eff_peak:.9g} nohead dt 2 lc rgb 'gray50'\n"
      "set label 'effective ridge {eff_ridge:.0f} FLOP/B' at {eff_ridge:.9g},{ymin3:g} right offset -0.5,0 tc rgb 'gray30'\n"
      "plot spec(x) lw 3 lc rgb 'black' title {spec_title}, \\\n"
      "     eff(x) lw 2 dt 2 lc rgb 'gray50' title {eff_title}{points}\n",
      fmt::arg("title", gnuplot_string(plot.title)), fmt::arg("xmin", xmin), fmt::arg("xmax", xmax),
      fmt::arg("ymin", ymin), fmt::arg("ymax", ymax), fmt::arg("ymin2", ymin * 1.5),
      fmt::arg("ymin3", ymin * 3), fmt::arg("eff_ridge", eff_ridge),
      fmt::arg("eff_peak", plot.peak_flop_per_s / 1e12 * plot.eff_tensor),
      fmt::arg("bw", plot.hbm_bytes_per_s / 1e12), fmt::arg("peak", plot.peak_flop_per_s / 1e12),
      fmt::arg("eh", plot.eff_hbm), fmt::arg("et", plot.eff_tensor), fmt::arg("ridge", ridge),
      fmt::arg("spec_title", gnuplot_string(fmt::format("{} datasheet roof: {:.4g} TB/s HBM, {:.4g} TFLOP/s",
                                                plot.hardware, plot.hbm_bytes_per_s / 1e12,
                                                plot.peak_flop_per_s / 1e12))),
      fmt::arg("eff_title", gnuplot_string(fmt::format("with the profile's efficiencies (HBM x{:.2g}, tensor x{:.2g})",
                                               plot.eff_hbm, plot.eff_tensor))),
      fmt::arg("points", point_cmds), fmt::arg("legend", kLegendBelow));
  const std::string script = stem + ".gp";
  write_file_atomic(dir / script, fmt::format("# generated by attnroof; run: gnuplot {}\n{}", script,
                                              terminals(stem, cmds)));
  return script;
}

bool gnuplot_available() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

bool run_gnuplot(const std::filesystem::path& dir, const std::string& script) {
  const std::string cmd = fmt::format("cd {} && gnuplot {} 2>&1", cli::shell_quote(dir.string()),
                                      cli::shell_quote(script));
  if (std::system(cmd.c_str()) != 0) {
    fmt::print(stderr, "warning: gnuplot failed on {}/{}; data and script are kept\n", dir.string(), script);
    return false;
  }
  return true;
}

}  // namespace attnroof::report

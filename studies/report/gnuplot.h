// defines: Series, LinePlot, RooflinePlot, write_line_plot, write_roofline_plot (data files and
// a gnuplot script per plot, rendered to PNG (pngcairo) and SVG when gnuplot is installed)
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace attnroof::report {

struct Series {
  std::string title;  // a series without points is drawn as a legend entry only (why: in its title)
  std::vector<double> x{}, y{};
  int color = 0;        // 1-based line colour shared by related series; 0: one per series
  bool dashed = false;  // e.g. a prediction drawn against a measured line of the same colour
  bool points_only = false;  // a scatter (parity plots), not a line
};

struct LinePlot {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  std::vector<Series> series{};
  // Values are drawn times these (a column in seconds drawn in µs); the .dat keeps them as given.
  double x_scale = 1, y_scale = 1;
  int log_x_base = 2;  // 10 for an x axis whose values are not powers of two
  std::vector<std::string> notes{};  // comment lines atop the .dat and .gp: where the data came from
};

struct RooflinePoint {
  std::string group;  // one colour and legend entry per group (the variant)
  std::string label;  // next to the point (the TP degree)
  double intensity_flop_per_byte = 0;
  double flop_per_s = 0;
};

struct RooflinePlot {
  std::string title;
  std::string hardware;     // profile id, for the ceilings' legend
  double peak_flop_per_s = 0;
  double hbm_bytes_per_s = 0;
  double eff_tensor = 1, eff_hbm = 1;
  std::vector<RooflinePoint> points;
  // Kernels timed on the roof's GPU (a bench-kernels report): open markers in one colour, a
  // marker shape and legend entry per group.
  std::vector<RooflinePoint> measured{};
};

// Each writes <dir>/<stem>.dat and <stem>.gp; returns the script's file name.
std::string write_line_plot(const std::filesystem::path& dir, const std::string& stem,
                            const LinePlot& plot);
std::string write_roofline_plot(const std::filesystem::path& dir, const std::string& stem,
                                const RooflinePlot& plot);

// Runs gnuplot on <dir>/<script>; false (with a warning on stderr) when gnuplot is absent or fails.
bool gnuplot_available();
bool run_gnuplot(const std::filesystem::path& dir, const std::string& script);

}  // namespace attnroof::report

// A study's sweep plots through the real binary: "plots" (several per section, files
// <id>_<name>.*), "series" over several columns (colour by the first, dashed by the rest), points
// a log axis cannot draw (max_batch 0) named in the legend and report.json, and a roofline's
// measured kernel points read from a bench-kernels report of the roof's GPU. The expected
// numbers come from the CSV the same run wrote and from the bench file read here, not from the
// code under test.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/cli/cli_test_util.h"

namespace {

namespace fs = std::filesystem;
using attnroof::test::CliResult;
using attnroof::test::run_cli_binary;
using attnroof::test::slurp;
using attnroof::test::TempDir;
using Catch::Matchers::Contains;
using nlohmann::json;

using Points = std::vector<std::pair<double, double>>;

const std::string kBench = std::string(ATTNROOF_SOURCE_DIR) + "/reports/kernels/h100/bench_kernels.json";

// The .dat's data blocks by their "# series: " or "# measured: " title, in order.
std::vector<std::pair<std::string, Points>> read_blocks(const std::string& dat, const std::string& marker) {
  std::vector<std::pair<std::string, Points>> out;
  std::istringstream lines(dat);
  bool in_block = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# ", 0) == 0) {
      in_block = line.rfind(marker, 0) == 0;
      if (in_block) out.emplace_back(line.substr(marker.size()), Points{});
    } else if (in_block && !line.empty()) {
      std::istringstream xy(line);
      double x = 0, y = 0;
      xy >> x >> y;
      out.back().second.emplace_back(x, y);
    }
  }
  return out;
}

struct Study {
  TempDir dir;
  CliResult result;
  explicit Study(const std::string& sections, const std::string& flags = "--no-plots", const std::string& env = "") {
    std::ofstream(dir / "study.json") << R"({"schema_version": 1, "name": "p", "title": "P", "sections": [)" << sections
                                      << "]}";
    result = run_cli_binary("study study.json " + flags + " --out-dir out", dir.path().string(), env);
  }
  std::string read(const std::string& name) const { return slurp(dir / ("out/p/" + name)); }
  json report() const { return json::parse(read("report.json")); }
};

// Two 2.9B models at TP 1..8 with a time and a KV plot, as the paper's TP-scaling sections.
const std::string kTpScaling = R"({"type": "sweep", "id": "tps", "title": "TP", "hardware": "h100_sxm",
  "models": [{"preset": "paper29b_gqa", "label": "GQA"}, {"preset": "paper29b_mlra4", "label": "MLRA-4"}],
  "tp": "1,2,4,8", "batch": "16", "context": "32k",
  "plots": [{"name": "time", "x": "tp", "log_x": true, "y": "t_layer_s", "y_divisor": 1e-6},
            {"name": "kv", "x": "tp", "log_x": true, "y": "kv_bytes_per_token", "log_y": true}]})";

}  // namespace

TEST_CASE("study plots: one .dat and .gp per plot, a series per label, the log axes", "[cli][study][plot]") {
  const Study s(kTpScaling);
  INFO(s.result.err);
  REQUIRE(s.result.status == 0);
  // The expected values: the section's own rows (label, tp, kv bytes, layer time).
  std::map<std::string, Points> kv, time;
  const json rows = s.report()["sections"][0]["rows"];
  REQUIRE(rows.size() == 8);
  for (const json& r : rows) {
    const double tp = r["tp"].get<double>();
    kv[r["label"].get<std::string>()].emplace_back(tp, r["kv_bytes_per_token"].get<double>());
    time[r["label"].get<std::string>()].emplace_back(tp, r["t_layer_s"].get<double>());
  }
  const auto kv_blocks = read_blocks(s.read("tps_kv.dat"), "# series: ");
  REQUIRE(kv_blocks.size() == 2);
  CHECK(kv_blocks[0].first == "GQA");
  CHECK(kv_blocks[1].first == "MLRA-4");
  for (const auto& [label, points] : kv_blocks) CHECK(points == kv.at(label));
  // The MLRA blog's per-device KV: GQA 8 KV heads of 128 = 3072 B at TP 1 (K+V, bf16); MLRA-4 1152
  // replicated down to 384 B at TP 4.
  CHECK(kv_blocks[0].second.front().second == 3072);
  CHECK(kv_blocks[1].second[2].second == 384);
  const auto time_blocks = read_blocks(s.read("tps_time.dat"), "# series: ");
  REQUIRE(time_blocks.size() == 2);
  for (const auto& [label, points] : time_blocks) {
    REQUIRE(points.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(points[i].second == Approx(time.at(label)[i].second * 1e6).epsilon(1e-8));
  }
  const std::string kv_gp = s.read("tps_kv.gp"), time_gp = s.read("tps_time.gp");
  CHECK_THAT(kv_gp, Contains("set logscale x 2\n") && Contains("set logscale y\n") &&
                        Contains(R"("tps_kv.dat" index 1 using 1:2 with linespoints)"));
  CHECK_THAT(time_gp, Contains("set logscale x 2\n"));
  CHECK_THAT(time_gp, !Contains("set logscale y"));
  const json plots = s.report()["sections"][0]["plots"];
  REQUIRE(plots.size() == 2);
  CHECK(plots[0]["name"] == "time");
  CHECK(plots[1]["data"] == "tps_kv.dat");
  CHECK(plots[1]["png"].is_null());  // --no-plots
  CHECK(!s.report()["sections"][0].contains("plot"));
  // Not rendered: README.md says how to render each plot.
  CHECK_THAT(s.read("README.md"), Contains("script [tps_time.gp](tps_time.gp)") && Contains("[tps_kv.dat](tps_kv.dat)"));
}

TEST_CASE("study plots: rendered plots are embedded in README.md; without gnuplot they are data and scripts",
          "[cli][study][plot]") {
  if (std::system("gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1") != 0) {
    WARN("SKIPPED: gnuplot with pngcairo is not installed; only the absent-gnuplot half runs");
  } else {
    const Study s(kTpScaling, "");
    INFO(s.result.err);
    REQUIRE(s.result.status == 0);
    CHECK(fs::file_size(s.dir / "out/p/tps_kv.png") > 0);
    CHECK(fs::file_size(s.dir / "out/p/tps_time.svg") > 0);
    CHECK_THAT(s.read("README.md"), Contains("![TP](tps_time.png)") && Contains("![TP](tps_kv.png)"));
    CHECK(s.report()["plots_rendered"] == true);
  }
  const Study absent(kTpScaling, "", "PATH=/nonexistent");
  INFO(absent.result.err);
  REQUIRE(absent.result.status == 0);
  CHECK_THAT(absent.result.err, Contains("gnuplot not found"));
  CHECK(fs::exists(absent.dir / "out/p/tps_kv.gp"));
  CHECK_FALSE(fs::exists(absent.dir / "out/p/tps_kv.png"));
  CHECK(absent.report()["plots_rendered"] == false);
}

TEST_CASE("study plots: series over two columns; max_batch 0 stays in the legend, not on the log axis",
          "[cli][study][plot]") {
  // Llama-3-70B at TP 8 holds one 1M sequence per H100 but no 2M one; DeepSeek-V3 MLA's weights
  // (169 GB per device at TP 8) fit neither GPU.
  const Study s(R"({"type": "sweep", "id": "cap", "title": "C", "hardware": "h100_sxm,h200_sxm",
    "models": [{"preset": "llama3_70b", "label": "L", "tp": 8}, {"preset": "dsv3_mla", "label": "D", "tp": 8}],
    "context": "1m,2m", "plot": {"x": "ctx_len", "x_divisor": 1024, "log_x": true, "y": "max_batch",
    "log_y": true, "series": "label,hardware", "note": "0 = does not fit"}})");
  INFO(s.result.err);
  REQUIRE(s.result.status == 0);
  std::map<std::pair<std::string, std::string>, std::vector<double>> max_batch;
  const json rows = s.report()["sections"][0]["rows"];
  for (const json& r : rows) {
    max_batch[{r["label"].get<std::string>(), r["hardware"].get<std::string>()}].push_back(r["max_batch"].get<double>());
  }
  REQUIRE(max_batch.at({"L", "h100_sxm"}) == std::vector<double>{1, 0});
  REQUIRE(max_batch.at({"D", "h200_sxm"}) == std::vector<double>{0, 0});
  const auto blocks = read_blocks(s.read("cap.dat"), "# series: ");
  REQUIRE(blocks.size() == 4);
  CHECK(blocks[0].first == "L, h100_sxm (max_batch = 0 at x = 2048, not drawn)");
  CHECK(blocks[0].second == Points{{1024, 1}});
  CHECK(blocks[1].first == "L, h200_sxm");
  CHECK(blocks[1].second.size() == 2);
  CHECK(blocks[2].first == "D, h100_sxm: max_batch = 0 (not drawn)");
  CHECK(blocks[2].second.empty());
  const std::string gp = s.read("cap.gp");
  // Colour by label, dashed for the second GPU; an undrawable series keeps its legend entry.
  CHECK_THAT(gp, Contains(R"(index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc 1 dt 1)"));
  CHECK_THAT(gp, Contains(R"(index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc 1 dt 2)"));
  CHECK_THAT(gp, Contains(R"(NaN with linespoints lw 2 pt 7 ps 0.8 lc 2 dt 1 title "D, h100_sxm: max_batch = 0)"));
  CHECK_THAT(gp, Contains(R"(NaN with linespoints lw 2 pt 7 ps 0.8 lc 2 dt 2 title "D, h200_sxm: max_batch = 0)"));
  CHECK_THAT(gp, Contains("# 0 = does not fit\n"));
  const json plot = s.report()["sections"][0]["plot"];
  REQUIRE(plot["not_drawn"].size() == 5);
  CHECK(plot["not_drawn"][0] == json{{"series", "L, h100_sxm"}, {"x", 2097152}, {"y", 0}});
  CHECK_THAT(s.read("README.md"), Contains("0 = does not fit") && Contains("5 point(s) are not drawn"));
}

TEST_CASE("study roofline: measured kernel points from the roof's GPU, as open markers", "[cli][study][plot]") {
  const Study s(R"({"type": "sweep", "id": "roof", "title": "R", "hardware": "h100_sxm",
    "models": [{"preset": "dsv3_mla", "label": "MLA"}], "tp": "1,8", "context": "32k",
    "plot": {"type": "roofline", "measured": {"bench": ")" + kBench + R"(", "shapes": "gqa_tp8,mla",
    "batch": "1,64", "context": "32k"}}})");
  INFO(s.result.err);
  REQUIRE(s.result.status == 0);
  // Expected: the bench file's own numbers.
  std::map<std::string, Points> expected;
  const json bench = json::parse(slurp(kBench));
  for (const json& p : bench["points"]) {
    const std::string shape = p["shape"];
    const int64_t batch = p["batch"], ctx = p["ctx"];
    if ((shape != "gqa_tp8" && shape != "mla") || (batch != 1 && batch != 64) || ctx != 32768) continue;
    const double flops = p["flops"];
    expected[shape + " measured on NVIDIA H100 80GB HBM3"].emplace_back(
        flops / p["total_bytes"].get<double>(), flops / (p["time_us_graph_median"].get<double>() * 1e-6) / 1e12);
  }
  REQUIRE(expected.size() == 2);
  const std::string dat = s.read("roof.dat");
  const auto measured = read_blocks(dat, "# measured: ");
  REQUIRE(measured.size() == 2);
  for (const auto& [group, points] : measured) {
    INFO(group);
    REQUIRE(points.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(points[i].first == Approx(expected.at(group)[i].first).epsilon(1e-8));
      CHECK(points[i].second == Approx(expected.at(group)[i].second).epsilon(1e-8));
    }
  }
  CHECK(read_blocks(dat, "# group: ").at(0).second.size() == 2);  // the model: TP 1 and 8
  CHECK_THAT(dat, Contains(R"( "b=64")"));
  const std::string gp = s.read("roof.gp");
  CHECK_THAT(gp, Contains(R"('roof.dat' index 1 using 1:2 with points pt 8 ps 2 lw 2 lc rgb '#b2182b' )"
                          R"(title "gqa_tp8 measured on NVIDIA H100 80GB HBM3")"));
  CHECK_THAT(gp, Contains(R"('roof.dat' index 2 using 1:2 with points pt 10 ps 2 lw 2)"));
  const json plot = s.report()["sections"][0]["plot"];
  CHECK(plot["measured"]["gpu"] == "NVIDIA H100 80GB HBM3");
  CHECK(plot["measured"]["points"] == 4);
  CHECK_THAT(s.read("README.md"), Contains("Open markers: 4 kernels measured on NVIDIA H100 80GB HBM3"));
}

TEST_CASE("study plots: bad plot fields are input errors naming the field", "[cli][study][plot][bad]") {
  const std::string roof_on = R"({"type": "sweep", "id": "r", "title": "R", "models": [{"preset": "dsv3_mla"}],
    "context": "32k", "hardware": ")";
  const std::string measured = R"(", "plot": {"type": "roofline", "measured": {"bench": ")" + kBench + R"(")";
  const std::string lines = R"({"type": "sweep", "id": "l", "title": "L", "models": [{"preset": "llama3_8b"}],
    "context": "1k,2k", )";
  const auto [section, expected] = GENERATE_COPY(table<std::string, std::string>({
      // The H100 bench on the H200 roof.
      {roof_on + "h200_sxm" + measured + "}}}",
       "at /sections/0/plot/measured/bench: " + kBench +
           " was measured on 'NVIDIA H100 80GB HBM3' but the roof is h200_sxm ('NVIDIA H200')"},
      // A profile without a calibration must say which GPU its roof is.
      {roof_on + "a100_sxm_80gb" + measured + "}}}", "at /sections/0/plot/measured/gpu: hardware 'a100_sxm_80gb' has no calibration"},
      {roof_on + "h100_sxm" + measured + R"(, "gpu": "NVIDIA H200"}}})",
       "at /sections/0/plot/measured/gpu: gpu 'NVIDIA H200' is not the GPU of hardware 'h100_sxm'"},
      {roof_on + "h100_sxm" + measured + R"(, "gpu": 7}}})", "at /sections/0/plot/measured/gpu"},
      {roof_on + "h100_sxm" + measured + R"(, "batch": "3"}}})", "at /sections/0/plot/measured/batch: no timed point"},
      {roof_on + "h100_sxm" + measured + R"(, "shapes": "gqa"}}})",
       "at /sections/0/plot/measured/shapes: no timed point of shape 'gqa'"},
      {roof_on + "h100_sxm" + measured + R"(, "colour": 1}}})", "at /sections/0/plot/measured/colour: unknown key 'colour'"},
      {roof_on + "h100_sxm" + R"(", "plot": {"type": "roofline", "measured": {}}})",
       "at /sections/0/plot/measured/bench: required key is missing"},
      {lines + R"("plot": {"y": "t_layer_s"}, "plots": [{"name": "a"}]})", "at /sections/0/plots: a section takes \"plot\""},
      {lines + R"("plots": {"name": "a"}})", "at /sections/0/plots: expected an array of plot objects"},
      {lines + R"("plots": []})", "at /sections/0/plots: expected at least one plot"},
      {lines + R"("plots": [{"y": "t_layer_s"}]})", "at /sections/0/plots/0/name: required key is missing"},
      {lines + R"("plots": [{"name": "A b"}]})", "at /sections/0/plots/0/name: name 'A b' is invalid"},
      {lines + R"("plots": [{"name": "a"}, {"name": "a"}]})", "at /sections/0/plots/1/name: the plot files l_a.dat"},
      {lines + R"("plots": [{"name": "a", "series": "label,bogus"}]})", "bogus"},
      {lines + R"("plots": [{"name": "a", "series": ""}]})", "at /sections/0/plots/0/series: expected a comma list"},
      {lines + R"("plots": [{"name": "a", "note": "two\nlines"}]})", "at /sections/0/plots/0/note: note 'two\\nlines' holds a control character"},
      {lines + R"("plots": [{"name": "a", "y_label": 3}]})", "at /sections/0/plots/0/y_label"},
      {lines + R"("plots": [{"name": "a", "log_y": "yes"}]})", "at /sections/0/plots/0/log_y"},
  }));
  INFO(section);
  const Study s(section);
  INFO(s.result.err);
  CHECK(s.result.status == 2);
  CHECK_THAT(s.result.err, Contains(expected));
  CHECK_FALSE(fs::exists(s.dir / "out"));
}

TEST_CASE("study plots: a plots name may not reuse another section's plot files", "[cli][study][plot][bad]") {
  const Study s(R"({"type": "sweep", "id": "a", "title": "A", "models": [{"preset": "llama3_8b"}],
      "plots": [{"name": "b"}]},
    {"type": "sweep", "id": "a_b", "title": "AB", "models": [{"preset": "llama3_8b"}], "plot": {}})");
  CHECK(s.result.status == 2);
  CHECK_THAT(s.result.err, Contains("at /sections/1/plot: the plot files a_b.dat"));
}

TEST_CASE("study roofline: a measured point without flops has no place on the roof", "[cli][study][plot][bad]") {
  TempDir dir;
  const std::string bench_head = R"({"gpu": "NVIDIA H100 80GB HBM3", "ceilings": {"read_GBps": 3000},
    "points": [{"shape": "gqa_tp8", "batch": 1, "ctx": 1024, "kv_bytes": 524288, "total_bytes": 528416,
                "time_us_graph_median": 10)";
  std::ofstream(dir / "none.json") << bench_head << "}]}";
  std::ofstream(dir / "zero.json") << bench_head << R"(, "flops": 0}]})";
  for (const auto& [bench, expected] : {std::pair{"none.json", "has no \"flops\", so it has no place on a roofline"},
                                        std::pair{"zero.json", "at /points/0/flops: flops = 0: must be > 0"}}) {
    const Study s(R"({"type": "sweep", "id": "r", "title": "R", "models": [{"preset": "dsv3_mla"}], "context": "32k",
      "plot": {"type": "roofline", "measured": {"bench": ")" + (dir / bench).string() + R"("}}})");
    INFO(s.result.err);
    CHECK(s.result.status == 2);
    CHECK_THAT(s.result.err, Contains(expected));
  }
}

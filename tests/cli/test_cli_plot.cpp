// attnroof plot, driven through the real binary on a sweep the binary wrote: the .dat holds the
// sweep's numbers, one block per series; the .gp names the columns, scales and log axes; the
// series limit, unknown columns, empty filters, non-numbers and colliding rows are input errors;
// JSON input plots the same numbers; without gnuplot the .dat and .gp are still written.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "studies/report/column_label.h"
#include "tests/cli/cli_test_util.h"

namespace {

namespace fs = std::filesystem;
using attnroof::test::CliResult;
using attnroof::test::run_cli_binary;
using attnroof::test::slurp;
using attnroof::test::TempDir;
using Catch::Matchers::Contains;

// 2 models x 2 TP x 7 contexts = 28 rows.
const std::string kSweep =
    "sweep --preset llama3_70b,paper29b_mla --tp 1,8 --context 1k:64k:x2 --quiet --format ";

struct Sweep {
  TempDir dir;
  Sweep() {
    for (const char* format : {"csv", "json"}) {
      const CliResult r = run_cli_binary(kSweep + format + " -o s." + format, dir.path().string());
      INFO(r.err);
      REQUIRE(r.status == 0);
    }
  }
  CliResult plot(const std::string& args) const { return run_cli_binary("plot " + args, dir.path().string()); }
  std::string read(const std::string& name) const { return slurp(dir / name); }
};

using Points = std::vector<std::pair<double, double>>;

// The .dat's data blocks by series title.
std::map<std::string, Points> read_dat(const std::string& dat) {
  std::map<std::string, Points> out;
  std::istringstream lines(dat);
  std::string series;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# series: ", 0) == 0) {
      series = line.substr(10);
      out[series];
    } else if (!line.empty() && line[0] != '#') {
      std::istringstream xy(line);
      double x = 0, y = 0;
      xy >> x >> y;
      out[series].emplace_back(x, y);
    }
  }
  return out;
}

// The sweep's own rows at tp 8, by model: (ctx_len, column).
std::map<std::string, Points> expected(const Sweep& s, const std::string& column) {
  std::map<std::string, Points> out;
  const nlohmann::json sweep = nlohmann::json::parse(s.read("s.json"));
  for (const nlohmann::json& row : sweep["rows"]) {
    if (row["tp"] != 8) continue;
    out[row["model"].get<std::string>()].emplace_back(row["ctx_len"].get<double>(), row[column].get<double>());
  }
  return out;
}

void check_same(const std::map<std::string, Points>& got, const std::map<std::string, Points>& want) {
  REQUIRE(got.size() == want.size());
  for (const auto& [series, points] : want) {
    INFO(series);
    REQUIRE(got.count(series) == 1);
    REQUIRE(got.at(series).size() == points.size());
    for (std::size_t i = 0; i < points.size(); ++i) {
      CHECK(got.at(series)[i].first == points[i].first);
      CHECK(got.at(series)[i].second == Approx(points[i].second).epsilon(1e-8));  // CSV: 9 digits
    }
  }
}

bool have_gnuplot() { return std::system("gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1") == 0; }

void check_images(const Sweep& s, const std::string& stem) {
  if (!have_gnuplot()) {
    WARN("SKIPPED: gnuplot with pngcairo is not installed; the images were not checked");
    return;
  }
  const std::string png = s.read(stem + ".png"), svg = s.read(stem + ".svg");
  CHECK(png.rfind("\x89PNG", 0) == 0);
  CHECK(png.size() > 10000);
  CHECK_THAT(svg, Contains("<svg") && Contains("</svg>"));
  CHECK(svg.size() > 10000);
}

}  // namespace

TEST_CASE("plot: one data block per series, the sweep's numbers, labels and scale from the names", "[cli][plot]") {
  const Sweep s;
  const CliResult r = s.plot("s.csv --x ctx_len --y t_attention_s --series model --filter tp=8 -o attn.png");
  INFO(r.err);
  REQUIRE(r.status == 0);
  check_same(read_dat(s.read("attn.dat")), expected(s, "t_attention_s"));
  const std::string gp = s.read("attn.gp");
  // Attention at tp 8 takes microseconds: drawn in µs, the .dat keeps seconds.
  CHECK_THAT(gp, Contains(R"x(set xlabel "context length")x") && Contains(R"x(set ylabel "attention time (µs)")x") &&
                     Contains(R"x(set title "attention time vs context length (tp=8)")x"));
  CHECK_THAT(gp, Contains(R"x("attn.dat" index 0 using 1:($2*1000000))x") && Contains(R"x(index 1 using)x") &&
                     !Contains("index 2") && Contains(R"x(title "llama3_70b")x") && Contains(R"x(title "paper29b_mla")x"));
  CHECK_THAT(gp, Contains("source: s.csv; x: ctx_len; y: t_attention_s; series: model; filter: tp=8"));
  CHECK_THAT(gp, Contains(R"x(set output "attn.png")x") && Contains(R"x(set output "attn.svg")x"));
  CHECK_THAT(gp, !Contains("set logscale"));
  CHECK_THAT(r.err, Contains("2 series, 14 points"));
  check_images(s, "attn");
}

TEST_CASE("plot: JSON input gives the numbers of the CSV; log axes when asked", "[cli][plot]") {
  const Sweep s;
  const CliResult r = s.plot("s.json --x ctx_len --y t_attention_s --series model --filter tp=8 --logx --logy -o j");
  INFO(r.err);
  REQUIRE(r.status == 0);
  check_same(read_dat(s.read("j.dat")), expected(s, "t_attention_s"));
  const std::string gp = s.read("j.gp");
  CHECK_THAT(gp, Contains("set logscale x 2\n") && Contains("set logscale y\n"));
  // Not powers of two: base 10.
  const CliResult tp = s.plot("s.csv --x kv_bytes_per_token --y t_attention_s --series model --filter tp=8 "
                              "--filter ctx_len=64k --logx -o k");
  INFO(tp.err);
  REQUIRE(tp.status == 0);
  CHECK_THAT(s.read("k.gp"), Contains("set logscale x 10\n"));
  check_images(s, "j");
}

TEST_CASE("plot: bytes in SI kB, several y columns share one axis", "[cli][plot]") {
  const Sweep s;
  // llama3_70b at tp 1 caches 8 KV heads x 128 x 2 x 2 bytes = 4096 B per token per layer.
  const CliResult r = s.plot("s.csv --x tp --y kv_bytes_per_token --series model --filter ctx_len=4096 -o kv");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto dat = read_dat(s.read("kv.dat"));
  CHECK(dat.at("llama3_70b") == Points{{1, 4096}, {8, 512}});
  CHECK_THAT(s.read("kv.gp"), Contains(R"x(set ylabel "KV (kB/token)")x") && Contains("using 1:($2*0.001)"));

  const CliResult two = s.plot("s.csv --x ctx_len --y t_attention_s,t_comm_s --series model --filter tp=8 -o two");
  INFO(two.err);
  REQUIRE(two.status == 0);
  const auto blocks = read_dat(s.read("two.dat"));
  CHECK(blocks.size() == 4);
  CHECK(blocks.count("communication time, paper29b_mla") == 1);
  CHECK_THAT(s.read("two.gp"), Contains(R"x(set ylabel "attention time, communication time ()x"));

  const CliResult units = s.plot("s.csv --x ctx_len --y t_attention_s,kv_bytes_per_token --series model -o u");
  CHECK(units.status == 2);
  CHECK_THAT(units.err, Contains("one y axis has one unit") && Contains("B/token"));
}

TEST_CASE("plot: at most 12 series, and the error suggests a filter", "[cli][plot]") {
  const Sweep s;
  // 2 models x 7 contexts.
  const CliResult many = s.plot("s.csv --x tp --y t_layer_s --series model,ctx_len -o many");
  CHECK(many.status == 2);
  CHECK_THAT(many.err, Contains("14 series") && Contains("at most 12") && Contains("--filter ctx_len=1024"));
  CHECK_FALSE(fs::exists(s.dir / "many.dat"));
  const CliResult twelve =
      s.plot("s.csv --x tp --y t_layer_s --series model,ctx_len --filter ctx_len=1k,2k,4k,8k,16k,32k -o twelve");
  INFO(twelve.err);
  CHECK(twelve.status == 0);
  CHECK(read_dat(s.read("twelve.dat")).count("llama3_70b, ctx_len=32768") == 1);
  const CliResult help = run_cli_binary("plot --help");
  CHECK_THAT(help.out, Contains("at most 12"));
}

TEST_CASE("plot: bad columns, empty selections, non-numbers and colliding rows are input errors", "[cli][plot]") {
  const Sweep s;
  const std::size_t files = s.dir.count();
  const CliResult typo = s.plot("s.csv --x ctx_len --y t_atention_s -o p");
  CHECK(typo.status == 2);
  CHECK_THAT(typo.err, Contains("--y: no column 't_atention_s' in s.csv") &&
                           Contains("did you mean t_attention_s?") && Contains("its columns: model, label,"));
  const CliResult series = s.plot("s.json --x ctx_len --y t_layer_s --series modell -o p");
  CHECK(series.status == 2);
  CHECK_THAT(series.err, Contains("--series: no column 'modell' in s.json") && Contains("did you mean model?"));

  const CliResult empty = s.plot("s.csv --x ctx_len --y t_layer_s --series model --filter tp=16 -o p");
  CHECK(empty.status == 2);
  CHECK_THAT(empty.err, Contains("--filter tp=16: no row of s.csv") && Contains("tp there: 1, 8"));
  const CliResult chained =
      s.plot("s.csv --x ctx_len --y t_layer_s --filter model=llama3_70b --filter tp=2,4 -o p");
  CHECK(chained.status == 2);
  CHECK_THAT(chained.err, Contains("left by the filters before it"));
  const CliResult malformed = s.plot("s.csv --x ctx_len --y t_layer_s --filter tp -o p");
  CHECK(malformed.status == 2);
  CHECK_THAT(malformed.err, Contains("'tp' is not COLUMN=VALUE"));

  const CliResult text = s.plot("s.csv --x ctx_len --y model -o p");
  CHECK(text.status == 2);
  CHECK_THAT(text.err, Contains("s.csv line 2, column model: 'llama3_70b' is not a finite number"));
  const CliResult text_json = s.plot("s.json --x hardware --y t_layer_s -o p");
  CHECK(text_json.status == 2);
  CHECK_THAT(text_json.err, Contains("s.json /rows/0, column hardware: 'h100_sxm' is not a finite number"));

  // Both models at tp 8 on one line: two rows per ctx_len.
  const CliResult collide = s.plot("s.csv --x ctx_len --y t_layer_s --filter tp=8 -o p");
  CHECK(collide.status == 2);
  CHECK_THAT(collide.err, Contains("fall in one series at the same ctx_len = 1024") &&
                              Contains("they differ in model, label, variant"));

  const CliResult all_zero = s.plot("s.csv --x ctx_len --y t_comm_s --series model --filter tp=1 --logy -o p");
  CHECK(all_zero.status == 2);
  CHECK_THAT(all_zero.err, Contains("every value of t_comm_s is <= 0"));

  const CliResult no_stem = s.plot("s.csv --x ctx_len --y t_layer_s --series model --filter tp=8 -o sub/");
  CHECK(no_stem.status == 2);
  CHECK_THAT(no_stem.err, Contains("is not a file stem"));
  CHECK(s.dir.count() == files);  // nothing written, no temporaries left
}

TEST_CASE("plot: quoted CSV cells and CRLF lines", "[cli][plot]") {
  TempDir dir;
  std::ofstream(dir / "t.csv") << "name,x,y_s\r\n\"a,b\",2,3\r\n\"a,b\",1,2\r\n\"say \"\"hi\"\"\",1,5\r\n\r\n";
  const CliResult r = run_cli_binary("plot t.csv --x x --y y_s --series name -o t", dir.path().string());
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto dat = read_dat(slurp(dir / "t.dat"));
  CHECK(dat.at("a,b") == Points{{1, 2}, {2, 3}});  // sorted by x
  CHECK(dat.at("say \"hi\"") == Points{{1, 5}});
  std::ofstream(dir / "bad.csv") << "name,x\n\"open,1\n";
  const CliResult bad = run_cli_binary("plot bad.csv --x x --y x -o b", dir.path().string());
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Contains("bad.csv line 2: a quoted cell is not closed"));
}

TEST_CASE("plot without gnuplot: the .dat and .gp are written and the command says how to render", "[cli][plot]") {
  const Sweep s;
  const CliResult r = run_cli_binary("plot s.csv --x ctx_len --y t_layer_s --series model --filter tp=8 -o n",
                                     s.dir.path().string(), "PATH=/nonexistent");
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK_THAT(r.err, Contains("gnuplot not found") && Contains("cd . && gnuplot n.gp"));
  CHECK(fs::exists(s.dir / "n.dat"));
  CHECK(fs::exists(s.dir / "n.gp"));
  CHECK_FALSE(fs::exists(s.dir / "n.png"));
  CHECK_FALSE(fs::exists(s.dir / "n.svg"));
}

TEST_CASE("axis labels and units from column names", "[cli][plot]") {
  using attnroof::report::axis_label;
  using attnroof::report::column_label;
  using Prefixes = attnroof::report::ColumnLabel::Prefixes;
  struct Case {
    const char* name;
    const char* quantity;
    const char* unit;
  };
  for (const Case& c : {Case{"t_attention_s", "attention time", "s"},
                        Case{"t_attn_per_model_s", "attention time per model", "s"},
                        Case{"kv_bytes_per_token", "KV", "B/token"},
                        Case{"kv_cache_bytes_per_model", "KV cache", "B/model"},
                        Case{"attention_flop_per_s", "attention", "FLOP/s"},
                        Case{"intensity_flop_per_byte", "intensity", "FLOP/byte"},
                        Case{"kv_elems_per_token", "KV", "elements/token"},
                        Case{"bytes", "bytes", "B"},
                        Case{"ctx_len", "context length", ""},
                        Case{"q_tokens", "query tokens", ""}}) {
    INFO(c.name);
    CHECK(column_label(c.name).quantity == c.quantity);
    CHECK(column_label(c.name).unit == c.unit);
  }
  const auto t = column_label("t_layer_s");
  CHECK(axis_label(t, "layer time", 2.5e-5).text == "layer time (µs)");
  CHECK(axis_label(t, "layer time", 2.5e-5).scale == 1e6);
  CHECK(axis_label(t, "layer time", 5000).text == "layer time (s)");  // seconds only downwards
  CHECK(axis_label(column_label("memory_capacity_bytes"), "memory capacity", 8e10).text ==
        "memory capacity (GB)");
  CHECK(column_label("intensity_flop_per_byte").prefixes == Prefixes::none);
  CHECK(axis_label(column_label("intensity_flop_per_byte"), "intensity", 2000).text == "intensity (FLOP/byte)");
  CHECK(axis_label(column_label("attention_flop_per_s"), "attention", 3e14).text == "attention (TFLOP/s)");
}

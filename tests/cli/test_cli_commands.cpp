// The attnroof binary end to end: listing commands, kv, explain, sweep and study, checked by
// parsing their JSON and comparing with the model's own numbers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "model/presets.h"
#include "model/roofline.h"
#include "studies/report/sweep_columns.h"

using attnroof::test::run_cli_binary;
using attnroof::test::slurp;
using attnroof::test::TempDir;
using Catch::Matchers::Contains;
using nlohmann::json;

TEST_CASE("the version flag names version, commit and build", "[cli]") {
  const auto r = run_cli_binary("--version");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("attnroof 0.1.0") && Contains("commit:") &&
                        (Contains("build: cpu") || Contains("build: cuda sm_")));
}

TEST_CASE("every command has --help with examples", "[cli]") {
  for (const char* cmd : {"variants", "presets", "hardware", "kv", "explain", "sweep", "study",
                          "validate-kernels", "bench-kernels", "tp-step", "tp-collectives"}) {
    const auto r = run_cli_binary(std::string(cmd) + " --help");
    INFO(cmd);
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Contains("Examples:"));
  }
}

TEST_CASE("listings: variants, presets and hardware", "[cli]") {
  const auto v = run_cli_binary("variants --format json");
  REQUIRE(v.status == 0);
  CHECK(json::parse(v.out).size() == 12);
  const auto h = run_cli_binary("hardware --format json");
  REQUIRE(h.status == 0);
  const json hw = json::parse(h.out);
  CHECK(hw.size() == 5);
  const auto one = run_cli_binary("hardware a100_sxm_80gb");
  REQUIRE(one.status == 0);
  CHECK_THAT(one.out, Contains("source: NVIDIA A100") && Contains("uncalibrated"));
  const auto p = run_cli_binary("presets llama3_70b --format json");
  REQUIRE(p.status == 0);
  const json pj = json::parse(p.out);
  CHECK(pj["n_layers"] == 80);
  CHECK(pj["per_device"][3]["kv_elems_per_token"] == 256);  // TP 8: 1 KV head x 2 x 128
}

TEST_CASE("kv json: the blog's GQA at TP 1..8", "[cli]") {
  TempDir dir;
  const auto r = run_cli_binary("kv --preset llama3_70b --tp 1,2,4,8 --format json -o '" +
                                (dir / "kv.json").string() + "'");
  REQUIRE(r.status == 0);
  const json j = json::parse(slurp(dir / "kv.json"));
  CHECK(j["schema_version"] == 1);
  CHECK(j["provenance"]["command_line"].get<std::string>().find("kv --preset llama3_70b") !=
        std::string::npos);
  REQUIRE(j["rows"].size() == 4);
  const double expected[] = {16, 8, 4, 2};  // MLRA blog §2.3: GQA 16, 8, 4, 2 d_h
  for (std::size_t i = 0; i < 4; ++i) CHECK(j["rows"][i]["kv_d_h_multiple"] == expected[i]);
  CHECK(j["rows"][3]["kv_bytes_per_token"] == 512.0);
}

TEST_CASE("explain json matches the model and lists every op", "[cli]") {
  const auto r = run_cli_binary(
      "explain --preset llama3_70b --tp 8 --batch 4 --context 32k --format json");
  REQUIRE(r.status == 0);
  const json j = json::parse(r.out);
  const auto& preset = attnroof::model::find_preset("llama3_70b", "test");
  auto p = attnroof::model::DecodePoint::uniform(8, 4, 32768);
  const auto cost = preset.variant->decode_cost(p);
  const auto est = attnroof::model::estimate(cost, p, attnroof::model::find_hardware("h100_sxm", "t"));
  REQUIRE(j["ops"].size() == std::size_t(cost.n_ops));
  for (const json& op : j["ops"]) CHECK_FALSE(op["formula"].get<std::string>().empty());
  CHECK(j["totals"]["t_layer_s"].get<double>() == Approx(est.t_layer_s).epsilon(1e-12));
  CHECK(j["totals"]["flops"].get<double>() == Approx(cost.flops()).epsilon(1e-12));
  REQUIRE(j["collectives"].size() == 1);
  CHECK(j["collectives"][0]["bytes"].get<double>() == 4 * 8192 * 2.0);  // B*d elements, bf16
  CHECK(j["stages"].size() == 3);
  CHECK(j["capacity"]["max_batch"].get<int64_t>() > 0);
  CHECK(j["hardware"]["id"] == "h100_sxm");
}

TEST_CASE("explain takes a ragged batch", "[cli]") {
  const auto r = run_cli_binary("explain --preset llama3_70b --contexts 1000,2000,4k --format json");
  REQUIRE(r.status == 0);
  const json j = json::parse(r.out);
  CHECK(j["inputs"]["batch"] == 3);
  CHECK(j["inputs"]["ctx_len_sum"] == 7096);
}

TEST_CASE("sweep streams CSV with the column table's header and lists skipped points", "[cli]") {
  TempDir dir;
  const std::string out = (dir / "s.csv").string();
  const auto r = run_cli_binary("sweep --preset llama3_70b --tp 1,3,8 --batch 1,2 --context 4k:16k:x2 "
                                "--format csv -q -o '" + out + "'");
  REQUIRE(r.status == 0);
  const std::string csv = slurp(out);
  std::string header;
  for (const auto& c : attnroof::report::sweep_columns()) header += (header.empty() ? "" : ",") + std::string(c.name);
  CHECK(csv.substr(0, csv.find('\n')) == header);
  std::size_t lines = 0;
  for (char c : csv) lines += c == '\n';
  CHECK(lines == 1 + 2 * 2 * 3);  // tp 3 does not shard 64 heads: 6 points skipped, never dropped
  CHECK_THAT(r.err, Contains("6 skipped") && Contains("tp 3"));
  CHECK(dir.count() == 1);  // no temporary left behind
}

TEST_CASE("sweep json caps the skipped list and counts", "[cli]") {
  const auto r = run_cli_binary("sweep --preset llama3_70b --tp 3,8 --context 1:200:+1 --format json -q");
  REQUIRE(r.status == 0);
  const json j = json::parse(r.out);
  CHECK(j["row_count"] == 200);
  CHECK(j["rows"].size() == 200);
  CHECK(j["skipped_count"] == 200);
  CHECK(j["skipped"].size() == 100);
  CHECK(j["skipped_truncated"] == true);
  CHECK(j["inputs"]["points"] == 400);
  CHECK(j["rows"][0]["tp"] == 8);
}

TEST_CASE("sweep: fp8 compute on A100 is skipped with the reason", "[cli]") {
  const auto r = run_cli_binary("sweep --preset llama3_70b --tp 8 --hardware a100,h100 --act-dtype fp8 --format json -q");
  REQUIRE(r.status == 0);
  const json j = json::parse(r.out);
  CHECK(j["row_count"] == 1);
  REQUIRE(j["skipped_count"] == 1);
  CHECK_THAT(j["skipped"][0]["reasons"][0].get<std::string>(), Contains("a100_sxm_80gb"));
}

TEST_CASE("study: a GQA-only study writes report.json, CSV, README and plots", "[cli]") {
  TempDir dir;
  const std::string def = R"({"schema_version": 1, "name": "mini", "title": "Mini", "sections": [
    {"type": "kv_table", "id": "kv", "title": "KV", "models": [{"preset": "llama3_70b"}], "tp": [1, 8]},
    {"type": "sweep", "id": "t", "title": "T", "models": [{"preset": "llama3_70b", "label": "G", "tp": 8},
     {"preset": "llama3_70b", "label": "G1", "tp": 1}],
     "context": "4k:16k:x2", "ratios": [{"name": "tp", "numerator": "G1", "denominator": "G"}],
     "plot": {"type": "lines", "x": "ctx_len", "y": "t_attention_s"}}]})";
  {
    std::ofstream f(dir / "mini.json");
    f << def;
  }
  const auto r = run_cli_binary("study '" + (dir / "mini.json").string() + "' --no-plots --out-dir '" +
                                (dir / "reports").string() + "'");
  REQUIRE(r.status == 0);
  const json j = json::parse(slurp(dir / "reports/mini/report.json"));
  CHECK(j["schema_version"] == 1);
  CHECK(j["sections"][0]["rows"][1]["kv_elems_per_token"] == 256);
  const json& rows = j["sections"][1]["rows"];
  REQUIRE(rows.size() == 6);  // 2 models x 3 contexts
  // The ratio is TP 1 over TP 8 at each context, taken from the rows: it grows with the context
  // (the KV read, split 8 ways at TP 8, takes over from the fixed costs), and its range is the
  // range of its points.
  const json& ratio = j["sections"][1]["ratios"][0];
  REQUIRE(ratio["points"].size() == 3);
  double lo = 1e300, hi = 0, last = 0;
  for (const json& pt : ratio["points"]) {
    double num = 0, den = 0;
    for (const json& row : rows)
      if (row["ctx_len"] == pt["ctx_len"])
        (row["label"] == "G1" ? num : den) = row["t_attention_s"].get<double>();
    REQUIRE(num > 0);
    REQUIRE(den > 0);
    const double value = pt["ratio"].get<double>();
    CHECK(value == Approx(num / den));
    CHECK(value > last);
    CHECK(value > 1.0);
    CHECK(value < 8.0);  // at most the 8x fewer KV bytes per device
    last = value;
    lo = std::min(lo, value);
    hi = std::max(hi, value);
  }
  CHECK(ratio["predicted_min"].get<double>() == Approx(lo));
  CHECK(ratio["predicted_max"].get<double>() == Approx(hi));
  CHECK(std::filesystem::exists(dir / "reports/mini/README.md"));
  CHECK(std::filesystem::exists(dir / "reports/mini/t.gp"));
  CHECK(std::filesystem::exists(dir / "reports/mini/t.csv"));
}

TEST_CASE("reports/SCHEMA.md documents every sweep column", "[cli][schema]") {
  const std::string schema = slurp(std::filesystem::path(ATTNROOF_SOURCE_DIR) / "reports/SCHEMA.md");
  for (const auto& c : attnroof::report::sweep_columns()) {
    INFO(c.name);
    CHECK(schema.find("| `" + std::string(c.name) + "` | " + std::string(c.description) + " |") !=
          std::string::npos);
  }
}

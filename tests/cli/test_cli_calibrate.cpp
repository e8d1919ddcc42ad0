// attnroof calibrate / fidelity end to end, and the calibrated model in explain and sweep:
// bad input exits 2 naming the problem and writes nothing; a CSV of another kernel fits the
// plan-free form; the JSON summary has the documented fields.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_test_util.h"

using attnroof::test::CliResult;
using attnroof::test::run_cli_binary;
using attnroof::test::slurp;
using attnroof::test::TempDir;

namespace {

const std::string kData = std::string(ATTNROOF_SOURCE_DIR) + "/reports/calibration/data/";

void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

// A plan-free kernel's CSV: times from a known form, so the fit must land close.
std::string external_csv() {
  std::string csv =
      "kernel,family,q_heads,kv_heads,d_qk,d_v,page_size,batch,ctx_len,q_tokens,kv_dtype,time_s,"
      "read_ceiling_Bps\n";
  for (int b : {1, 4, 16, 64})
    for (int ctx : {1024, 8192, 65536, 262144}) {
      const double bytes = double(b) * ctx * 512, t = 9e-6 + 2e-7 * b + bytes / (0.8 * 4.5e12);
      char time[32];
      std::snprintf(time, sizeof time, "%.9g", t);
      csv += "ext,separate_kv,8,1,128,128,0," + std::to_string(b) + "," + std::to_string(ctx) +
             ",1,bf16," + time + ",4.5e12\n";
    }
  return csv;
}

}  // namespace

TEST_CASE("calibrate: a CSV of another kernel fits the plan-free form", "[cli][calibrate]") {
  TempDir dir;
  write(dir / "ext.csv", external_csv());
  const CliResult r = run_cli_binary("calibrate ext.csv -o prof.json", dir.path().string());
  INFO(r.err);
  REQUIRE(r.status == 0);
  const nlohmann::json p = nlohmann::json::parse(slurp(dir / "prof.json"));
  CHECK(p["schema"] == "attnroof.calibration/1");
  REQUIRE(p["external"].size() == 1);
  CHECK(p["external"][0]["kernel"] == "ext");
  CHECK(p["external"][0]["n_params"] == 4);
  CHECK(p["external"][0]["fit"]["max_abs_rel_error"].get<double>() < 0.01);
  CHECK(p["provenance"]["measurements"][0]["records"] == 16);

  const CliResult f = run_cli_binary("fidelity --calibration prof.json ext.csv --format json", dir.path().string());
  REQUIRE(f.status == 0);
  const nlohmann::json j = nlohmann::json::parse(f.out);
  for (const char* key : {"n_points", "median_abs_rel_error", "p95_abs_rel_error", "max_abs_rel_error"})
    CHECK(j["summary"].contains(key));
  CHECK(j["summary"]["n_points"] == 16);
  CHECK(j["per_kernel"][0]["kernel"] == "ext");
  const CliResult csv = run_cli_binary("fidelity --calibration prof.json ext.csv --format csv", dir.path().string());
  CHECK(csv.out.rfind("kernel,gpu,q_heads", 0) == 0);
}

TEST_CASE("calibrate and fidelity: bad input exits 2 and writes nothing", "[cli][calibrate]") {
  TempDir dir;
  write(dir / "bad_col.csv", "kernel,family,latency\nk,separate_kv,1\n");
  write(dir / "no_ceiling.csv",
        "kernel,family,q_heads,kv_heads,d_qk,d_v,page_size,batch,ctx_len,q_tokens,kv_dtype,time_s\n"
        "k,separate_kv,8,1,128,128,0,1,1024,1,bf16,1e-5\n");
  write(dir / "old.json", "{\"points\": []}");
  struct Case {
    std::string args, message;
  };
  for (const Case& c : {Case{"calibrate missing.csv -o p.json", "missing.csv: cannot open: No such file or directory"},
                        Case{"calibrate bad_col.csv -o p.json", "column 'latency' is not a measurement column"},
                        Case{"calibrate no_ceiling.csv -o p.json", "--read-ceiling"},
                        Case{"calibrate old.json -o p.json", "no \"records\" array"},
                        Case{"calibrate no_ceiling.csv -o p.json --folds 1", "--folds"},
                        Case{"calibrate no_ceiling.csv -o p.json --transfer x.json", "--report-dir"},
                        Case{"fidelity --calibration nope.json no_ceiling.csv", "nope.json"},
                        Case{"fidelity --calibration a100 no_ceiling.csv", "ships no calibration profile"}}) {
    const std::size_t before = dir.count();
    const CliResult r = run_cli_binary(c.args, dir.path().string());
    INFO(c.args << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains(c.message));
    CHECK(dir.count() == before);
  }
}

TEST_CASE("fidelity with a shipped profile predicts its own measurements", "[cli][calibrate]") {
  const CliResult r = run_cli_binary("fidelity --calibration h100_sxm " + kData + "h100_measurements.json");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("172 points predicted with embedded: model/data/calibration/h100_sxm.json"));
}

TEST_CASE("explain and sweep use the shipped calibration unless told otherwise", "[cli][calibrate]") {
  const std::string point = "--preset bench64_mla --batch 1 --context 1m";
  const CliResult cal = run_cli_binary("explain " + point + " --hardware h200");
  REQUIRE(cal.status == 0);
  CHECK_THAT(cal.out, Catch::Contains("projection, attention, output: calibrated, embedded: model/data/calibration/h200_sxm.json"));
  const CliResult none = run_cli_binary("explain " + point + " --hardware h200 --calibration none");
  REQUIRE(none.status == 0);
  CHECK_THAT(none.out, Catch::Contains("attention: uncalibrated roofline"));
  // Another GPU's profile on purpose: the user's choice, named in the output.
  const CliResult other = run_cli_binary("sweep " + point + " --hardware h200 --calibration h100_sxm --format csv --columns t_attention_s,attention_calibration");
  REQUIRE(other.status == 0);
  CHECK_THAT(other.out, Catch::Contains("embedded: model/data/calibration/h100_sxm.json"));
  // A hardware profile from a file (the builtin's own JSON) carries no calibration by default.
  const CliResult file = run_cli_binary("sweep " + point + " --hardware " + std::string(ATTNROOF_SOURCE_DIR) +
                                        "/model/data/hardware/h200_sxm.json --format csv --columns attention_calibration");
  INFO(file.err);
  REQUIRE(file.status == 0);
  CHECK_THAT(file.out, Catch::Contains("uncalibrated"));
}

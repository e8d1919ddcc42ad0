// `attnroof verify` through the real binary: every --help example runs and passes (exit 0), the
// JSON report is written atomically, bad input exits 2 and writes nothing.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli/cli_test_util.h"

using attnroof::test::CliResult;
using attnroof::test::run_cli_binary;
using attnroof::test::TempDir;

// [slow]: the examples verify every variant at every TP degree with the precision study, about
// 190 s unoptimized under the sanitizers; there the same verify code runs in-process
// (test_verify.cpp) and through the binary on two variants (the JSON report case below).
TEST_CASE("verify: every --help example runs and passes", "[reference][verify][cli][slow]") {
  const CliResult help = run_cli_binary("verify --help");
  REQUIRE(help.status == 0);
  std::vector<std::string> examples;
  std::istringstream lines(help.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  attnroof verify", 0) == 0) examples.push_back(line.substr(11));
  }
  REQUIRE(examples.size() == 3);
  for (const std::string& example : examples) {
    TempDir dir;
    const CliResult r = run_cli_binary(example, dir.path().string());
    INFO("attnroof " << example << "\nstderr: " << r.err << "\nstdout tail: "
                     << r.out.substr(r.out.size() > 2000 ? r.out.size() - 2000 : 0));
    CHECK(r.status == 0);
  }
}

TEST_CASE("verify: JSON report to a file; bad input exits 2 and writes nothing",
          "[reference][verify][cli]") {
  TempDir dir;
  const CliResult r = run_cli_binary("verify --variants mlra4,tpla --tp 1,4 --format json -o v.json",
                                     dir.path().string());
  REQUIRE(r.status == 0);
  const nlohmann::json report = nlohmann::json::parse(attnroof::test::slurp(dir / "v.json"));
  CHECK(report.at("report") == "verify");
  CHECK(report.at("pass") == true);
  CHECK(report.at("variants").size() == 2);
  CHECK(report.at("provenance").contains("command_line"));
  CHECK(dir.count() == 1);
  TempDir empty;
  for (const char* bad : {"verify --variants nope -o v.json", "verify --tp 0 -o v.json",
                          "verify --format csv -o v.json", "verify --preset dsv3_mla --variants mla -o v.json"}) {
    const CliResult b = run_cli_binary(bad, empty.path().string());
    INFO(bad << ": " << b.err);
    CHECK(b.status == 2);
    CHECK(empty.count() == 0);
  }
}

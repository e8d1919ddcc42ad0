// Hostile command lines: numbers in one syntax and finite,
// options that would be ignored or are empty, unknown commands, sizes past the limits, and the
// kernel commands' checks that come before any GPU is touched. Each case drives the real binary:
// exit 2, one message naming the option and the text given, nothing on stdout, nothing written.
#include <catch2/catch.hpp>

#include <fstream>

#include "cli_test_util.h"
#include "studies/limits.h"

using attnroof::test::CliResult;
using attnroof::test::run_cli_binary;
using attnroof::test::TempDir;
using Catch::Matchers::Contains;

namespace {

const std::string kGqa =
    R"('{"d_model":4096,"q_heads":32,"kv_heads":8,"d_head":128}')";

// Runs `args` (with -o DIR/out when `with_out`) and checks the contract of exit 2.
CliResult run_rejected(const std::string& args, bool with_out = true) {
  TempDir dir;
  const CliResult r =
      run_cli_binary(args + (with_out ? " -o '" + (dir / "out").string() + "'" : ""));
  INFO(args << "\nstderr: " << r.err);
  CHECK(r.status == 2);
  CHECK(dir.count() == 0);
  CHECK(r.out.empty());
  CHECK(r.err.find("internal error") == std::string::npos);
  return r;
}

bool built_with_cuda() { return run_cli_binary("--version").out.find("build: cuda") != std::string::npos; }

}  // namespace

TEST_CASE("every integer option reads decimal, within int64, echoing the text", "[cli][hostile]") {
  // "010" is ten everywhere (CLI11's own conversion made it eight for --layers).
  const CliResult ok =
      run_cli_binary("explain --variant gqa --config " + kGqa + " --layers 010 --format json");
  REQUIRE(ok.status == 0);
  CHECK_THAT(ok.out, Contains("\"n_layers\": 10"));
  auto r = run_rejected("explain --variant gqa --config " + kGqa + " --layers 99999999999999999999");
  CHECK_THAT(r.err, Contains("--layers") && Contains("'99999999999999999999' is out of range"));
  r = run_rejected("explain --variant gqa --config " + kGqa + " --layers 0x10");
  CHECK_THAT(r.err, Contains("--layers") && Contains("'0x10' is not an integer"));
  r = run_rejected("verify --seed 99999999999999999999");
  CHECK_THAT(r.err, Contains("error: verify: --seed") && Contains("'99999999999999999999'"));
  r = run_rejected("verify --seed -5");
  CHECK_THAT(r.err, Contains("--seed: '-5' is invalid: must be >= 0"));
  r = run_rejected("calibrate x.csv --folds 1");
  CHECK_THAT(r.err, Contains("--folds: '1' is invalid: must be >= 2"));
}

TEST_CASE("real options are finite numbers", "[cli][hostile]") {
  for (const char* bad : {"inf", "nan", "-inf"}) {
    const auto r = run_rejected("explain --variant gqa --config " + kGqa + " --other-params " + bad);
    CHECK_THAT(r.err, Contains("--other-params: '" + std::string(bad) + "' is not a finite number"));
  }
  auto r = run_rejected("explain --variant gqa --config " + kGqa + " --other-params 1e400");
  CHECK_THAT(r.err, Contains("'1e400' is out of the range of a double"));
  r = run_rejected("explain --variant gqa --config " + kGqa + " --other-params -1");
  CHECK_THAT(r.err, Contains("--other-params: '-1' is invalid: must be >= 0"));
}

TEST_CASE("options that would be ignored are errors naming the conflict", "[cli][hostile]") {
  auto r = run_rejected("explain --preset llama3_70b --layers 4");
  CHECK_THAT(r.err, Contains("--layers applies to a --variant/--config model"));
  r = run_rejected("sweep --preset llama3_70b --other-params 1e9");
  CHECK_THAT(r.err, Contains("--other-params applies to a --variant/--config model"));
  r = run_rejected("explain --preset llama3_70b --contexts 1000,2000 --batch 4");
  CHECK_THAT(r.err, Contains("--contexts gives one ragged batch: it replaces --batch and --context"));
  r = run_rejected("explain --preset llama3_70b --contexts 1000,2000 --context 4k");
  CHECK_THAT(r.err, Contains("replaces --batch and --context"));
}

TEST_CASE("an empty value is an error, never 'everything' or 'the default'", "[cli][hostile]") {
  auto r = run_rejected("variants ''", false);
  CHECK_THAT(r.err, Contains("error: variants: NAME: empty value"));
  r = run_rejected("presets ' '", false);
  CHECK_THAT(r.err, Contains("NAME: empty value"));
  r = run_rejected("explain --preset llama3_70b --contexts ''");
  CHECK_THAT(r.err, Contains("--contexts: empty value"));
  r = run_rejected("sweep --preset llama3_70b --columns ''");
  CHECK_THAT(r.err, Contains("--columns: empty value"));
  r = run_rejected("kv --preset ''");
  CHECK_THAT(r.err, Contains("--preset: empty value"));
}

TEST_CASE("an unknown command is named, with the commands there are", "[cli][hostile]") {
  const auto r = run_rejected("bogus", false);
  CHECK_THAT(r.err, Contains("unknown command 'bogus'") && Contains("explain") &&
                        Contains("validate-kernels"));
}

TEST_CASE("tables held in memory refuse sizes past the limit before allocating", "[cli][hostile]") {
  const auto r = run_rejected("kv --tp 1:1000000:+1");
  CHECK_THAT(r.err, Contains("1000000 TP degrees") &&
                        Contains(std::to_string(attnroof::cli::kMaxReportPoints)));
  // An axis past its own limit is refused while it is parsed.
  const auto axis = run_rejected("sweep --preset llama3_70b --batch 1:99999999999:+1");
  CHECK_THAT(axis.err, Contains("--batch") && Contains("expands to more than"));
}

TEST_CASE("a study section past the in-memory limit is refused, pointing at sweep", "[cli][hostile]") {
  TempDir dir;
  {
    std::ofstream f(dir / "big.json");
    f << R"({"schema_version": 1, "name": "big", "title": "B", "sections": [
      {"type": "sweep", "id": "x", "title": "X", "models": [{"preset": "llama3_70b"}],
       "batch": "1:2000:+1", "context": "1:2000:+1"}]})";
  }
  const CliResult r = run_cli_binary("study '" + (dir / "big.json").string() + "' --out-dir '" +
                                     (dir / "reports").string() + "'");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("section 'x': 4000000 points, past the limit of") &&
                        Contains("`attnroof sweep` streams"));
}

TEST_CASE("a long sweep says how many points it has before it starts", "[cli][hostile]") {
  // 2^20 points: announced on stderr before the first row; the pipe into head then stops it
  // (run_cli_binary's redirections apply to head, so r.out is what head saw).
  const CliResult r = run_cli_binary(
      "sweep --preset llama3_70b --batch 1:1024:+1 --context 1:1024:+1 --format csv 2>&1 | head -c 100");
  CHECK_THAT(r.out, Contains("sweep: 1048576 points; the time left is shown"));
}

TEST_CASE("kernel commands check their options before looking for a GPU", "[cli][hostile]") {
  auto r = run_rejected("bench-kernels --seed -5", false);
  CHECK_THAT(r.err, Contains("--seed: '-5' is invalid"));
  r = run_rejected("bench-kernels --max-cache-gb nan", false);
  CHECK_THAT(r.err, Contains("--max-cache-gb: 'nan' is not a finite number"));
  r = run_rejected("bench-kernels --max-cache-gb 0", false);
  CHECK_THAT(r.err, Contains("--max-cache-gb: 0 must be > 0"));
  r = run_rejected("bench-kernels --passes 0", false);
  CHECK_THAT(r.err, Contains("--passes: '0' is invalid: must be >= 1"));
  // The benchmark's cases are the model's (model/decode_cases.h): checked in every build.
  r = run_rejected("bench-kernels --shapes mla,bogus", false);
  CHECK_THAT(r.err, Contains("--shapes: unknown decode case 'bogus'") &&
                        Contains("gqa_tp8, mla, gla2_tp2, mlra4_tp4, mla_h128"));
  r = run_rejected("validate-kernels --seed -1 --list");
  CHECK_THAT(r.err, Contains("--seed: '-1' is invalid"));
  // --stress draws its own cases: a grid selector with it, or a stress tuning without it, would
  // be ignored, so each is an error (before any GPU is looked for, in every build).
  r = run_rejected("validate-kernels --stress 5 --shapes latent_d576_v512", false);
  CHECK_THAT(r.err, Contains("--shapes selects grid cases, and --stress draws random ones"));
  r = run_rejected("validate-kernels --stress 5 --reduced", false);
  CHECK_THAT(r.err, Contains("--reduced selects grid cases"));
  r = run_rejected("validate-kernels --stress-repeats 4", false);
  CHECK_THAT(r.err, Contains("--stress-repeats tunes --stress N, which is not given"));
  r = run_rejected("validate-kernels --stress 3 --stress-repeats 101", false);
  CHECK_THAT(r.err, Contains("--stress-repeats: 101 must be <= 100"));
  r = run_rejected("validate-kernels --stress -3", false);
  CHECK_THAT(r.err, Contains("--stress: '-3' is invalid"));
  r = run_rejected("validate-kernels --stress 3 --stress-max-cache-gb 0", false);
  CHECK_THAT(r.err, Contains("--stress-max-cache-gb: '0' is invalid: must be >= 0.1"));
  if (!built_with_cuda()) {
    WARN("CPU build: the kernel grid's shape names are checked only in a CUDA build");
    return;
  }
  r = run_rejected("validate-kernels --list --shapes bogus");
  CHECK_THAT(r.err, Contains("--shapes: 'bogus' is not a shape of the grid") &&
                        Contains("latent_d576_v512"));
  r = run_rejected("validate-kernels --list --filter no_such_case");
  CHECK_THAT(r.err, Contains("no case matches --filter 'no_such_case'"));
}

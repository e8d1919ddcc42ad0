// Bad input, one test per class: exit status 2, one message naming the field, the value and the
// rule (or the file, position and key), and no output file written.
#include <catch2/catch.hpp>

#include "cli_test_util.h"

using attnroof::test::CliResult;
using attnroof::test::run_cli_binary;
using attnroof::test::TempDir;
using Catch::Matchers::Contains;

namespace {

// Runs `args -o DIR/out.json` and checks the common contract.
CliResult run_bad(const std::string& args) {
  TempDir dir;
  const CliResult r = run_cli_binary(args + " -o '" + (dir / "out.json").string() + "'");
  INFO(args << "\nstderr: " << r.err);
  CHECK(r.status == 2);
  CHECK(dir.count() == 0);  // nothing written, no temporary left
  CHECK(r.out.empty());
  return r;
}

}  // namespace

TEST_CASE("unknown variant, preset and hardware list the known names", "[cli][bad]") {
  auto r = run_bad("explain --variant mla5 --config '{}'");
  CHECK_THAT(r.err, Contains("error: explain:") && Contains("unknown variant 'mla5'") &&
                        Contains("mlra4"));
  r = run_bad("sweep --preset llama4");
  CHECK_THAT(r.err, Contains("unknown preset 'llama4'") && Contains("llama3_70b"));
  r = run_bad("sweep --preset 'nothing_*'");
  CHECK_THAT(r.err, Contains("matches no preset"));
  r = run_bad("explain --preset llama3_70b --hardware tpu9");
  CHECK_THAT(r.err, Contains("--hardware") && Contains("'tpu9'") && Contains("h200_sxm"));
}

TEST_CASE("invalid numbers name the field, the value and the rule", "[cli][bad]") {
  auto r = run_bad("explain --preset llama3_70b --batch 0");
  CHECK_THAT(r.err, Contains("--batch") && Contains("0") && Contains("must be >= 1"));
  r = run_bad("sweep --preset llama3_70b --batch 1,-4");
  CHECK_THAT(r.err, Contains("--batch") && Contains("-4") && Contains("must be >= 1"));
  r = run_bad("explain --preset llama3_70b --context 0");
  CHECK_THAT(r.err, Contains("--context") && Contains("must be >= 1"));
  r = run_bad("explain --preset llama3_70b --tp 3");
  CHECK_THAT(r.err, Contains("tp") && Contains("3") && Contains("1, 2, 4, 8"));
  r = run_bad("explain --preset llama3_70b --context 4 --q-tokens 8");
  CHECK_THAT(r.err, Contains("ctx_len = 4") && Contains("q_tokens = 8"));
  r = run_bad("sweep --preset llama3_70b --context 16k:4k:x2");
  CHECK_THAT(r.err, Contains("end 4096 is below start 16384"));
  r = run_bad("explain --preset llama3_70b --hardware a100 --act-dtype fp8");
  CHECK_THAT(r.err, Contains("act_dtype = fp8") && Contains("a100_sxm_80gb"));
}

TEST_CASE("malformed JSON config names the file, line and column", "[cli][bad]") {
  TempDir dir;
  const std::string cfg = (dir / "bad.json").string();
  {
    std::ofstream f(cfg);
    f << "{\"d_model\": 4096,\n \"q_heads\": 32,, }";
  }
  const auto r = run_bad("explain --variant gqa --config '" + cfg + "'");
  CHECK_THAT(r.err, Contains(cfg + ":2:") && Contains("malformed JSON"));
}

TEST_CASE("unknown config key names the position and lists valid keys", "[cli][bad]") {
  const auto r = run_bad(
      R"(explain --variant gqa --config '{"d_model":4096,"q_heads":32,"kv_heads":8,"d_head":128,"kv_head":8}')");
  CHECK_THAT(r.err, Contains("--config") && Contains("kv_head") && Contains("d_head"));
}

TEST_CASE("wrong type names the position, the key and the type", "[cli][bad]") {
  const auto r = run_bad(
      R"(explain --variant gqa --config '{"d_model":"4096","q_heads":32,"kv_heads":8,"d_head":128}')");
  CHECK_THAT(r.err, Contains("--config") && Contains("/d_model") && Contains("string"));
}

TEST_CASE("an unknown column or format is bad input", "[cli][bad]") {
  auto r = run_bad("sweep --preset llama3_70b --columns tp,t_layer_us");
  CHECK_THAT(r.err, Contains("unknown column 't_layer_us'") && Contains("t_layer_s"));
  r = run_bad("sweep --preset llama3_70b --format xml");
  CHECK_THAT(r.err, Contains("unknown format 'xml'"));
}

TEST_CASE("a study that fails leaves no report directory", "[cli][bad]") {
  TempDir dir;
  {
    std::ofstream f(dir / "broken.json");
    f << R"({"schema_version": 1, "name": "broken", "title": "B", "sections": [
      {"type": "sweep", "id": "x", "title": "X", "models": [{"preset": "llama3_70b"}], "batch": "0"}]})";
  }
  const auto r = run_cli_binary("study '" + (dir / "broken.json").string() + "' --out-dir '" +
                                (dir / "reports").string() + "'");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("/sections/0/batch") && Contains("must be >= 1"));
  CHECK_FALSE(std::filesystem::exists(dir / "reports"));  // not even the --out-dir it would have made
}

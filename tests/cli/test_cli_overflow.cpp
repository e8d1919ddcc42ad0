// Integer overflow and input-bounded loops through the real binary: command lines whose sizes
// overflow int64 or bound a loop exit 2 with a message naming the fields and write nothing on
// stdout; q_heads = 2^62 answers at once.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/presets.h"
#include "studies/evaluate.h"
#include "studies/kv_table.h"
#include "tests/cli/cli_test_util.h"

using attnroof::test::CliResult;
using attnroof::test::run_cli_binary;
using Catch::Matchers::Contains;

namespace {

// Exit 2, nothing on stdout, and the message on stderr.
void require_input_error(const CliResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.status == 2);
  CHECK(r.out.empty());
}

}  // namespace

TEST_CASE("explain: batch x context past int64 is an error naming both", "[cli][overflow]") {
  const CliResult r =
      run_cli_binary("explain --preset llama3_70b --batch 4294967296 --context 4294967296");
  require_input_error(r);
  CHECK_THAT(r.err,
             Contains("batch = 4294967296 x ctx_len = 4294967296 overflows 64-bit integers"));

  const CliResult max_batch =
      run_cli_binary("explain --preset llama3_70b --batch 9223372036854775807");
  require_input_error(max_batch);
  CHECK_THAT(max_batch.err, Contains("batch = 9223372036854775807 x ctx_len = 8192 overflows"));

  const CliResult ragged =
      run_cli_binary("explain --preset llama3_70b --contexts 9223372036854775807,1");
  require_input_error(ragged);
  CHECK_THAT(ragged.err, Contains("2 sequence lengths") && Contains("overflows 64-bit integers"));
}

TEST_CASE("explain: the largest batch that fits int64 gives positive, exact numbers",
          "[cli][overflow]") {
  const CliResult r = run_cli_binary(
      "explain --preset llama3_70b --batch 9223372036854775807 --context 1 --format json");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j.at("inputs").at("ctx_len_sum").get<int64_t>() == INT64_MAX);
  CHECK(j.at("totals").at("flops").get<double>() > 0);
  // 8 KV heads x d_head 128 x bf16, read by scores and by value.
  CHECK(j.at("totals").at("kv_read_bytes").get<double>() == 9223372036854775807.0 * 4096.0);
}

TEST_CASE("A config whose cache size passes int64 is an error naming its dimensions",
          "[cli][overflow]") {
  const CliResult r = run_cli_binary(
      "explain --variant gqa --config "
      "'{\"d_model\": 8192, \"q_heads\": 64, \"kv_heads\": 8, \"d_head\": 4611686018427387904}'");
  require_input_error(r);
  CHECK_THAT(r.err, Contains("--config: GQA config: 2 x kv_heads = 8 x d_head = "
                             "4611686018427387904 overflows 64-bit integers"));
}

TEST_CASE("q_heads = 2^62 answers at once, valid or not", "[cli][overflow][tp]") {
  const std::string config =
      "--variant gqa --config '{\"d_model\": 64, \"q_heads\": 4611686018427387904, "
      "\"kv_heads\": 1, \"d_head\": 1}'";
  const auto start = std::chrono::steady_clock::now();
  const CliResult ok = run_cli_binary("explain " + config + " --tp 2");
  INFO(ok.err);
  CHECK(ok.status == 0);
  const CliResult bad = run_cli_binary("explain " + config + " --tp 3");
  require_input_error(bad);
  CHECK_THAT(bad.err, Contains("tp = 3 does not divide q_heads = 4611686018427387904") &&
                          Contains("valid tp: 1, 2, 4,") && Contains("32768, ... (63 in all)"));
  // Counting to q_heads took forever; walking 2^61 heads' CTAs exhausted memory.
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 5.0);
}

TEST_CASE("sweep: a context total past int64 is refused before anything is written",
          "[cli][overflow]") {
  const CliResult r = run_cli_binary(
      "sweep --preset llama3_70b --batch 1,4294967296 --context 1,4294967296 --format csv");
  require_input_error(r);
  CHECK_THAT(r.err, Contains("batch = 4294967296 x ctx_len = 4294967296 overflows"));
}

TEST_CASE("A sweep's point count past int64 is an error naming the axes", "[cli][overflow]") {
  attnroof::cli::Axes axes;
  axes.models = {
      attnroof::cli::entry_from_preset(attnroof::model::find_preset("llama3_70b", "test"))};
  axes.hardware = {&attnroof::model::find_hardware("h100_sxm", "test")};
  std::vector<int64_t> axis(1 << 16);
  for (std::size_t i = 0; i < axis.size(); ++i) axis[i] = int64_t(i) + 1;
  axes.tp = axes.q_tokens = axes.batch = axes.ctx_len = axis;  // 2^64 points
  REQUIRE_THROWS_WITH(axes.size(), Contains("points per TP degree = 281474976710656 x tp values "
                                                "= 65536 overflows 64-bit integers") &&
                                       Contains("the sweep's point count"));
  axes.tp = {1, 2};  // 2^49 points: exact
  CHECK(axes.size() == uint64_t(1) << 49);
}

TEST_CASE("The KV pivot looks each (model, TP) cell up in an index of the rows",
          "[cli][overflow]") {
  const std::vector<attnroof::cli::ModelEntry> models = {
      attnroof::cli::entry_from_preset(attnroof::model::find_preset("llama3_70b", "test"))};
  const std::vector<int64_t> tps = {1, 3, 8};
  std::vector<nlohmann::json> skipped;
  const auto rows = attnroof::cli::kv_rows(models, tps, attnroof::model::Dtype::bf16, skipped);
  REQUIRE(rows.size() == 2);
  const attnroof::report::TextTable t = attnroof::cli::kv_pivot(models, tps, rows);
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0] == std::vector<std::string>{"llama3_70b", "GQA 64q/8kv", "2048 (16 d_h) 4096 B",
                                              "- (does not shard)", "256 (2 d_h) 512 B"});
}

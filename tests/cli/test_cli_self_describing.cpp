// Outputs that say what they show: the sweep table shows every axis that
// varies and whether the model fits, tables take a time unit, kv states its dtype and bytes, and
// explain places the point on the roofline with the q_tokens and context that would move it.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/cli/cli_test_util.h"

using attnroof::test::run_cli_binary;
using Catch::Matchers::Contains;

namespace {

const std::string kSweepCommand = "sweep --preset llama3_70b --tp 8 --context 32k";

// The header line of a table and the cells of its first row.
std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

TEST_CASE("the sweep table shows the axes that vary, and fits", "[cli]") {
  auto r = run_cli_binary(kSweepCommand + " --q-tokens 1,4 --kv-dtype bf16,fp8");
  REQUIRE(r.status == 0);
  const std::string header = r.out.substr(0, r.out.find('\n'));
  CHECK_THAT(header, Contains("kv_dtype") && Contains("q_tokens") && Contains("fits"));
  CHECK_THAT(header, !Contains("form") && !Contains("weight_dtype"));
  r = run_cli_binary(kSweepCommand);  // nothing varies but the defaults' single values
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out.substr(0, r.out.find('\n')), !Contains("kv_dtype") && !Contains("q_tokens"));
}

TEST_CASE("a time unit scales the table time columns and renames them and CSV stays in seconds",
          "[cli]") {
  const auto csv = run_cli_binary(kSweepCommand + " --format csv --columns t_layer_s,max_batch");
  const auto us = run_cli_binary(kSweepCommand + " --time-unit us --columns t_layer_s,max_batch");
  REQUIRE(csv.status == 0);
  REQUIRE(us.status == 0);
  const std::string csv_row = csv.out.substr(csv.out.find('\n') + 1);
  const double t_s = std::stod(csv_row.substr(0, csv_row.find(',')));
  std::istringstream lines(us.out);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  CHECK(words(header) == std::vector<std::string>{"t_layer_us", "max_batch"});
  CHECK(std::stod(words(row)[0]) == Approx(t_s * 1e6).epsilon(1e-3));  // the table's 4 digits
  // CSV and JSON keep SI seconds whatever the unit.
  const auto csv_us = run_cli_binary(kSweepCommand + " --format csv --time-unit us --columns t_layer_s");
  CHECK_THAT(csv_us.out, Contains("t_layer_s\n"));
  const auto bad = run_cli_binary(kSweepCommand + " --time-unit min");
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Contains("--time-unit: unknown time unit 'min'; known: s, ms, us"));
}

TEST_CASE("kv names its dtype and shows bytes beside elements", "[cli]") {
  const auto r = run_cli_binary("kv --preset llama3_70b --tp 1,8 --kv-dtype fp8");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("kv_dtype fp8_e4m3 (1 B per element)"));
  // 8 KV heads x 128 x 2 (K and V) = 2048 elements per token per layer at TP 1, 1 B each; TP 8
  // leaves one KV head: 256.
  CHECK_THAT(r.out, Contains("2048 (16 d_h) 2048 B") && Contains("256 (2 d_h) 256 B"));
}

TEST_CASE("explain places the point on the roofline and names what would move it", "[cli]") {
  const std::string args = "explain --preset llama3_70b --tp 8 --batch 16 --context 32k";
  const auto text = run_cli_binary(args);
  REQUIRE(text.status == 0);
  // h100_sxm: 9.894e14 FLOP/s x 0.7 / (3.35e12 B/s x 0.9) = 229.7 FLOP/B; 9.894e14 / 3.35e12 = 295.3.
  CHECK_THAT(text.out, Contains("effective ridge 229.7 FLOP/B") && Contains("datasheet ridge 295.3"));
  // GQA with 8 query heads per KV head: attention reads each KV byte for 8 heads, 7.998 FLOP/B
  // at q_tokens 1, and q_tokens multiplies that (less the causal triangle): the plain roofline
  // turns compute-bound where 7.998 q >= 229.7, q >= 28.7, so at 29.
  CHECK_THAT(text.out, Contains("plain roofline memory-bound: compute-bound at q_tokens >= 29"));

  const auto json_run = run_cli_binary(args + " --format json");
  REQUIRE(json_run.status == 0);
  const nlohmann::json j = nlohmann::json::parse(json_run.out);
  const nlohmann::json& roof = j.at("roofline");
  CHECK(roof.at("effective_ridge_flop_per_byte").get<double>() ==
        Approx(9.894e14 * 0.7 / (3.35e12 * 0.9)));
  const nlohmann::json& attention = roof.at("stages").at(1);
  CHECK(attention.at("stage") == "attention");
  CHECK(attention.at("roofline_bound") == "memory");
  CHECK(attention.at("roofline_bound_change_q_tokens").at("at") == 29);
  CHECK(attention.at("roofline_bound_change_q_tokens").at("to") == "compute");
  // A ragged batch has no single context to move.
  const auto ragged = run_cli_binary(
      "explain --preset llama3_70b --tp 8 --contexts 1000,8000 --format json");
  REQUIRE(ragged.status == 0);
  CHECK(nlohmann::json::parse(ragged.out)["roofline"]["stages"][1]["bound_change_ctx_len"].is_null());
}

TEST_CASE("explain --time-unit scales every time of the table and names the unit", "[cli][explain]") {
  const std::string point = "explain --preset llama3_70b --tp 8 --batch 16 --context 32k";
  const auto json_run = run_cli_binary(point + " --format json --time-unit us");  // JSON stays in s
  REQUIRE(json_run.status == 0);
  const double t_layer_s = nlohmann::json::parse(json_run.out)["totals"]["t_layer_s"].get<double>();
  const auto us = run_cli_binary(point + " --time-unit us");
  REQUIRE(us.status == 0);
  CHECK_THAT(us.out, Contains("t_mem us   t_math us        t us"));
  CHECK_THAT(us.out, Contains("4 us kernel overhead"));  // the H100 profile's 4e-06 s
  const std::size_t at = us.out.find("t_layer = ");
  REQUIRE(at != std::string::npos);
  const double shown = std::stod(us.out.substr(at + 10));
  CHECK(shown == Approx(t_layer_s * 1e6).epsilon(1e-3));  // printed to 4 significant digits
  CHECK_THAT(us.out.substr(at), Contains(" us (compute "));
  const auto bad = run_cli_binary(point + " --format json --time-unit min");  // refused for json too
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Contains("--time-unit: unknown time unit 'min'"));
}

// The whole decode step on the command line: explain's step and capacity at the
// layouts the README names, and the --ep / --dp-attention sweep axes with their skipped points.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_test_util.h"

using attnroof::test::run_cli_binary;
using Catch::Matchers::Contains;
using nlohmann::json;

TEST_CASE("explain: DeepSeek-V3 fits where it really fits, fp8 and EP, and says why", "[cli][step]") {
  // TP 4: 671B fp8 weights are ~170 GB per device, more than any part holds.
  auto tp4 = run_cli_binary("explain --preset dsv3_mlra4 --tp 4 --batch 16 --context 128k --hardware h200");
  REQUIRE(tp4.status == 0);
  CHECK_THAT(tp4.out, Contains("does NOT fit"));
  CHECK_THAT(tp4.out, Contains("weights in fp8_e4m3 (native)"));
  // TP 8 on an H200 fits; so do EP 8 with DP attention 8 (whole experts, 32 per device).
  auto tp8 = run_cli_binary("explain --preset dsv3_mlra4 --tp 8 --batch 16 --context 128k --hardware h200");
  REQUIRE(tp8.status == 0);
  CHECK_THAT(tp8.out, Contains(": fits"));
  CHECK_THAT(tp8.out, Contains("t_step = "));
  auto ep = run_cli_binary("explain --preset dsv3_mla --tp 1 --dp-attention 8 --ep 8 --batch 32 --context 4k "
                           "--hardware h200 --format json");
  REQUIRE(ep.status == 0);
  const json j = json::parse(ep.out);
  CHECK(j["inputs"]["ep"] == 8);
  CHECK(j["inputs"]["weight_dtype"] == "fp8_e4m3");
  CHECK(j["capacity"]["fits"] == true);
  CHECK(j["capacity"]["weight_bytes_per_model"].get<double>() == Approx(98.9e9).epsilon(0.005));
  const json& step = j["step"];
  CHECK(step["ffn_modelled"] == true);
  double sum = 0;
  for (const json& part : step["parts"]) sum += part["t_s"].get<double>();
  CHECK(step["t_step_s"].get<double>() == Approx(sum));
  CHECK(step["tokens_per_s_per_gpu"].get<double>() == Approx(32 / step["t_step_s"].get<double>()));
  CHECK(step["parts"][2]["part"] == "moe");
  CHECK(step["parts"][2]["layers"] == 58);
  CHECK(step["parts"][2]["t_comm_s"].get<double>() > 0);  // dispatch and combine
  // --weight-dtype still overrides the native format: bf16 doubles the weights.
  auto bf16 = run_cli_binary("explain --preset dsv3_mla --tp 1 --dp-attention 8 --ep 8 --batch 32 --context 4k "
                             "--hardware h200 --weight-dtype bf16 --format json");
  REQUIRE(bf16.status == 0);
  CHECK(json::parse(bf16.out)["capacity"]["weight_bytes_per_model"].get<double>() ==
        Approx(2 * j["capacity"]["weight_bytes_per_model"].get<double>()));
}

TEST_CASE("sweep: --ep and --dp-attention are axes; layouts that do not shard are skipped with reasons",
          "[cli][step]") {
  auto r = run_cli_binary("sweep --preset dsv3_mla --tp 1 --dp-attention 8 --ep 1,3,8 --batch 32 --context 4k "
                          "--hardware h200 --format csv --columns ep,dp_attention,devices,t_step_s,tokens_per_s_per_gpu,fits");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("ep,dp_attention,devices,t_step_s,tokens_per_s_per_gpu,fits"));
  CHECK_THAT(r.out, Contains("\n1,8,8,"));
  CHECK_THAT(r.out, Contains("\n8,8,8,"));
  CHECK_THAT(r.err, Contains("1 skipped"));
  CHECK_THAT(r.err, Contains("ep = 3 does not divide the 8 devices"));
  // A dense model has no experts to spread.
  auto dense = run_cli_binary("sweep --preset llama3_70b --tp 8 --ep 8 --format csv");
  CHECK_THAT(dense.err, Contains("ep = 8 needs routed experts: the model has a dense FFN"));
  // The default table shows the step.
  auto table = run_cli_binary("sweep --preset llama3_70b --tp 8 --context 32k");
  REQUIRE(table.status == 0);
  CHECK_THAT(table.out, Contains("t_step_s"));
  CHECK_THAT(table.out, Contains("tokens_per_s_per_gpu"));
}

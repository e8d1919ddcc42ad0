// Bad configs and impossible TP degrees: each is an error whose message names the field, the
// value and the rule (and the valid choices where there is a closed set).
#include <catch2/catch.hpp>
#include <string>

#include "model/error.h"
#include "model/presets.h"
#include "tests/model/model_test_util.h"

using namespace attnroof::model;
using attnroof::InputError;
using attnroof::model::test::variant_from_json;
using Catch::Matchers::Contains;

namespace {

const std::string kMla = R"("d_model": 3072, "q_heads": 24, "d_q_latent": 1536, "d_latent": 512,
                            "d_rope": 64, "d_nope": 128, "d_v": 128)";
const std::string kLatent = R"("d_model": 3072, "q_heads": 24, "d_q_latent": 1024, "d_rope": 64,
                               "d_nope": 128, "d_v": 128)";

std::string joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const std::string& p : problems) out += p + "\n";
  return out;
}

}  // namespace

TEST_CASE("Unknown config keys are errors that list the valid keys", "[model][errors]") {
  REQUIRE_THROWS_WITH(variant_from_json("mla", "{" + kMla + R"(, "kv_lora_rank": 512})"),
                      Contains("unknown key 'kv_lora_rank'") && Contains("d_latent"));
  REQUIRE_THROWS_WITH(variant_from_json("gla", "{" + kLatent + R"(, "n_blocks": 2,
                                         "d_block": 256, "d_latent": 512})"),
                      Contains("unknown key 'd_latent'") && Contains("n_blocks"));
  REQUIRE_THROWS_WITH(
      variant_from_json("tpa", R"({"d_model": 3072, "q_heads": 24, "d_head": 128, "q_rank": 6,
                                   "k_rank": 2, "v_rank": 2, "rank": 2})"),
      Contains("unknown key 'rank'"));
}

TEST_CASE("Wrong types, missing keys, zero and negative sizes name the key", "[model][errors]") {
  REQUIRE_THROWS_WITH(
      variant_from_json("mla", R"({"d_model": 3072, "q_heads": 24, "d_q_latent": 1536,
                                   "d_latent": "512", "d_rope": 64, "d_nope": 128, "d_v": 128})"),
      Contains("/d_latent") && Contains("expected an integer") && Contains("\"512\""));
  REQUIRE_THROWS_WITH(
      variant_from_json("gta", R"({"d_model": 3072, "q_heads": 24, "kv_heads": 6, "d_head": 128,
                                   "d_rope": 0})"),
      Contains("d_rope = 0") && Contains("positive integer"));
  REQUIRE_THROWS_WITH(variant_from_json("mfa", R"({"d_model": 3072, "q_heads": -24, "d_head": 256,
                                   "d_q_latent": 2048, "key_reuse": false})"),
                      Contains("q_heads = -24") && Contains("positive integer"));
  REQUIRE_THROWS_WITH(variant_from_json("mfa", R"({"d_model": 3072, "q_heads": 24, "d_head": 256,
                                   "d_q_latent": 2048, "key_reuse": "yes"})"),
                      Contains("/key_reuse") && Contains("expected true or false"));
  REQUIRE_THROWS_WITH(variant_from_json("mfa", R"({"d_model": 3072, "q_heads": 24, "d_head": 256,
                                   "d_q_latent": 2048})"),
                      Contains("/key_reuse") && Contains("required key is missing"));
  REQUIRE_THROWS_WITH(variant_from_json("lrkv", R"({"d_model": 2304, "q_heads": 18,
                                                    "d_head": 128, "rank": 64})"),
                      Contains("/rope") && Contains("required key is missing"));
  REQUIRE_THROWS_WITH(variant_from_json("mlra4", "{" + kLatent + R"(, "d_latent": 512})"),
                      Contains("/out_proj") && Contains("required key is missing"));
}

TEST_CASE("Named options reject unknown values and list the valid ones", "[model][errors]") {
  REQUIRE_THROWS_WITH(
      variant_from_json("mlra4", "{" + kLatent + R"(, "d_latent": 512, "out_proj": "A"})"),
      Contains("out_proj = 'A'") && Contains("'replicated'") && Contains("'sharded'"));
  REQUIRE_THROWS_WITH(
      variant_from_json("lrkv", R"({"d_model": 2304, "q_heads": 18, "d_head": 128, "rank": 64,
                                    "rope": "full"})"),
      Contains("rope = 'full'") && Contains("'materialized'") && Contains("'latent'"));
}

TEST_CASE("Relations between dimensions are checked where the config is read", "[model][errors]") {
  REQUIRE_THROWS_WITH(
      variant_from_json("gla", "{" + kLatent + R"(, "n_blocks": 5, "d_block": 128})"),
      Contains("/n_blocks") && Contains("n_blocks = 5 does not divide q_heads = 24"));
  REQUIRE_THROWS_WITH(
      variant_from_json("mlra2", "{" + kLatent + R"(, "d_latent": 510, "out_proj": "replicated"})"),
      Contains("/d_latent") && Contains("d_latent = 510 is not divisible by 4"));
  REQUIRE_THROWS_WITH(
      variant_from_json("mlra2", R"({"d_model": 3072, "q_heads": 25, "d_q_latent": 1024,
                                     "d_rope": 64, "d_nope": 128, "d_v": 128, "d_latent": 512,
                                     "out_proj": "replicated"})"),
      Contains("/q_heads") && Contains("q_heads = 25 is odd"));
  REQUIRE_THROWS_WITH(
      variant_from_json("tpla", "{" + kLatent + R"(, "d_latent": 512, "groups": 3})"),
      Contains("/groups") && Contains("groups = 3 does not divide d_latent = 512"));
  REQUIRE_THROWS_WITH(
      variant_from_json("gta", R"({"d_model": 3072, "q_heads": 24, "kv_heads": 5, "d_head": 128,
                                   "d_rope": 64})"),
      Contains("/kv_heads") && Contains("kv_heads = 5 does not divide q_heads = 24"));
  REQUIRE_THROWS_WITH(
      variant_from_json("gta", R"({"d_model": 3072, "q_heads": 24, "kv_heads": 6, "d_head": 128,
                                   "d_rope": 128})"),
      Contains("/d_rope") && Contains("d_rope = 128 must be < d_head = 128"));
}

TEST_CASE("TP degrees a variant cannot shard are rejected with the rule and the valid degrees",
          "[model][errors][tp]") {
  const VariantPtr mla = variant_from_json("mla", "{" + kMla + "}");
  CHECK_THAT(joined(mla->check_tp(5)), Contains("tp = 5 does not divide q_heads = 24") &&
                                           Contains("valid tp: 1, 2, 3, 4, 6, 8, 12, 24"));
  CHECK_THAT(joined(mla->check_tp(0)), Contains("tp = 0 is invalid"));

  const VariantPtr gla4 =
      variant_from_json("gla", "{" + kLatent + R"(, "n_blocks": 4, "d_block": 128})");
  CHECK(gla4->check_tp(8).empty());
  CHECK_THAT(joined(gla4->check_tp(6)),
             Contains("tp = 6 neither divides nor is a multiple of n_blocks = 4") &&
                 Contains("valid tp: 1, 2, 4, 8, 12, 24"));

  const VariantPtr mlra4 =
      variant_from_json("mlra4", "{" + kLatent + R"(, "d_latent": 512, "out_proj": "replicated"})");
  CHECK_THAT(joined(mlra4->check_tp(3)),
             Contains("tp = 3 cannot shard MLRA-4's 4 latent blocks") &&
                 Contains("valid tp: 1, 2, 4, 8, 12, 16, 24, 32, 48, 96"));
  const VariantPtr mlra2 =
      variant_from_json("mlra2", "{" + kLatent + R"(, "d_latent": 512, "out_proj": "replicated"})");
  CHECK_THAT(joined(mlra2->check_tp(6)), Contains("tp = 6 cannot shard MLRA-2's 4 latent blocks") &&
                                             Contains("valid tp: 1, 2, 4, 8, 12, 16, 24, 48"));

  // Option B needs the head split; with 6 heads, option A still runs at TP 4.
  const std::string six_heads = R"({"d_model": 768, "q_heads": 6, "d_q_latent": 256,
                                   "d_rope": 64, "d_nope": 128, "d_v": 128, "d_latent": 512,
                                   "out_proj": )";
  CHECK(variant_from_json("mlra4", six_heads + R"("replicated"})")->check_tp(4).empty());
  CHECK_THAT(joined(variant_from_json("mlra4", six_heads + R"("sharded"})")->check_tp(4)),
             Contains("tp = 4 does not divide q_heads = 6") && Contains("out_proj = 'sharded'") &&
                 Contains("valid tp: 1, 2\n"));

  const VariantPtr tpla = variant_from_json("tpla", "{" + kLatent + R"(, "d_latent": 512,
                                                    "groups": 2})");
  CHECK_THAT(joined(tpla->check_tp(3)), Contains("tp = 3 cannot shard TPLA's groups = 2") &&
                                            Contains("valid tp: 1, 2, 4, 6, 8, 12, 16, 24, 48"));

  for (const char* name : {"gta", "tpa", "mfa", "lrkv"}) {
    const std::string json =
        std::string(name) == "gta"
            ? R"({"d_model": 3072, "q_heads": 24, "kv_heads": 6, "d_head": 128, "d_rope": 64})"
        : std::string(name) == "tpa"
            ? R"({"d_model": 3072, "q_heads": 24, "d_head": 128, "q_rank": 6, "k_rank": 2,
                  "v_rank": 2})"
        : std::string(name) == "mfa"
            ? R"({"d_model": 3072, "q_heads": 24, "d_head": 256, "d_q_latent": 2048,
                  "key_reuse": true})"
            : R"({"d_model": 3072, "q_heads": 24, "d_head": 128, "rank": 64, "rope": "latent"})";
    INFO(name);
    CHECK_THAT(joined(variant_from_json(name, json)->check_tp(16)),
               Contains("tp = 16 does not divide q_heads = 24"));
  }
}

TEST_CASE("Presets' configs go through the same strict reader", "[model][errors]") {
  const std::string preset = R"({"name": "x", "description": "d", "source": "s",
    "retrieved": "2026-11-24", "variant": "mlra4", "n_layers": 24, "other_params": 0,
    "config": {"d_model": 3072, "q_heads": 24, "d_q_latent": 1024, "d_latent": 512,
               "d_rope": 64, "d_nope": 128, "d_v": 128, "out_proj": "replicated",
               "n_blocks": 4}})";
  const attnroof::model::JsonSource source{"inline preset"};
  const nlohmann::json j = parse_json_text(preset, source);
  ObjectReader r(j, source);
  REQUIRE_THROWS_AS(parse_preset(r), InputError);
  ObjectReader again(j, source);
  REQUIRE_THROWS_WITH(parse_preset(again),
                      Contains("/config/n_blocks") && Contains("unknown key 'n_blocks'"));
}

// Per-device KV elements per token per layer against every table of docs/variants.md "KV numbers":
// the MLRA blog table, the 2.9B configs, DeepSeek-V3 dimensions, the GQA/GTA presets, GLA paper
// Tables 15 and 26, DeepSeek-V2 Table 1, and the TPLA §5.4.1 value.
#include <array>
#include <catch2/catch.hpp>
#include <string>

#include "model/dtype.h"
#include "model/presets.h"
#include "tests/model/model_test_util.h"

using namespace attnroof::model;
using attnroof::model::test::variant_from_json;

namespace {

constexpr std::array<int64_t, 4> kTp = {1, 2, 4, 8};

void require_kv(const AttentionVariant& v, std::array<int64_t, 4> expected_elems) {
  for (std::size_t i = 0; i < kTp.size(); ++i) {
    INFO(v.label() << " at tp " << kTp[i]);
    REQUIRE(v.check_tp(kTp[i]).empty());
    REQUIRE(v.kv_elems_per_token(kTp[i]) == expected_elems[i]);
  }
}

void require_kv_preset(const std::string& name, std::array<int64_t, 4> expected_elems) {
  INFO("preset " << name);
  require_kv(*find_preset(name, "test").variant, expected_elems);
}

// "X d_h" with X given in half-units, so 4.5 d_h is 9.
void require_kv_half_dh(const AttentionVariant& v, std::array<int64_t, 4> half_dh) {
  std::array<int64_t, 4> elems{};
  for (std::size_t i = 0; i < 4; ++i) elems[i] = half_dh[i] * v.d_head() / 2;
  require_kv(v, elems);
}

}  // namespace

TEST_CASE("MLRA blog §2.3: GQA 16/8/4/2 d_h, MLA 4.5 d_h at every TP, MLRA 4.5/2.5/1.5/1.5 d_h",
          "[model][kv][golden]") {
  require_kv_half_dh(*find_preset("llama3_70b", "test").variant, {32, 16, 8, 4});
  require_kv_half_dh(*find_preset("dsv3_mla", "test").variant, {9, 9, 9, 9});
  require_kv_half_dh(*find_preset("bench64_mla", "test").variant, {9, 9, 9, 9});
  require_kv_half_dh(*find_preset("dsv3_mlra4", "test").variant, {9, 5, 3, 3});
  require_kv_half_dh(*find_preset("paper29b_mlra4", "test").variant, {9, 5, 3, 3});
  require_kv_half_dh(*find_preset("paper29b_mlra2", "test").variant, {9, 5, 3, 3});
}

TEST_CASE("docs/variants.md KV per device: MLRA paper 2.9B configs", "[model][kv][golden]") {
  require_kv_preset("paper29b_mha", {6144, 3072, 1536, 768});
  require_kv_preset("paper29b_mqa", {256, 256, 256, 256});
  // 24 q / 6 KV: at TP 4 and 8 some device needs 2 KV heads (docs/variants.md "TP rules"), so
  // 512, not 384 or 192.
  require_kv_preset("paper29b_gqa", {1536, 768, 512, 512});
  require_kv_preset("paper29b_gta", {832, 448, 320, 320});
  require_kv_preset("paper29b_mla", {576, 576, 576, 576});
  require_kv_preset("paper29b_mfa", {512, 512, 512, 512});
  require_kv_preset("paper29b_tpa", {608, 560, 536, 524});
  require_kv_preset("paper29b_gla2", {576, 320, 320, 320});
  require_kv_preset("paper29b_gla4", {576, 320, 192, 192});
  require_kv_preset("paper29b_mlra2", {576, 320, 192, 192});
  require_kv_preset("paper29b_mlra4", {576, 320, 192, 192});
}

TEST_CASE("docs/variants.md KV per device: DeepSeek-V3 dimensions", "[model][kv][golden]") {
  require_kv_preset("dsv3_mla", {576, 576, 576, 576});
  require_kv_preset("dsv3_gla2", {576, 320, 320, 320});
  require_kv_preset("dsv3_gla8", {2112, 1088, 576, 320});
  require_kv_preset("dsv3_tpla2", {576, 320, 320, 320});
  require_kv_preset("dsv3_mlra4", {576, 320, 192, 192});
  const VariantPtr tpla4 = variant_from_json(
      "tpla", R"({"d_model": 7168, "q_heads": 128, "d_q_latent": 1536, "d_latent": 512,
                  "groups": 4, "d_rope": 64, "d_nope": 128, "d_v": 128})");
  require_kv(*tpla4, {576, 320, 192, 192});
}

TEST_CASE("docs/variants.md KV per device: GQA and GTA presets", "[model][kv][golden]") {
  require_kv_preset("llama3_70b", {2048, 1024, 512, 256});
  require_kv_preset("llama3_8b", {2048, 1024, 512, 256});
  require_kv_preset("llama3_8b_gta8", {1088, 576, 320, 192});
}

TEST_CASE("GLA paper Table 26: Llama-3-8B dimensions (32 q heads) across TP 1/2/4/8",
          "[model][kv][golden]") {
  const std::string dims = R"("d_model": 4096, "q_heads": 32)";
  const std::string latent = dims + R"(, "d_q_latent": 1536, "d_rope": 64, "d_nope": 128,
                                        "d_v": 128)";
  require_kv_half_dh(*variant_from_json("mha", "{" + dims + R"(, "d_head": 128})"),
                     {128, 64, 32, 16});
  // "GQA-4" in the table: the values are for 8 KV heads.
  require_kv_half_dh(*variant_from_json("gqa", "{" + dims + R"(, "kv_heads": 8, "d_head": 128})"),
                     {32, 16, 8, 4});
  require_kv_half_dh(*variant_from_json("mqa", "{" + dims + R"(, "d_head": 128})"), {4, 4, 4, 4});
  require_kv_half_dh(*variant_from_json("mla", "{" + latent + R"(, "d_latent": 512})"),
                     {9, 9, 9, 9});
  require_kv_half_dh(
      *variant_from_json("gla", "{" + latent + R"(, "n_blocks": 2, "d_block": 256})"),
      {9, 5, 5, 5});
  // "GTA-4" in the table: the values are for 8 tied heads.
  require_kv_half_dh(*find_preset("llama3_8b_gta8", "test").variant, {17, 9, 5, 3});
}

TEST_CASE("GLA paper Table 15: XL model bytes per token per layer per device (bf16)",
          "[model][kv][golden]") {
  struct Row {
    const char* preset;
    std::array<double, 3> bytes;  // TP 1, 2, 4
  };
  const std::array<Row, 5> rows = {{{"glaxl_mha", {8192, 4096, 2048}},
                                    {"glaxl_gqa4", {2048, 1024, 512}},
                                    {"glaxl_gta4", {1152, 640, 384}},
                                    {"glaxl_gla2", {1152, 640, 640}},
                                    {"glaxl_mla", {1152, 1152, 1152}}}};
  for (const Row& row : rows) {
    const Preset& p = find_preset(row.preset, "test");
    for (std::size_t i = 0; i < 3; ++i) {
      INFO(row.preset << " at tp " << kTp[i]);
      REQUIRE(double(p.variant->kv_elems_per_token(kTp[i])) * bytes_of(Dtype::bf16) ==
              row.bytes[i]);
    }
  }
}

TEST_CASE("DeepSeek-V2 Table 1: MHA 2 n_h d_h, GQA 2 n_g d_h, MQA 2 d_h, MLA 9/2 d_h",
          "[model][kv][golden]") {
  // DeepSeek-V2: 128 heads of 128, d 5120; MLA with d_c = 4 d_h and d_R = d_h / 2.
  for (const int64_t d_h : {64, 128}) {
    const std::string dims = R"("d_model": 5120, "q_heads": 128, "d_head": )" + std::to_string(d_h);
    INFO("d_h " << d_h);
    REQUIRE(variant_from_json("mha", "{" + dims + "}")->kv_elems_per_token(1) == 2 * 128 * d_h);
    REQUIRE(variant_from_json("gqa", "{" + dims + R"(, "kv_heads": 8})")->kv_elems_per_token(1) ==
            2 * 8 * d_h);
    REQUIRE(variant_from_json("mqa", "{" + dims + "}")->kv_elems_per_token(1) == 2 * d_h);
    const VariantPtr mla = variant_from_json(
        "mla", R"({"d_model": 5120, "q_heads": 128, "d_q_latent": 1536, "d_latent": )" +
                   std::to_string(4 * d_h) + R"(, "d_rope": )" + std::to_string(d_h / 2) +
                   R"(, "d_nope": )" + std::to_string(d_h) + R"(, "d_v": )" + std::to_string(d_h) +
                   "}");
    REQUIRE(2 * mla->kv_elems_per_token(1) == 9 * d_h);
  }
}

TEST_CASE(
    "Both GLA-4 definitions: MLRA repo 4x128 (4.5/2.5/1.5/1.5 d_h), GLA paper 4x256 "
    "(8.5/4.5/2.5/2.5 d_h)",
    "[model][kv][golden]") {
  const std::string dims = R"("d_model": 3072, "q_heads": 24, "d_q_latent": 1024, "d_rope": 64,
                              "d_nope": 128, "d_v": 128, "n_blocks": 4)";
  require_kv_half_dh(*variant_from_json("gla", "{" + dims + R"(, "d_block": 128})"), {9, 5, 3, 3});
  require_kv_half_dh(*variant_from_json("gla", "{" + dims + R"(, "d_block": 256})"), {17, 9, 5, 5});
}

TEST_CASE("TPLA §5.4.1: 320 elements per device at TP 2 (256 + 64)", "[model][kv][golden]") {
  REQUIRE(find_preset("dsv3_tpla2", "test").variant->kv_elems_per_token(2) == 320);
}

TEST_CASE("MFA-KR halves the cache; LRKV caches 2 (d_h + (h/t) r)", "[model][kv]") {
  const std::string mfa = R"("d_model": 3072, "q_heads": 24, "d_head": 256, "d_q_latent": 2048)";
  require_kv(*variant_from_json("mfa", "{" + mfa + R"(, "key_reuse": false})"),
             {512, 512, 512, 512});
  require_kv(*variant_from_json("mfa", "{" + mfa + R"(, "key_reuse": true})"),
             {256, 256, 256, 256});
  // LRKV 2.5B (Table 1): 18 heads of 128; r = 64 as in the paper's analyses. Ratio to MHA is
  // 1/h + r/d_h at TP 1.
  const VariantPtr lrkv = variant_from_json(
      "lrkv", R"({"d_model": 2304, "q_heads": 18, "d_head": 128, "rank": 64, "rope": "latent"})");
  REQUIRE(lrkv->kv_elems_per_token(1) == 2 * (128 + 18 * 64));
  REQUIRE(lrkv->kv_elems_per_token(2) == 2 * (128 + 9 * 64));
  REQUIRE(double(lrkv->kv_elems_per_token(1)) / (2.0 * 18 * 128) == Approx(1.0 / 18 + 64.0 / 128));
}

TEST_CASE("docs/variants.md presets: DeepSeek-V3 35,136 elements per token over 61 layers, "
          "Step-3 MFA 512 per layer",
          "[model][kv][golden]") {
  const Preset& dsv3 = find_preset("dsv3_mla", "test");
  REQUIRE(dsv3.variant->kv_elems_per_token(1) * dsv3.n_layers == 35136);
  REQUIRE(double(dsv3.variant->kv_elems_per_token(1) * dsv3.n_layers) * bytes_of(Dtype::bf16) ==
          70272);
  require_kv_preset("step3_mfa", {512, 512, 512, 512});
}

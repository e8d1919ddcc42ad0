// attnroof import-hf on published config.json files (tests/model/data/hf/, README.md there names
// each source). Every expected number is worked out by hand below from the config's own fields:
//   GQA   KV elements per token per layer = 2 * kv_heads * d_head (bf16: x 2 bytes)
//         attention parameters per layer  = d * d_head * (h + 2 kv_heads) + h * d_head * d
//   MLA   KV = kv_lora_rank + qk_rope_head_dim
//         attention = d q' + d (d_c + d_R) + q' h (d_n + d_R) + d_c h (d_n + d_v) + h d_v d
//   other_params = embeddings V d (x2 untied) + per layer MLP (3 d I dense; E 3 d I_e + router
//         d E per MoE layer) + 2 d norms per layer + d final norm
#include <catch2/catch.hpp>
#include <string>

#include "model/dtype.h"
#include "model/error.h"
#include "model/hf_import.h"
#include "model/presets.h"

using namespace attnroof::model;
using Catch::Matchers::Contains;

namespace {

HfImport import(const std::string& file) {
  return import_hf_file(std::string(ATTNROOF_SOURCE_DIR) + "/tests/model/data/hf/" + file, "2026-12-01");
}

int64_t kv_bytes_bf16(const Preset& p) { return p.variant->kv_elems_per_token(1) * int64_t(bytes_of(Dtype::bf16)); }

bool warned(const HfImport& h, const std::string& what) {
  for (const std::string& w : h.warnings) {
    if (w.find(what) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("Llama-3.1-8B: GQA 32q/8kv, d_h = 4096/32 = 128", "[model][hf]") {
  const HfImport h = import("llama3_1_8b.json");
  CHECK(h.preset.name == "llama3_1_8b");
  CHECK(h.preset.variant_id == VariantId::gqa);
  CHECK(h.preset.n_layers == 32);
  CHECK(kv_bytes_bf16(h.preset) == 4096);                     // 2 * 8 * 128 = 2048 elements
  CHECK(h.preset.variant->weight_params(1) == 41943040.0);    // 4096*128*(32+16) + 32*128*4096
  // 2*128256*4096 + 32*(3*4096*14336 + 2*4096) + 4096; with 32 attention blocks 8.03e9 in all
  CHECK(h.preset.other_params == 6688083968.0);
  CHECK(warned(h, "rope_scaling"));
}

TEST_CASE("Llama-3.1-70B equals the builtin llama3_70b preset", "[model][hf]") {
  const HfImport h = import("llama3_1_70b.json");
  const Preset& builtin = find_preset("llama3_70b", "test");
  CHECK(h.preset.n_layers == 80);
  CHECK(kv_bytes_bf16(h.preset) == 4096);                     // 2 * 8 * 128
  CHECK(h.preset.variant->weight_params(1) == 150994944.0);   // 8192*128*(64+16) + 64*128*8192
  CHECK(h.preset.other_params == 58474110976.0);              // 2*128256*8192 + 80*(3*8192*28672 + 2*8192) + 8192
  CHECK(h.preset.variant->config_json() == builtin.variant->config_json());
  CHECK(h.preset.other_params == builtin.other_params);
}

TEST_CASE("Mistral-7B: v0.3 has no window, v0.1 warns about its 4096-token sliding window", "[model][hf]") {
  const HfImport v3 = import("mistral_7b_v0_3.json");
  CHECK(v3.preset.variant_id == VariantId::gqa);
  CHECK(v3.preset.n_layers == 32);
  CHECK(kv_bytes_bf16(v3.preset) == 4096);                    // 2 * 8 * 128
  CHECK(v3.preset.other_params == 5905846272.0);              // 2*32768*4096 + 32*(3*4096*14336 + 2*4096) + 4096
  CHECK_FALSE(warned(v3, "sliding_window"));
  const HfImport v1 = import("mistral_7b_instruct_v0_1.json");
  CHECK(v1.preset.other_params == 5899554816.0);              // vocab 32000: 2*32000*4096 + ...
  CHECK(warned(v1, "sliding_window = 4096"));
}

TEST_CASE("Qwen2.5-7B: 28q/4kv, a disabled sliding window is not a warning", "[model][hf]") {
  const HfImport h = import("qwen2_5_7b.json");
  CHECK(h.preset.n_layers == 28);
  CHECK(kv_bytes_bf16(h.preset) == 2048);                     // 2 * 4 * (3584/28 = 128) = 1024 elements
  CHECK(h.preset.variant->weight_params(1) == 29360128.0);    // 3584*128*(28+8) + 28*128*3584
  CHECK(h.preset.other_params == 6793403904.0);               // 2*152064*3584 + 28*(3*3584*18944 + 2*3584) + 3584
  CHECK_FALSE(warned(h, "sliding_window"));
}

TEST_CASE("Qwen3-32B: head_dim 128 differs from 5120/64 = 80", "[model][hf]") {
  const HfImport h = import("qwen3_32b.json");
  CHECK(h.preset.config.at("d_head") == 128);
  CHECK(h.preset.n_layers == 64);
  CHECK(kv_bytes_bf16(h.preset) == 4096);                     // 2 * 8 * 128
  CHECK(h.preset.variant->weight_params(1) == 94371840.0);    // 5120*128*(64+16) + 64*128*5120
  CHECK(h.preset.other_params == 26722309120.0);              // 2*151936*5120 + 64*(3*5120*25600 + 2*5120) + 5120
  CHECK(h.warnings.empty());
}

TEST_CASE("Qwen3-30B-A3B: 128 experts of 768 in each of 48 layers", "[model][hf]") {
  const HfImport h = import("qwen3_30b_a3b.json");
  CHECK(h.preset.n_layers == 48);
  CHECK(kv_bytes_bf16(h.preset) == 2048);                     // 2 * 4 * 128
  CHECK(h.preset.variant->weight_params(1) == 18874368.0);    // 2048*128*(32+8) + 32*128*2048
  // 2*151936*2048 + 48*(128*3*2048*768 + router 128*2048 + 2*2048) + 2048; 30.5e9 with attention
  CHECK(h.preset.other_params == 29626140672.0);
}

TEST_CASE("Mixtral-8x7B: 8 experts of 14336 in every layer", "[model][hf]") {
  const HfImport h = import("mixtral_8x7b.json");
  CHECK(h.preset.n_layers == 32);
  CHECK(kv_bytes_bf16(h.preset) == 4096);                     // 2 * 8 * 128
  CHECK(h.preset.variant->weight_params(1) == 41943040.0);    // as Mistral-7B
  // 2*32000*4096 + 32*(8*3*4096*14336 + router 8*4096 + 2*4096) + 4096; 46.7e9 with attention
  CHECK(h.preset.other_params == 45360615424.0);
}

TEST_CASE("DeepSeek-V3: MLA 512 + 64, equal to the builtin dsv3_mla preset", "[model][hf]") {
  const HfImport h = import("deepseek_v3.json");
  const Preset& builtin = find_preset("dsv3_mla", "test");
  CHECK(h.preset.variant_id == VariantId::mla);
  CHECK(h.preset.n_layers == 61);
  CHECK(kv_bytes_bf16(h.preset) == 1152);                     // 512 + 64 = 576 elements
  // 7168*1536 + 7168*576 + 1536*128*192 + 512*128*256 + 128*128*7168
  CHECK(h.preset.variant->weight_params(1) == 187105280.0);
  // 2*129280*7168 + 3*(3*7168*18432 + 2*7168) + 58*((256+1)*3*7168*2048 + 256*7168 + 2*7168) + 7168
  CHECK(h.preset.other_params == 659612857344.0);
  CHECK(h.preset.variant->config_json() == builtin.variant->config_json());
  CHECK(h.preset.other_params == builtin.other_params);
  CHECK(warned(h, "num_nextn_predict_layers = 1"));
  CHECK(warned(h, "quantization_config"));
  CHECK(warned(h, "rope_scaling"));
}

TEST_CASE("DeepSeek-V2-Lite: an uncompressed query cannot be mapped to MLA", "[model][hf]") {
  REQUIRE_THROWS_WITH(import("deepseek_v2_lite_chat.json"),
                      Contains("deepseek_v2_lite_chat.json") && Contains("/q_lora_rank") && Contains("null"));
}

TEST_CASE("Qwen3.5-9B: text_config, linear-attention layers and MTP are named", "[model][hf]") {
  const HfImport h = import("qwen3_5_9b.json");
  CHECK(h.preset.n_layers == 32);
  CHECK(kv_bytes_bf16(h.preset) == 4096);                     // 2 * 4 * 256
  CHECK(h.preset.variant->weight_params(1) == 41943040.0);    // 4096*256*(16+8) + 16*256*4096
  CHECK(warned(h, "text_config"));
  CHECK(warned(h, "24 layer(s) of 'linear_attention'"));
  CHECK(warned(h, "mtp_num_hidden_layers = 1"));
  CHECK(warned(h, "qwen3_5_text"));                           // not a family the import knows
}

TEST_CASE("An unknown family without the needed fields names every missing key", "[model][hf]") {
  const JsonSource src{"inline"};
  const nlohmann::json j = parse_json_text(R"({"model_type": "rwkv", "hidden_size": 2048})", src);
  REQUIRE_THROWS_WITH(import_hf_config(j, src, "x", "d"),
                      Contains("rwkv") && Contains("num_attention_heads") && Contains("num_hidden_layers"));
}

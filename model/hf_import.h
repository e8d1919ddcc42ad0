// defines: HfImport, import_hf_config, import_hf_file (a Hugging Face config.json as a preset)
//
// Maps the attention of the families in use today to the project's variants and counts the
// parameters outside attention:
//   GQA (llama, mistral, qwen2, qwen3, mixtral, qwen2_moe, qwen3_moe): num_attention_heads,
//     num_key_value_heads, head_dim (default hidden_size / num_attention_heads) -> gqa (mha when
//     every head has its own KV head, mqa with one KV head).
//   MLA (deepseek_v2, deepseek_v3, kimi_k2): kv_lora_rank, q_lora_rank, qk_rope_head_dim,
//     qk_nope_head_dim, v_head_dim -> mla.
// Another model_type is mapped by its fields (kv_lora_rank -> MLA, otherwise GQA) with a warning;
// without the fields a family needs it is an InputError naming the missing keys.
// What the cost model cannot represent (sliding windows, linear-attention layers, rope scaling,
// a multi-token-prediction module, quantization) is named in `warnings`, never silently guessed.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/json_reader.h"
#include "model/presets.h"

namespace attnroof::model {

struct HfImport {
  nlohmann::json preset_json;         // the preset file (model/data/presets/ format)
  Preset preset;                      // preset_json, parsed
  std::vector<std::string> warnings;  // one line each, what was not mapped and why
};

// `name`: the preset's name; `retrieved`: the date the config was read (the preset's field).
HfImport import_hf_config(const nlohmann::json& config, const JsonSource& source,
                          const std::string& name, const std::string& retrieved);
// Reads `path` (read_input_file limits); the name is the file's stem, or its directory's name
// when the file is called config.json.
HfImport import_hf_file(const std::string& path, const std::string& retrieved);

}  // namespace attnroof::model

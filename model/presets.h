// defines: Preset, builtin_presets, find_preset, load_preset_file
//
// Presets are data: model/data/presets/<name>.json, embedded into the binary at build time. Each
// names its variant, the variant's config, the layer count, the parameters outside attention
// (for capacity), its native weight format, the FFN / MoE, embeddings and LM head around the
// attention (model/step.h) and its source.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "model/registry.h"
#include "model/step.h"

namespace attnroof::model {

struct Preset {
  std::string name;         // "paper29b_mlra4"
  std::string description;  // one line
  std::string source;       // where the numbers come from (paper table, config file, commit)
  std::string retrieved;    // date the source was read
  VariantId variant_id{};
  VariantPtr variant;
  nlohmann::json config;    // the variant config as written in the file
  int64_t n_layers = 0;
  double other_params = 0;  // parameters outside the attention blocks (embeddings, FFN/MoE)
  Dtype weight_dtype = Dtype::bf16;  // the checkpoint's format ("weight_dtype"; default bf16)
  ModelBody body;           // "ffn", "vocab", "tied_embeddings"; empty: FFN not described
};

std::span<const Preset> builtin_presets();
// By exact name; InputError lists the known names.
const Preset& find_preset(std::string_view name, std::string_view field);
Preset load_preset_file(const std::string& path);
Preset parse_preset(ObjectReader& reader);

}  // namespace attnroof::model

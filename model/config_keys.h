// defines: ConfigKey, model_keys, config_keys, check_config_keys, edit_distance,
//          kMaxUnknownKeysShown
//
// Every config key a variant reads is listed once, in a table beside its parser
// (model/variants/<id>.cpp): `attnroof variants NAME` prints it and make_variant checks a config
// against it before the parser runs. A key in the table that the parser does not read is refused
// by ObjectReader::finish; a key the parser reads that the table lacks is refused here: either way
// a table that drifts from its parser fails on the first config that uses the key (every preset
// is such a config, and the tests load them all).
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "model/json_reader.h"
#include "model/variant_list.h"

namespace attnroof::model {

struct ConfigKey {
  std::string_view name;     // "d_model"
  std::string_view meaning;  // one line
  std::string_view unit;     // "elements", "heads", ...; "" for a flag or a choice
  bool required = true;
};

// Keys a preset carries beside its variant's config, and that a --config may carry too: the
// model's layer count and its parameters outside attention.
std::span<const ConfigKey> model_keys();
// The variant's own keys (its table in model/variants/).
std::span<const ConfigKey> config_keys(VariantId id);

// At most this many unknown keys are named in one message (a pasted config.json holds dozens).
inline constexpr std::size_t kMaxUnknownKeysShown = 6;

// Unknown keys first: an InputError naming each (its position, the closest valid key when one is
// near, and the required keys that are missing), with a hint at `attnroof import-hf` when the
// keys are Hugging Face names.
void check_config_keys(VariantId id, const ObjectReader& config);

// Keys several variants share (one meaning each).
inline constexpr ConfigKey kKeyDModel{"d_model", "model width d (hidden_size)", "elements", true};
inline constexpr ConfigKey kKeyQHeads{"q_heads", "query heads h (num_attention_heads)", "heads", true};
inline constexpr ConfigKey kKeyDHead{"d_head", "width of one head d_h (head_dim)", "elements", true};

// The tables, one per variant file (model/variants/<id>.cpp).
#define ATTNROOF_VARIANT_KEYS(id, label, summary) std::span<const ConfigKey> config_keys_##id();
ATTNROOF_VARIANT_LIST(ATTNROOF_VARIANT_KEYS)
#undef ATTNROOF_VARIANT_KEYS

// Levenshtein distance (insertions, deletions, substitutions), for did-you-mean.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace attnroof::model

#include "model/config_keys.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <vector>

#include "model/error.h"
#include "model/registry.h"

namespace attnroof::model {

namespace {

constexpr ConfigKey kModelKeys[] = {
    {"n_layers", "transformer layers (per-model columns: time per model, weights, capacity)", "layers", true},
    {"other_params", "parameters outside the attention blocks: embeddings, FFN/MoE, norms (capacity)",
     "parameters", true},
};

using KeyTable = std::span<const ConfigKey> (*)();
constexpr std::array kTables = {
#define ATTNROOF_VARIANT_KEYS_PTR(id, label, summary) KeyTable(&config_keys_##id),
    ATTNROOF_VARIANT_LIST(ATTNROOF_VARIANT_KEYS_PTR)
#undef ATTNROOF_VARIANT_KEYS_PTR
};

// Hugging Face config.json names of the dimensions the variants call otherwise.
constexpr std::pair<std::string_view, std::string_view> kHfNames[] = {
    {"hidden_size", "d_model"},        {"num_attention_heads", "q_heads"}, {"num_key_value_heads", "kv_heads"},
    {"head_dim", "d_head"},            {"kv_lora_rank", "d_latent"},       {"q_lora_rank", "d_q_latent"},
    {"qk_rope_head_dim", "d_rope"},    {"qk_nope_head_dim", "d_nope"},     {"v_head_dim", "d_v"},
    {"num_hidden_layers", "n_layers"},
};

// A suggestion is shown when the closest key is at most this many edits away, or a third of the
// key's length when that is more (a long key tolerates more typos).
constexpr std::size_t kMaxSuggestionEdits = 2;

std::string_view hf_equivalent(std::string_view key) {
  for (const auto& [hf, ours] : kHfNames) {
    if (hf == key) return ours;
  }
  return {};
}

}  // namespace

std::span<const ConfigKey> model_keys() { return kModelKeys; }

std::span<const ConfigKey> config_keys(VariantId id) { return kTables[std::size_t(id)](); }

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t(0));
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

void check_config_keys(VariantId id, const ObjectReader& config) {
  const nlohmann::json& obj = config.object();
  if (!obj.is_object()) return;  // the parser's getters report the type
  const std::span<const ConfigKey> valid = config_keys(id);
  const auto known = [&](std::string_view k) {
    return std::any_of(valid.begin(), valid.end(), [&](const ConfigKey& v) { return v.name == k; });
  };
  std::vector<std::string> unknown;
  std::string hf_mapping;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (known(it.key())) continue;
    const ConfigKey* closest = nullptr;
    std::size_t best = 0;
    // Among keys equally near, one the config lacks is the likelier meaning ('d_heads' beside a
    // given q_heads is d_head).
    const auto given = [&](const ConfigKey& v) { return obj.contains(std::string(v.name)); };
    for (const ConfigKey& v : valid) {
      const std::size_t dist = edit_distance(it.key(), v.name);
      if (closest == nullptr || dist < best || (dist == best && given(*closest) && !given(v))) {
        closest = &v;
        best = dist;
      }
    }
    const std::string_view hf = hf_equivalent(it.key());
    if (!hf.empty()) hf_mapping += fmt::format("{}{} -> {}", hf_mapping.empty() ? "" : ", ", it.key(), hf);
    std::string hint;
    if (!hf.empty()) {
      hint = fmt::format(" (the Hugging Face name of '{}')", hf);
    } else if (closest != nullptr && best <= std::max(kMaxSuggestionEdits, it.key().size() / 3)) {
      hint = fmt::format(" (did you mean '{}'?)", closest->name);
    }
    unknown.push_back(fmt::format("unknown key '{}' at {}{}{}", excerpt(it.key()), config.pointer(""),
                                  excerpt(it.key()), hint));
  }
  if (unknown.empty()) return;
  std::string missing;
  for (const ConfigKey& v : config_keys(id)) {
    if (v.required && !obj.contains(std::string(v.name))) missing += (missing.empty() ? "" : ", ") + std::string(v.name);
  }
  std::string names;
  for (const ConfigKey& v : valid) names += (names.empty() ? "" : ", ") + std::string(v.name);
  std::string msg = fmt::format("{}: {} config: ", config.source().name, info(id).label);
  if (!hf_mapping.empty() || obj.contains("model_type") || obj.contains("architectures")) {
    msg += fmt::format("this looks like a Hugging Face config.json: `attnroof import-hf FILE` turns it into a "
                       "preset (or pass --preset hf:FILE); its names map as {}. ",
                       hf_mapping.empty() ? "hidden_size -> d_model, num_attention_heads -> q_heads" : hf_mapping);
  }
  for (std::size_t i = 0; i < unknown.size() && i < kMaxUnknownKeysShown; ++i) msg += (i ? "; " : "") + unknown[i];
  if (unknown.size() > kMaxUnknownKeysShown) msg += fmt::format("; and {} more unknown keys", unknown.size() - kMaxUnknownKeysShown);
  msg += fmt::format(". Valid keys here: {}", names);
  if (!missing.empty()) msg += fmt::format("; required and missing: {}", missing);
  msg += fmt::format(" (`attnroof variants {}` explains each key)", to_string(id));
  throw InputError(msg);
}

}  // namespace attnroof::model

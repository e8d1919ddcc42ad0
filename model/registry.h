// defines: VariantInfo, all_variants, to_string(VariantId), parse_variant, make_variant
#pragma once
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "model/attention_variant.h"
#include "model/json_reader.h"

namespace attnroof::model {

struct VariantInfo {
  VariantId id;
  std::string_view name;     // the id as typed on the command line: "mlra4"
  std::string_view label;    // "MLRA-4"
  std::string_view summary;  // one line
};

std::span<const VariantInfo> all_variants();
const VariantInfo& info(VariantId id);
std::string_view to_string(VariantId id);
// Accepts the id ("mlra4") or the label ("MLRA-4"), case-insensitively; throws InputError that
// lists the known names otherwise.
VariantId parse_variant(std::string_view name, std::string_view field);

// Builds a variant from its config object (strict: unknown keys and bad values are InputErrors
// naming the file and the position).
VariantPtr make_variant(VariantId id, ObjectReader& config);
VariantPtr make_variant(VariantId id, const nlohmann::json& config, const JsonSource& source);

// Factories, one per variant file (model/variants/<id>.cpp).
#define ATTNROOF_VARIANT_FACTORY(id, label, summary) VariantPtr make_##id(ObjectReader& config);
ATTNROOF_VARIANT_LIST(ATTNROOF_VARIANT_FACTORY)
#undef ATTNROOF_VARIANT_FACTORY

}  // namespace attnroof::model

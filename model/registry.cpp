#include "model/registry.h"

#include <fmt/format.h>

#include <array>
#include <cctype>

#include "model/config_keys.h"
#include "model/error.h"
#include "model/json_reader.h"

namespace attnroof::model {

namespace {

constexpr std::array kVariants = {
#define ATTNROOF_VARIANT_INFO(id, label, summary) VariantInfo{VariantId::id, #id, label, summary},
    ATTNROOF_VARIANT_LIST(ATTNROOF_VARIANT_INFO)
#undef ATTNROOF_VARIANT_INFO
};

using Factory = VariantPtr (*)(ObjectReader&);
constexpr std::array<Factory, kVariants.size()> kFactories = {
#define ATTNROOF_VARIANT_FACTORY_PTR(id, label, summary) &make_##id,
    ATTNROOF_VARIANT_LIST(ATTNROOF_VARIANT_FACTORY_PTR)
#undef ATTNROOF_VARIANT_FACTORY_PTR
};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::span<const VariantInfo> all_variants() { return kVariants; }

const VariantInfo& info(VariantId id) { return kVariants[std::size_t(id)]; }

std::string_view to_string(VariantId id) { return info(id).name; }

VariantId parse_variant(std::string_view name, std::string_view field) {
  for (const VariantInfo& v : kVariants) {
    if (equal_ignoring_case(name, v.name) || equal_ignoring_case(name, v.label)) return v.id;
  }
  std::string known;
  for (const VariantInfo& v : kVariants) known += fmt::format("{}{}", known.empty() ? "" : ", ", v.name);
  throw InputError(fmt::format("{}: unknown variant '{}'; known variants: {}", field, excerpt(name), known));
}

VariantPtr make_variant(VariantId id, ObjectReader& config) {
  check_config_keys(id, config);
  VariantPtr v = kFactories[std::size_t(id)](config);
  config.finish();
  // The integer sizes a variant forms from its dimensions (cached elements per token, attention
  // instances) are largest at tp 1: when they fit in int64 there, they fit at every degree.
  try {
    (void)v->kv_elems_per_token(1);
  } catch (const InputError& e) {
    throw InputError(
        fmt::format("{}: {} config: {}", config.source().name, info(id).label, e.what()));
  }
  return v;
}

VariantPtr make_variant(VariantId id, const nlohmann::json& config, const JsonSource& source) {
  ObjectReader reader(config, source);
  return make_variant(id, reader);
}

}  // namespace attnroof::model

// defines: helpers shared by the model tests (building variants from inline JSON, rounding checks)
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

#include "model/registry.h"

namespace attnroof::model::test {

// A variant from an inline JSON config, through the same strict reader the presets use.
inline VariantPtr variant_from_json(const std::string& variant, const std::string& config_json) {
  const JsonSource source{"test config"};
  return make_variant(parse_variant(variant, "test"), parse_json_text(config_json, source), source);
}

// True when `value` prints as `printed` with `decimals` decimals (the documents' rounding).
inline bool rounds_to(double value, double printed, int decimals) {
  const double half_unit = 0.5 * std::pow(10.0, -decimals);
  return std::abs(value - printed) <= half_unit * (1 + 1e-9);
}

}  // namespace attnroof::model::test

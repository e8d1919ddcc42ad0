#include "model/tp.h"

#include <fmt/format.h>

#include <numeric>

#include "model/divisors.h"

namespace attnroof::model {

std::vector<std::string> check_head_split(int64_t q_heads, int64_t tp) {
  std::vector<std::string> problems;
  if (tp <= 0) {
    problems.push_back(fmt::format("tp = {} is invalid: must be >= 1", tp));
  } else if (q_heads % tp != 0) {
    problems.push_back(fmt::format(
        "tp = {} does not divide q_heads = {}: heads are whole on a device; valid tp: {}", tp,
        q_heads, valid_degrees([](int64_t) { return true; }, divisors(q_heads))));
  }
  return problems;
}

int64_t max_units_per_device(int64_t q_heads, int64_t heads_per_unit, int64_t tp) {
  // Device r starts at head r*P (P = q_heads/tp), at offset x = r*P mod g into a unit (g =
  // heads_per_unit), and spans floor((x + P - 1) / g) + 1 units. Over r, x takes every multiple
  // of gcd(P, g) below g (tp*P = q_heads is a multiple of g), so the worst device starts at
  // x = g - gcd(P, g). Written without x + P - 1, which could pass the int64 range.
  const int64_t per_device = q_heads / tp, g = heads_per_unit;
  const int64_t step = std::gcd(per_device, g);
  if (per_device == step) return 1;  // P divides g: every device sits inside one unit
  return 2 + (per_device - 1 - step) / g;
}

}  // namespace attnroof::model

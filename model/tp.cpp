#include "model/tp.h"

#include <fmt/format.h>

#include <algorithm>

namespace attnroof::model {

std::vector<std::string> check_head_split(int64_t q_heads, int64_t tp) {
  std::vector<std::string> problems;
  if (tp <= 0) {
    problems.push_back(fmt::format("tp = {} is invalid: must be >= 1", tp));
  } else if (q_heads % tp != 0) {
    problems.push_back(fmt::format(
        "tp = {} does not divide q_heads = {}: heads are whole on a device; valid tp: {}", tp,
        q_heads, valid_degrees([&](int64_t t) { return q_heads % t == 0; }, q_heads)));
  }
  return problems;
}

int64_t max_units_per_device(int64_t q_heads, int64_t heads_per_unit, int64_t tp) {
  const int64_t per_device = q_heads / tp;
  int64_t worst = 0;
  for (int64_t r = 0; r < tp; ++r) {
    const int64_t first = r * per_device;
    const int64_t last = first + per_device - 1;
    worst = std::max(worst, last / heads_per_unit - first / heads_per_unit + 1);
  }
  return worst;
}

}  // namespace attnroof::model

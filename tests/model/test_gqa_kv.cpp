#include <catch2/catch.hpp>

#include "model/presets.h"
#include "model/registry.h"

using namespace attnroof::model;

TEST_CASE("GQA 64q/8kv per-device KV matches the MLRA blog table (16/8/4/2 d_h)", "[model][gqa]") {
  const Preset& p = find_preset("llama3_70b", "test");
  const int64_t expected[] = {16, 8, 4, 2};
  const int64_t tps[] = {1, 2, 4, 8};
  for (int i = 0; i < 4; ++i) {
    REQUIRE(p.variant->kv_elems_per_token(tps[i]) == expected[i] * 128);
  }
}

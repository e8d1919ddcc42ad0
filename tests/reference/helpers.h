// defines: test helpers for tests/reference: ref_config, weights_for, require_checks
#pragma once
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "kernels/reference/checks.h"
#include "kernels/reference/config.h"
#include "kernels/reference/weights.h"

namespace attnroof::ref::test {

inline RefConfig ref_config(VariantId id, int64_t q_heads, const std::string& option = "") {
  return parse_ref_config(id, small_config(id, q_heads, option), model::JsonSource{"test config"});
}

inline Weights weights_for(VariantId id, int64_t q_heads, const std::string& option = "",
                           uint64_t seed = 7) {
  return init_weights(ref_config(id, q_heads, option), seed);
}

struct VariantCase {
  VariantId id;
  std::string option;
};

// Every reference variant, with the options that change the math.
inline std::vector<VariantCase> all_cases() {
  return {{VariantId::mha, ""},   {VariantId::mqa, ""},         {VariantId::gqa, ""},
          {VariantId::mla, ""},   {VariantId::gla, ""},         {VariantId::gta, ""},
          {VariantId::tpa, ""},   {VariantId::mfa, ""},         {VariantId::lrkv, "materialized"},
          {VariantId::lrkv, "latent"}, {VariantId::mlra2, "replicated"}, {VariantId::mlra2, "sharded"},
          {VariantId::mlra4, "replicated"}, {VariantId::mlra4, "sharded"}, {VariantId::tpla, ""}};
}

// The odd head counts of the tests (MLRA-2 splits heads in halves, so its are even).
inline std::vector<int64_t> odd_heads(VariantId id) {
  if (id == VariantId::mlra2) return {6, 14};
  return {3, 7};
}

// Every applicable check passes (expected violations pass when detected); returns how many ran.
inline int require_checks(const std::vector<CheckResult>& results) {
  int ran = 0;
  for (const CheckResult& r : results) {
    INFO(r.variant << " " << r.check << ": max_rel_err " << r.max_rel_err << " (tol " << r.tol
                   << (r.expect_violation ? ", must exceed" : "") << "); " << r.detail);
    if (!r.applicable) continue;
    ++ran;
    CHECK(r.pass);
  }
  return ran;
}

}  // namespace attnroof::ref::test

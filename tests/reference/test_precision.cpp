// Precision study: how far "exact in math" holds with bf16 inputs and fp32 arithmetic.
#include <catch2/catch.hpp>

#include "helpers.h"
#include "model/registry.h"

using namespace attnroof::ref;
using namespace attnroof::ref::test;

namespace {
const PrecisionRow& row(const std::vector<PrecisionRow>& rows, const std::string& rope, int64_t shift) {
  for (const PrecisionRow& r : rows) {
    if (r.rope == rope && r.shift == shift) return r;
  }
  FAIL("no precision row " << rope << " shift " << shift);
  return rows.front();
}
}  // namespace

TEST_CASE("precision study: float64 stays exact, fp32 RoPE angles degrade with the shift",
          "[reference][precision]") {
  CheckOptions o;
  for (VariantId id : {VariantId::gqa, VariantId::mla, VariantId::mlra4, VariantId::gta, VariantId::tpa,
                       VariantId::mfa, VariantId::tpla}) {
    // Real head and RoPE widths: the number of RoPE frequencies is the real models'.
    const RefConfig c = parse_ref_config(id, precision_config(id), attnroof::model::JsonSource{"test"});
    const std::vector<PrecisionRow> rows = precision_study(init_weights(c, 5), o);
    CHECK(rows.size() == 3 * 5);  // 3 modes x shifts {0, 1, 7, 4096, 2^20}
    for (const PrecisionRow& r : rows) {
      INFO(r.variant << " " << r.arithmetic << " " << r.rope << " shift " << r.shift << ": e1 "
                     << r.e1_rel << " e2 " << r.e2_rel << " vs_f64 " << r.vs_f64_rel);
      CHECK(std::isfinite(r.e1_rel));
      if (r.arithmetic == "float64") CHECK(r.e1_rel <= kEquivarianceTol);
      if (r.shift == 0) CHECK(r.e1_rel == 0);
      if (r.arithmetic == "fp32") CHECK(r.vs_f64_rel < 0.5);  // same model, only the format differs
    }
    const int64_t big = int64_t(1) << 20;
    INFO(attnroof::model::to_string(id));
    // fp32 angles: the rounding of p * theta grows with p, so a 2^20 shift breaks E1 visibly
    // while a shift by 1 stays at fp32 rounding level.
    CHECK(row(rows, "fp32_angles", big).e1_rel > 100 * row(rows, "fp32_angles", 1).e1_rel);
    CHECK(row(rows, "fp32_angles", 1).e1_rel < 1e-5);
    CHECK(row(rows, "fp32_angles", big).e1_rel > 1e-3);
    // bf16 cos/sin (the MLRA repo's Rotary) make even small shifts inexact.
    CHECK(row(rows, "fp32_angles_bf16_trig", 1).e1_rel > row(rows, "fp32_angles", 1).e1_rel);
  }
}

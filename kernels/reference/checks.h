// defines: CheckResult, CheckOptions, check_equivalence, check_one_truth, check_e1_scores,
// check_e2_outputs, check_e3_left_padding, check_negative_controls, PrecisionRow,
// precision_study, LrkvFinding, lrkv_finding, random_tokens
//
// Every check is a library function used by tests/reference and by `attnroof verify`; each
// returns structured results (max abs / rel error, tolerance, pass, detail). Errors are
// normwise: max_rel_err = max |got - ref| / max |ref| over everything the check compares.
//
// Expected violations: negative controls (and LRKV reading (b) under E1/E2 and first-pad E3)
// are checks whose property must NOT hold. Their `pass` means "the violation was detected":
// max_rel_err > kViolationThreshold. A check that cannot run (no absorbed form, a TP degree the
// variant cannot shard to) has applicable = false and says why; it is not counted as a pass.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/reference/model.h"
#include "kernels/reference/weights.h"

namespace attnroof::ref {

inline constexpr double kEquivalenceTol = 1e-10;  // issue 3: forms agree to 1e-10 relative
// docs/variants.md "Equivariance": rounding of p*theta at p ~ 2^20 leaves ~1e-11 on O(1) values
// in float64.
inline constexpr double kEquivarianceTol = 1e-9;
inline constexpr double kViolationThreshold = 1e-3;

struct CheckResult {
  std::string variant;  // ref_variant_name(): "mlra4", "lrkv:latent", ...
  std::string check;    // "equivalence.absorbed", "one_truth.tp4", "e1.shift_1048576", ...
  double max_abs_err = 0;
  double max_rel_err = 0;
  double tol = 0;
  bool expect_violation = false;
  bool applicable = true;
  bool pass = false;
  std::string detail;
  nlohmann::json to_json() const;
};

struct CheckOptions {
  uint64_t seed = 1;
  std::vector<int64_t> ctx_lens = {1, 3, 129, 257};  // equivalence: sequence lengths
  std::vector<int64_t> tps = {1, 2, 4, 8};
  int64_t max_decode_steps = 5;  // decode steps compared per sequence (first, middle, last ...)
  int64_t equivariance_len = 19;  // tokens in the E1/E2/E3 sequences
  std::vector<int64_t> shifts = {1, 7, 4096, int64_t(1) << 20};
  std::vector<int64_t> pads = {1, 3, 64};
  int64_t further_steps = 3;  // E3: decode steps after the padded prefix
  double pad_scale = 30;      // E3: pad embeddings ~ pad_scale * N(0, 1)
};

// Unit-normal token states [n, d_model] from a seed.
Mat random_tokens(int64_t n, int64_t d_model, uint64_t seed);

// materialized == incremental == absorbed == TP-sharded (each TP degree in options.tps).
std::vector<CheckResult> check_equivalence(const Weights& w, const CheckOptions& o);
// The elements the reference caches per token on its worst device == the cost model's
// kv_elems_per_token(tp) for the same config (model::make_variant on config.json).
std::vector<CheckResult> check_one_truth(const Weights& w, const CheckOptions& o);
// E1: every score component unchanged when all positions shift by c.
std::vector<CheckResult> check_e1_scores(const Weights& w, const CheckOptions& o);
// E2: outputs unchanged under the shift, in the materialized forward and the absorbed decode.
std::vector<CheckResult> check_e2_outputs(const Weights& w, const CheckOptions& o);
// E3: left padding with masked pads, both position conventions ("first_pad": positions count
// from the first pad; "hf": position_ids = cumsum(mask) - 1), forward and cached decode, plus
// further decode steps; pad query rows must be exactly zero and nothing may be NaN.
std::vector<CheckResult> check_e3_left_padding(const Weights& w, const CheckOptions& o);
// Must-fail controls: pads left unmasked (E3), an absolute position embedding added (E2).
std::vector<CheckResult> check_negative_controls(const Weights& w, const CheckOptions& o);

// Precision study: E1/E2 in the formats kernels use (weights and inputs rounded to bf16,
// arithmetic in fp32) against the shift size, for each RoPE mode; vs_f64 compares the fp32
// output at the shifted positions with float64 on the same bf16-rounded values.
struct PrecisionRow {
  std::string variant;
  std::string arithmetic;  // "float64" or "fp32"
  std::string rope;        // "float64", "fp32_angles", "fp32_angles_bf16_trig"
  int64_t shift = 0;
  double e1_rel = 0;
  double e2_rel = 0;
  double vs_f64_rel = 0;
  nlohmann::json to_json() const;
};
std::vector<PrecisionRow> precision_study(const Weights& w, const CheckOptions& o);

// Which LRKV reading keeps scores relative: max E1 relative error per score component
// ("shared", "residual") at each shift, for both readings.
struct LrkvFinding {
  struct Component {
    std::string reading;    // "materialized" (a) | "latent" (b)
    std::string component;  // "shared" | "residual"
    int64_t shift = 0;
    double max_rel_err = 0;
    bool relative = false;  // max_rel_err <= kEquivarianceTol
  };
  std::vector<Component> components;
  std::string summary;
  nlohmann::json to_json() const;
};
LrkvFinding lrkv_finding(const CheckOptions& o, int64_t q_heads = 3);

}  // namespace attnroof::ref

// defines: LayerCheckCase, BranchCheck, LayerCheckResult, layer_check_grid, run_layer_check,
//          layer_check_json, describe_layer
//
// A whole MLRA-4 layer's attention on one GPU, checked against the float64 reference's absorbed
// decode of the same layer (docs/variants.md "MLRA"; kernels/reference/latent.cpp).
//
// Host side (float64, from the reference's seeded weights ref::init_weights and its cache, built
// by RefModel::append over random tokens at positions 0..ctx-1; the query is the last token):
//   q = alpha_q RMSNorm(x W^DQ) W^UQ, RoPE on each head's q^R;   per branch b and head i:
//   q̃_{b,i} = q^N_i W^UK_{b,i}^T  [d_block = 128],  kernel query row [q̃_{b,i} | q^R_i]  (192),
//   kernel cache row of key n: [ĉ_b(n) | k^R(n)]  (192), V = ĉ_b(n) (128), scale tau = 1/sqrt(192).
// GPU: the four branch-shard calls of launch_decode (each q_heads x 192/128, bf16, paged or
// contiguous, NaN past every length), giving z_{b,i} (bf16).
// Host finish (float64): y_i = (1/2) sum_b z_{b,i} W^UV_{b,i};  out = y W^O  (1/2 = 1/sqrt(4)).
//
// Tolerance (the kernel rule, decode_check.h, carried through the layer):
//   out_emu = the same finish over the fp32 emulation of the four calls on the same bf16 inputs;
//   E = max |out_emu - out_ref|;  pass  max |out_gpu - out_ref| <= 2 E + 1e-5, every branch call
//   passes the kernel rule against ref::decode_reference on its bf16 inputs, and the harness
//   itself is exact: the same finish over a float64 attention on the unrounded q̃, ĉ, k^R must
//   match the reference to 1e-9 relative (otherwise a wrong q̃ would inflate E and pass vacuously).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/harness/check_support.h"

namespace attnroof::kernels {

inline constexpr double kLayerHarnessTol = 1e-9;  // relative, float64 harness vs reference

struct LayerCheckCase {
  int64_t ctx = 1000;       // keys, new token included
  int32_t q_heads = 64;     // the MLRA-4 TP4 per-device head count (bench64_mlra4)
  int64_t d_model = 256;    // small: only prices the projections, not the kernel shape
  int64_t d_q_latent = 128;
  bool paged = true;
  int32_t page_size = 64;
};

struct BranchCheck {
  DecodePlan plan;
  OutputErrors out;  // z against ref::decode_reference on the branch's bf16 inputs
};

struct LayerCheckResult {
  LayerCheckCase c;
  uint64_t seed = 0;
  std::vector<BranchCheck> branches;  // 4
  double max_err = 0;       // max |out_gpu - out_ref|
  double emu_err = 0;       // E = max |out_emu - out_ref|
  double tolerance = 0;     // 2 E + 1e-5
  double ref_max_abs = 0;   // max |out_ref|
  double rel_err = 0;       // max_err / ref_max_abs
  double harness_rel_err = 0;  // float64 finish over unrounded inputs vs the reference
  int64_t non_finite = 0;
  bool passed = false;
  std::string failure;
  double seconds = 0;
};

// reduced: one short paged case (sanitizers, Catch2); full adds ctx 1, contiguous and 32768.
std::vector<LayerCheckCase> layer_check_grid(bool reduced);
LayerCheckResult run_layer_check(const LayerCheckCase& c, uint64_t seed, int cpu_threads);
nlohmann::json layer_check_json(const LayerCheckResult& r);
std::string describe_layer(const LayerCheckCase& c);

}  // namespace attnroof::kernels

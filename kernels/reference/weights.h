// defines: TensorSpec, Weights, weight_specs, init_weights, save_weights, load_weights
//
// One layer's attention weights as named float64 tensors (row-major, `x * W` orientation: a
// projection is [d_in, d_out], the transpose of torch's nn.Linear.weight). The names and shapes
// each variant needs come from weight_specs(config); a loaded file must match them exactly.
//
// File format (little-endian): 8 bytes "ATTNREFW", uint64 header length n, n bytes of JSON
//   {"variant": "<id>", "config": {...}, "tensors": [{"name", "rows", "cols"}, ...]},
// then each tensor's rows*cols float64 values in the listed order. A real checkpoint is checked
// by converting its attention weights to this layout (transposing nn.Linear weights).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernels/reference/config.h"
#include "kernels/reference/numerics.h"

namespace attnroof::ref {

struct TensorSpec {
  std::string name;
  int64_t rows = 0;
  int64_t cols = 0;
  enum class Init { projection, gain } init = Init::projection;
};

struct Weights {
  RefConfig config;
  std::map<std::string, Mat> tensors;
  const Mat& at(const std::string& name) const;  // throws std::out_of_range naming the tensor
};

// The tensors of a variant, in file order:
//   mha/mqa/gqa  wq [d, h*d_head], wk, wv [d, kv*d_head], wo [h*d_head, d]
//   mfa          w_dq [d, s], q_norm [1, s], w_uq [s, h*d_f], wk, wv [d, d_f], wo
//   gta          wq [d, h*d_head], w_kv [d, kv*d_head], w_kr [d, d_rope], wo
//   tpa          w_aq [d, h*R_q], w_bq [d, R_q*d_head], w_ak [d, h*R_K], w_bk [d, R_K*d_head],
//                w_av [d, h*R_V], w_bv [d, R_V*d_head], wo
//   lrkv         wq, wk_shared/wv_shared [d, d_head], u_k/u_v [d, h*r], bt_k/bt_v [h*r, d_head]
//                (row block i is B_i^T), wo
//   latent       w_dq [d, d_q'], q_norm [1, d_q'], w_uq [d_q', h*(d_nope+d_rope)],
//                w_dkv [d, d_latent+d_rope], kv_norm [1, d_latent] (block b's gain is its slice),
//                w_ukv.<b> [d_block, |heads(b)|*(d_nope+d_v)] (per head [k_nope | v]),
//                tpla: logit_scale [1, groups], wo [h*d_v, d]
std::vector<TensorSpec> weight_specs(const RefConfig& config);

// Projections ~ N(0, 1/rows) (unit-variance outputs for unit-variance inputs); gains
// ~ 1 + 0.1 N(0, 1) so that a dropped gain shows. Output projections are random, not zero
// (the MLRA repo zero-inits c_proj for training; zeros would make every check vacuous).
Weights init_weights(const RefConfig& config, uint64_t seed);

void save_weights(const Weights& w, const std::string& path);
// Throws InputError when the file is malformed or its tensors do not match weight_specs.
Weights load_weights(const std::string& path);

}  // namespace attnroof::ref

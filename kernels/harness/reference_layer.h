// defines: ReferenceLayer, make_reference_layer, latent_queries, LatentCallInputs,
//          latent_call_inputs, attend_f64
//
// One layer of the float64 reference as the GPU checks feed it to the kernels: the MLRA-4 layer
// on one GPU (layer_check.cpp) and every variant's TP shards (kernels/tp/tp_problem.cpp) build
// their kernel inputs and their float64 harness from these, so that both check the same thing.
#pragma once
#include <cstdint>
#include <memory>

#include "kernels/reference/config.h"
#include "kernels/reference/latent_layout.h"
#include "kernels/reference/model.h"
#include "kernels/reference/numerics.h"
#include "kernels/reference/weights.h"

namespace attnroof::kernels {

struct ReferenceLayer {
  ref::RefConfig cfg;
  ref::Weights w;                           // ref::init_weights(cfg, seed)
  std::unique_ptr<ref::RefModel<double>> m;
  ref::Mat x;                               // ctx random tokens (seed + 1)
  ref::Cache<double> cache;                 // m's cache of x at positions 0..ctx-1
  int64_t pos = 0;                          // the query: the last token, ctx - 1
  ref::Row out_ref;                         // m's decode of the query, absorbed where it has it
};
ReferenceLayer make_reference_layer(const ref::RefConfig& cfg, int64_t ctx, uint64_t seed);

// A latent-family layer's query (latent.cpp's formula from the public building blocks):
// alpha_q RMSNorm(x W^DQ) W^UQ, RoPE on each head's q^R; [1, heads (d_nope + d_rope)].
ref::Mat latent_queries(const ReferenceLayer& l, const ref::LatentLayout& layout);

// The shared_latent call of latent block b for query heads [lo, hi) (heads b serves), unrounded:
// q rows [q̃_{b,i} | q^R_i] with q̃_{b,i} = q^N_i W^UK_{b,i}^T, [hi - lo, d_block + d_rope];
// cache rows [ĉ_b | k^R], [ctx, d_block + d_rope], whose first d_block columns are V.
struct LatentCallInputs {
  ref::Mat q, rows;
};
LatentCallInputs latent_call_inputs(const ReferenceLayer& l, const ref::LatentLayout& layout,
                                    const ref::Mat& q, int64_t block, int64_t lo, int64_t hi);

// float64 attention over every key: softmax(tau q k^T) v.
ref::Mat attend_f64(const ref::Mat& q, const ref::Mat& k, const ref::Mat& v, double tau);

}  // namespace attnroof::kernels

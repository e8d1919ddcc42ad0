#include "model/ffn.h"

#include <algorithm>
#include <cmath>

namespace attnroof::model {

namespace {

double mlp_params(int64_t d_model, int64_t d_ff, MlpKind kind) {
  return double(mlp_matrices(kind)) * double(d_model) * double(d_ff);
}

double expert_params(const FfnShape& f) {
  return mlp_params(f.d_model, f.moe->d_expert, f.moe->kind);
}

// Dense layers, plus per MoE layer `experts_per_layer` experts (routed and shared) and the router.
double ffn_params_using(const FfnShape& f, int64_t experts_per_layer) {
  double p = double(f.dense_layers()) * mlp_params(f.d_model, f.dense.d_ff, f.dense.kind);
  if (f.moe) {
    const double router = double(f.d_model) * double(f.moe->n_routed);
    p += double(f.moe_layers()) * (double(experts_per_layer) * expert_params(f) + router);
  }
  return p;
}

}  // namespace

double expected_distinct_experts(int64_t n_experts, int64_t top_k, double tokens) {
  if (n_experts <= 0 || top_k <= 0 || !(tokens > 0)) return 0;
  const double pick = double(std::min(top_k, n_experts)) / double(n_experts);
  // (1 - pick)^tokens through log1p: exact enough when pick is small and tokens large.
  const double missed_by_all = pick >= 1 ? 0 : std::exp(tokens * std::log1p(-pick));
  return double(n_experts) * (1.0 - missed_by_all);
}

double ffn_params(const FfnShape& f) {
  return ffn_params_using(f, f.moe ? f.moe->n_routed + f.moe->n_shared : 0);
}

double ffn_active_params(const FfnShape& f) {
  return ffn_params_using(f, f.moe ? f.moe->top_k + f.moe->n_shared : 0);
}

int64_t FfnLayout::expert_tp() const {
  return std::max<int64_t>(1, std::max<int64_t>(tp, 1) * std::max<int64_t>(dp, 1) /
                                  std::max<int64_t>(ep, 1));
}

FfnLayerStep ffn_layer_step(const FfnShape& f, bool moe_layer, double tokens, const FfnLayout& l) {
  FfnLayerStep s;
  const double tp = double(std::max<int64_t>(l.tp, 1));
  if (!moe_layer || !f.moe) {
    s.dense.weight_params = mlp_params(f.d_model, f.dense.d_ff, f.dense.kind) / tp;
    s.dense.flops = 2.0 * tokens * s.dense.weight_params;
    s.weight_params = s.dense.weight_params;
    s.flops = s.dense.flops;
    return s;
  }
  const MoeShape& m = *f.moe;
  const double ep = double(std::max<int64_t>(l.ep, 1));
  const double expert_tp = double(l.expert_tp());
  const double routed_tokens = tokens * double(std::max<int64_t>(l.dp, 1));
  const double expert = expert_params(f);
  const double local = double(m.n_routed) / ep;
  const double fraction =
      l.touched_fraction ? std::clamp(*l.touched_fraction, 0.0, 1.0)
                         : expected_distinct_experts(m.n_routed, m.top_k, routed_tokens) / double(m.n_routed);
  s.experts_touched = local * fraction;
  s.routed.weight_params = s.experts_touched * expert / expert_tp;
  s.routed.flops = 2.0 * routed_tokens * double(m.top_k) / ep * expert / expert_tp;
  s.shared.weight_params = double(m.n_shared) * expert / tp;
  s.shared.flops = 2.0 * tokens * s.shared.weight_params;
  s.router.weight_params = double(f.d_model) * double(m.n_routed);  // replicated: every token routes
  s.router.flops = 2.0 * tokens * s.router.weight_params;
  s.weight_params = s.routed.weight_params + s.shared.weight_params + s.router.weight_params;
  s.flops = s.routed.flops + s.shared.flops + s.router.flops;
  return s;
}

double ffn_layer_resident_params(const FfnShape& f, bool moe_layer, const FfnLayout& l) {
  FfnLayout all = l;
  all.touched_fraction = 1.0;
  return ffn_layer_step(f, moe_layer, 1.0, all).weight_params;
}

}  // namespace attnroof::model

// defines: MlpKind, MlpShape, MoeShape, FfnShape, FfnLayout, FfnLayerStep, mlp_matrices,
//          expected_distinct_experts, ffn_params, ffn_active_params, ffn_layer_step
//
// The rest of a decoder layer beside attention (priced per step by
// model/step.h): a dense MLP, or a mixture of experts with shared experts and leading
// dense layers, with its parameters, and per device and decode step the FLOPs and the weight
// bytes it reads under tensor parallelism (TP) of the dense parts and expert parallelism (EP) of
// the routed experts.
//
// Sharding: a dense MLP and the shared experts are split over TP (column-parallel up/gate,
// row-parallel down: weights / tp per device, one all-reduce of the output). Routed experts are
// spread over EP, n_routed / ep per device group, each expert split over expert_tp() = tp x dp /
// ep devices (1 when EP covers every device: whole experts, the layout DeepSeek-V3 and the MLRA
// paper serve with; tp when EP is 1: plain tensor parallelism); a step reads the weights of the
// local experts its tokens touch. With DP attention (dp > 1 attention groups of tp devices) the
// dense parts run each group's own tokens, and the routed experts receive the tokens of all dp
// groups.
//
// Routing assumption (stated, and replaceable): each token picks top_k distinct experts
// uniformly at random, independently of the other tokens. Then an expert is missed by one token
// with probability 1 - top_k / n_routed, and the expected number touched by T tokens is
//   n_routed * (1 - (1 - top_k / n_routed)^T).
// A measured routing skew replaces it through FfnLayout::touched_fraction.
#pragma once
#include <cstdint>
#include <optional>

namespace attnroof::model {

// gated: gate, up and down projections (SwiGLU, GeGLU; Llama, Qwen, DeepSeek); plain: up and
// down (GPT-2, OPT).
enum class MlpKind { gated, plain };
constexpr int64_t mlp_matrices(MlpKind k) { return k == MlpKind::gated ? 3 : 2; }

struct MlpShape {
  int64_t d_ff = 0;  // intermediate width
  MlpKind kind = MlpKind::gated;
};

struct MoeShape {
  int64_t n_routed = 0;  // routed experts per MoE layer
  int64_t top_k = 0;     // routed experts per token
  int64_t n_shared = 0;  // shared experts, every token uses each
  int64_t d_expert = 0;  // intermediate width of one expert (routed and shared)
  MlpKind kind = MlpKind::gated;
};

// The FFN of every layer of a model: `n_layers` layers of which the first `first_dense_layers`
// (all of them without `moe`) are the dense MLP, the others MoE layers with a router of
// d_model x n_routed.
struct FfnShape {
  int64_t d_model = 0;
  int64_t n_layers = 0;
  MlpShape dense;
  std::optional<MoeShape> moe{};
  int64_t first_dense_layers = 0;  // MoE models: the leading dense layers (first_k_dense_replace)

  int64_t dense_layers() const { return moe ? first_dense_layers : n_layers; }
  int64_t moe_layers() const { return moe ? n_layers - first_dense_layers : 0; }
};

// Expected distinct experts touched by `tokens` tokens, each picking top_k of n_experts
// uniformly (the header's assumption). 0 tokens touch none; the result is in [0, n_experts].
double expected_distinct_experts(int64_t n_experts, int64_t top_k, double tokens);

// Parameters of the whole model's FFN (all layers, all experts, routers).
double ffn_params(const FfnShape& f);
// Parameters one token uses: the dense layers, and per MoE layer its top_k routed experts, the
// shared experts and the router.
double ffn_active_params(const FfnShape& f);

struct FfnLayout {
  int64_t tp = 1;  // dense MLP and shared experts split over tp devices
  int64_t ep = 1;  // routed experts spread over ep device groups
  int64_t dp = 1;  // attention groups whose tokens meet at the routed experts (DP attention)
  // Devices each routed expert is split over: tp x dp / ep, at least 1.
  int64_t expert_tp() const;
  // Fraction of a device's local experts one step touches; unset: the uniform-routing
  // expectation above. A measured skew (hot experts) gives a smaller value at the same batch.
  std::optional<double> touched_fraction{};
};

// One layer of the FFN for one decode step on the busiest device. tokens: the step's tokens of
// one attention group (batch x q_tokens); the routed experts see tokens x dp, since every token
// may route to any expert. Uniform load: each device's experts receive tokens x dp x top_k / ep
// token-expert pairs.
struct FfnPartStep {
  double flops = 0;
  double weight_params = 0;  // weights read this step per device
};
struct FfnLayerStep {
  double flops = 0;         // per device, all parts
  double weight_params = 0; // weights read this step per device (touched experts only)
  double experts_touched = 0;  // routed experts read on the device (0 for a dense layer)
  FfnPartStep dense;    // the dense MLP (dense layers only)
  FfnPartStep router;   // MoE: d_model x n_routed, replicated
  FfnPartStep shared;   // MoE: the shared experts
  FfnPartStep routed;   // MoE: the touched local routed experts
};
FfnLayerStep ffn_layer_step(const FfnShape& f, bool moe_layer, double tokens, const FfnLayout& l);

// Parameters one device holds for one layer's FFN under the layout (all its local experts).
double ffn_layer_resident_params(const FfnShape& f, bool moe_layer, const FfnLayout& l);

}  // namespace attnroof::model

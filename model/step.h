// defines: ModelBody, parse_model_body, ffn_layer_cost, lm_head_cost, StepPart, StepEstimate,
//          step_estimate, step_capacity, step_problems
//
// The whole decode step of a model on one device: the attention blocks of every layer
// (priced as the rest of model/ does), the FFN of every layer (model/ffn.h: dense MLP, or MoE
// with shared and routed experts), the LM head, each with its own roofline or calibrated time and
// its collectives, summed into t_step_s (the time per output token, TPOT, of every sequence of
// the batch) and tokens per second per GPU.
//
// Layout (DecodePoint tp, ep, dp_attention): dp_attention attention groups of tp devices each run
// their own batch; the deployment has N = tp x dp_attention devices. The dense parts (dense MLP,
// shared experts, LM head) follow the attention: TP over tp inside each group, each group its own
// tokens. The routed experts are spread over ep device groups (n_routed / ep each), each expert
// split over N / ep devices, and see the tokens of all groups. Collectives per layer:
//   dense layer       all-reduce of T x d over tp (T = batch x q_tokens of one group)
//   MoE layer, ep 1   all-reduce of T x dp x d over N (the experts' TP group)
//   MoE layer, ep > 1 dispatch and combine, two all-to-alls of (T / tp) x top_k x d over ep, and
//                     with tp > 1 an all-reduce of T x d over tp (shared experts, and the routed
//                     outputs back to every device of the group)
//   LM head           all-gather of the logits T x vocab over tp (vocab-parallel head)
// Norms and residual adds are one elementwise op per layer (two RMSNorms, each reading x and the
// residual and writing one vector: 6 x T x d activations). The embedding lookup (T rows of d)
// and the sampling are not modelled: both are far below a microsecond at decode batches.
// Pricing: each FFN and LM-head GEMM takes a calibration profile's per-GEMM fit when the profile
// has one and the weights and activations are bf16/fp16 (M = the group's batch x q_tokens, also
// for the routed experts, whose rows per expert are fewer), the labelled roofline defaults
// otherwise (fp8 weights: DeepSeek-V3's native format).
#pragma once
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "model/ffn.h"
#include "model/json_reader.h"
#include "model/roofline.h"

namespace attnroof::model {

// The decoder around the attention blocks. Without `ffn` only the attention is priced and the
// step's other parts read 0 (a preset that describes no FFN, a --variant/--config model).
struct ModelBody {
  std::optional<FfnShape> ffn;
  int64_t vocab = 0;              // 0: no embeddings or LM head described
  bool tied_embeddings = false;   // the LM head is the embedding matrix (one copy held)
  std::optional<double> touched_fraction;  // a measured routing skew (model/ffn.h FfnLayout)

  // Embedding and LM head parameters (vocab x d, twice when untied).
  double embedding_params() const;
};

// A preset's "ffn" object, its "vocab" and "tied_embeddings" (n_layers and d_model from the
// preset): {"d_ff": 28672, "mlp": "gated"} or {"d_ff": 18432, "first_dense_layers": 3, "moe":
// {"n_routed": 256, "top_k": 8, "n_shared": 1, "d_expert": 2048}}.
ModelBody parse_model_body(ObjectReader& preset, int64_t d_model, int64_t n_layers);

// One FFN layer (dense or MoE) as ops and collectives, per device, one decode step; the ops are
// GEMMs in the projection stage and the norms in the output stage.
Cost ffn_layer_cost(const FfnShape& f, bool moe_layer, const DecodePoint& p,
                    std::optional<double> touched_fraction = std::nullopt);
// The LM head: vocab x d, split over tp (vocab-parallel), and its logits all-gather.
Cost lm_head_cost(int64_t d_model, int64_t vocab, const DecodePoint& p);

enum class StepPartId { attention, dense_mlp, moe, lm_head };
inline constexpr std::array<StepPartId, 4> kAllStepParts = {StepPartId::attention, StepPartId::dense_mlp,
                                                           StepPartId::moe, StepPartId::lm_head};
std::string_view to_string(StepPartId p);

// One part of the step, all its layers, per device.
struct StepPart {
  StepPartId id = StepPartId::attention;
  int64_t layers = 0;       // layers it runs in (1 for the LM head; 0: absent)
  double flops = 0;
  double weight_bytes = 0;  // weights read this step
  double bytes = 0;         // every HBM byte
  double t_comm_s = 0;      // its collectives
  double t_s = 0;           // compute and collectives
  double share = 0;         // t_s / t_step_s
  Bound bound = Bound::memory;
  bool calibrated = false;  // a calibration profile priced its GEMMs (or attention kernel)
};

struct StepEstimate {
  std::array<StepPart, 4> parts{};
  double t_step_s = 0;               // TPOT: one decode step of the whole model
  double tokens_per_s_per_gpu = 0;   // batch x q_tokens / (t_step_s x tp): every query token kept
  double tokens_per_s = 0;           // the deployment's: x dp_attention groups
  bool ffn_modelled = false;
  Bound bound = Bound::memory;       // the bound of the largest part
  const StepPart& part(StepPartId id) const { return parts[std::size_t(id)]; }
};

// attention: the per-layer cost and estimate of one attention block at this point.
StepEstimate step_estimate(const Cost& attention, const Estimate& attention_est, const ModelBody& body,
                           int64_t n_layers, const DecodePoint& p, const Hardware& hw);

// Memory per device for the whole model under the layout: attention x layers (at tp), the FFN of
// every layer (dense parts / tp, routed experts n_routed / ep each / (N / ep)), the routers and
// the rest of other_params (norms) replicated, embeddings / tp, KV of the group's batch. Without
// body.ffn: capacity() (other_params / tp).
Capacity step_capacity(const AttentionVariant& variant, int64_t n_layers, double other_params,
                       const ModelBody& body, const DecodePoint& p, const Hardware& hw);

// Problems of the layout with this model: ep > 1 without routed experts, ep not dividing them.
std::vector<std::string> step_problems(const ModelBody& body, const DecodePoint& p);

}  // namespace attnroof::model

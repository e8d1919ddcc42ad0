// defines: Axes, Row, Skip, evaluate_point, for_each_point (the cartesian product that sweep,
// study and bench_sweep walk, one model evaluation per point, nothing stored)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/roofline.h"
#include "studies/options.h"

namespace attnroof::cli {

// The axes of a sweep. A point is one value of each; ragged_contexts, when set, replaces the
// batch and context axes with one ragged batch.
struct Axes {
  std::vector<ModelEntry> models;
  std::vector<const model::Hardware*> hardware;
  std::vector<model::Form> forms = {model::Form::absorbed};
  std::vector<model::Dtype> kv_dtypes = {model::Dtype::bf16};
  // Empty: each model's native weight format (a preset's weight_dtype).
  std::vector<model::Dtype> weight_dtypes = {model::Dtype::bf16};
  std::vector<model::Dtype> act_dtypes = {model::Dtype::bf16};
  std::vector<int64_t> tp = {1};
  std::vector<int64_t> ep = {1};            // expert-parallel groups (model/step.h)
  std::vector<int64_t> dp_attention = {1};  // attention groups of tp devices (DP attention)
  std::vector<int64_t> q_tokens = {1};
  std::vector<int64_t> batch = {1};
  std::vector<int64_t> ctx_len = {8192};
  std::vector<int64_t> ragged_contexts;

  // Points in the product (a model with pinned_tp counts one TP value). Throws InputError when
  // the count, or any point's total context (check_context_totals), passes the int64 range:
  // a sweep calls it before it writes anything.
  uint64_t size() const;
  // InputError naming the fields when a point's batch x ctx_len (or the ragged sum) passes int64.
  void check_context_totals() const;
  nlohmann::json to_json() const;  // echoed into reports
};

// One evaluated point: the inputs, the model's cost and the roofline estimate. Per layer, per
// device, per decode step unless a field says otherwise.
struct Row {
  const ModelEntry* model = nullptr;
  const model::Hardware* hw = nullptr;
  model::DecodePoint point;
  model::Cost cost;
  model::Estimate est;
  model::Capacity cap;
  model::StepEstimate step;  // the whole model's decode step (attention, FFN/MoE, LM head)
  // The collective algorithm of the first collective ("none" without communication).
  std::string_view comm_algorithm = "none";

  double kv_bytes_per_token() const;  // per layer per device
  double weight_bytes() const;        // attention weights, per layer per device
  double kv_d_h_multiple() const;
  double t_attn_per_model_s() const { return est.t_layer_s * double(model->n_layers); }
  const model::StepPart& part(model::StepPartId id) const { return step.part(id); }
  const model::StageEstimate& stage(model::Stage s) const;
};

// A point that cannot be evaluated, with every reason (TP does not shard, ctx < q_tokens, fp8
// on a part without fp8).
struct Skip {
  const ModelEntry* model = nullptr;
  const model::Hardware* hw = nullptr;
  model::DecodePoint point;
  std::vector<std::string> reasons;
  nlohmann::json to_json() const;
};

// Problems that make (model, hw, point) impossible; empty = evaluable.
std::vector<std::string> point_problems(const ModelEntry& m, const model::Hardware& hw,
                                        const model::DecodePoint& p);

// Evaluates an evaluable point into `row` (no allocation).
void evaluate_point(const ModelEntry& m, const model::Hardware& hw, const model::DecodePoint& p,
                    Row& row);

// Walks the product in axis order (model outermost, context innermost), calling on_row(const
// Row&) for each evaluable point and on_skip(Skip&&) for the rest. Returns points visited.
// TP validity is computed once per (model, tp), not per point.
template <class OnRow, class OnSkip>
uint64_t for_each_point(const Axes& axes, OnRow&& on_row, OnSkip&& on_skip);

}  // namespace attnroof::cli

#include "studies/evaluate_impl.h"

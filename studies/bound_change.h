// defines: RidgeInfo, ridge_info, BoundChange, bound_change_q_tokens, bound_change_context
//
// Where a decode point sits on the roofline and what would move it: explain's "roofline" lines.
// The bound of a stage is the model's own label (model::estimate: the calibrated time model's
// term, or the roofline's max of memory and math time), so the search re-evaluates the same
// model at other q_tokens or contexts rather than reasoning about intensities on the side.
#pragma once
#include <cstdint>
#include <optional>

#include "model/roofline.h"
#include "studies/evaluate.h"

namespace attnroof::cli {

// The roofline ridge: the intensity where math time equals memory time.
struct RidgeInfo {
  double datasheet_flop_per_byte = 0;  // peak FLOP/s / HBM B/s
  double effective_flop_per_byte = 0;  // (peak x eff.tensor) / (HBM x eff.hbm): what bounds use
};
RidgeInfo ridge_info(const model::Hardware& hw, model::Dtype act);

// Which label a search follows: the model's own (calibrated where a profile applies), or the
// plain roofline's (compute where the stage's math time at the efficiency-adjusted peak passes
// its memory time, i.e. intensity past the effective ridge).
enum class BoundLabel { model, roofline };

// The nearest value of one axis at which a stage's bound label differs from its label at the
// point, with the label it changes to.
struct BoundChange {
  int64_t at = 0;  // the first value, searching away from the point, with the other bound
  model::Bound to = model::Bound::memory;
  bool below = false;  // found below the point's value (every value <= at has it, near at)
};

// Searches q_tokens upward from the point's (at most kMaxSearchQTokens and the shortest
// context). Empty: no change in range.
std::optional<BoundChange> bound_change_q_tokens(const ModelEntry& m, const model::Hardware& hw,
                                                 const model::DecodePoint& p, model::Stage stage,
                                                 BoundLabel label);
// Searches the context of a uniform batch upward (to kMaxSearchContext) and, when nothing
// changes there, downward (to q_tokens). Empty: no change in range, or a ragged batch.
std::optional<BoundChange> bound_change_context(const ModelEntry& m, const model::Hardware& hw,
                                                const model::DecodePoint& p, model::Stage stage,
                                                BoundLabel label);

// The plain roofline's label of a stage: compute when t_math > t_mem, else memory.
model::Bound roofline_bound(const model::StageEstimate& st);

inline constexpr int64_t kMaxSearchQTokens = 4096;
inline constexpr int64_t kMaxSearchContext = int64_t(1) << 30;

}  // namespace attnroof::cli

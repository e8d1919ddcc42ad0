#include "studies/bound_change.h"

#include <algorithm>
#include <memory>

#include "model/error.h"

namespace attnroof::cli {

namespace {

// The stage's label at p, or empty when p cannot be evaluated.
std::optional<model::Bound> bound_at(const ModelEntry& m, const model::Hardware& hw,
                                     const model::DecodePoint& p, model::Stage stage,
                                     BoundLabel label) {
  if (!point_problems(m, hw, p).empty()) return std::nullopt;
  auto row = std::make_unique<Row>();
  evaluate_point(m, hw, p, *row);
  const model::StageEstimate& st = row->stage(stage);
  return label == BoundLabel::model ? st.bound : roofline_bound(st);
}

// The same at the point make_point builds; empty when it cannot be built (a context whose batch
// total passes int64 is outside the search, not an error of the point explained).
template <class MakePoint>
std::optional<model::Bound> bound_at(const ModelEntry& m, const model::Hardware& hw,
                                     MakePoint& make_point, int64_t value, model::Stage stage,
                                     BoundLabel label) {
  try {
    return bound_at(m, hw, make_point(value), stage, label);
  } catch (const InputError&) {
    return std::nullopt;
  }
}

// Walks from `from` towards `limit` by doubling (or halving) until the bound differs from
// `start`, then bisects between the last value with `start` and the first without.
template <class MakePoint>
std::optional<BoundChange> search(const ModelEntry& m, const model::Hardware& hw,
                                  model::Stage stage, BoundLabel label, model::Bound start,
                                  int64_t from, int64_t limit, MakePoint make_point) {
  const bool up = limit > from;
  int64_t same = from;
  std::optional<int64_t> other;
  std::optional<model::Bound> other_bound;
  while (same != limit) {
    const int64_t next = up ? std::min(limit, same * 2) : std::max(limit, same / 2);
    const std::optional<model::Bound> b = bound_at(m, hw, make_point, next, stage, label);
    if (!b) return std::nullopt;
    if (*b != start) {
      other = next;
      other_bound = b;
      break;
    }
    same = next;
  }
  if (!other) return std::nullopt;
  while (up ? *other - same > 1 : same - *other > 1) {  // invariant: bound(same) == start
    const int64_t mid = same + (*other - same) / 2;
    const std::optional<model::Bound> b = bound_at(m, hw, make_point, mid, stage, label);
    if (!b) return std::nullopt;
    if (*b == start) {
      same = mid;
    } else {
      other = mid;
      other_bound = b;
    }
  }
  return BoundChange{.at = *other, .to = *other_bound, .below = !up};
}

}  // namespace

RidgeInfo ridge_info(const model::Hardware& hw, model::Dtype act) {
  const double peak = hw.peak_flops_per_s(act);
  return RidgeInfo{
      .datasheet_flop_per_byte = peak / hw.hbm_bytes_per_s,
      .effective_flop_per_byte =
          peak * hw.efficiency.tensor / (hw.hbm_bytes_per_s * hw.efficiency.hbm)};
}

model::Bound roofline_bound(const model::StageEstimate& st) {
  return st.t_math_s > st.t_mem_s ? model::Bound::compute : model::Bound::memory;
}

std::optional<BoundChange> bound_change_q_tokens(const ModelEntry& m, const model::Hardware& hw,
                                                 const model::DecodePoint& p, model::Stage stage,
                                                 BoundLabel label) {
  const std::optional<model::Bound> start = bound_at(m, hw, p, stage, label);
  const int64_t limit = std::min(kMaxSearchQTokens, p.ctx_len_min);
  if (!start || p.q_tokens >= limit) return std::nullopt;
  return search(m, hw, stage, label, *start, p.q_tokens, limit, [&](int64_t q) {
    model::DecodePoint x = p;
    x.q_tokens = q;
    return x;
  });
}

std::optional<BoundChange> bound_change_context(const ModelEntry& m, const model::Hardware& hw,
                                                const model::DecodePoint& p, model::Stage stage,
                                                BoundLabel label) {
  if (p.ctx_len_min != p.ctx_len_max) return std::nullopt;  // ragged: no single context to move
  const std::optional<model::Bound> start = bound_at(m, hw, p, stage, label);
  if (!start) return std::nullopt;
  const auto at_context = [&](int64_t ctx) {
    model::DecodePoint x = model::DecodePoint::uniform(p.tp, p.batch, ctx, p.q_tokens);
    x.dtypes = p.dtypes;
    x.form = p.form;
    return x;
  };
  if (p.ctx_len_max < kMaxSearchContext)
    if (auto up = search(m, hw, stage, label, *start, p.ctx_len_max, kMaxSearchContext, at_context))
      return up;
  if (p.ctx_len_max > p.q_tokens)
    return search(m, hw, stage, label, *start, p.ctx_len_max, p.q_tokens, at_context);
  return std::nullopt;
}

}  // namespace attnroof::cli

#include "model/split_plan.h"

#include <algorithm>
#include <vector>

#include "model/checked_math.h"
#include "model/error.h"

namespace attnroof::model {

SplitPlan split_evenly(int64_t ctx_len_max, int64_t n_splits, int64_t tile) {
  tile = std::max<int64_t>(tile, 1);
  const int64_t ctx = std::max<int64_t>(ctx_len_max, 0);
  const int64_t n = std::max<int64_t>(n_splits, 1);
  const int64_t split_len = std::max<int64_t>(ceil_div(ceil_div(ctx, n), tile), 1) * tile;
  return SplitPlan{.n_splits = std::max<int64_t>(ceil_div(ctx, split_len), 1), .split_len = split_len};
}

SplitPlan plan_splits(const DecodeWork& work, const SplitKvParams& params) {
  const int64_t ctx = work.ctx_len_max();
  const KernelPlan& kernel = work.plan;
  const SplitPlan one = split_evenly(ctx, 1, kernel.tile_n);
  if (ctx <= kNoSplitBelow) return one;
  // Saturated: a product past int64 is past any wave, and the answer is then one split.
  const int64_t slots = std::max<int64_t>(saturating_mul(kernel.sm_count, kernel.ctas_per_sm), 1);
  const int64_t rows =
      saturating_mul(work.q_heads / std::max<int64_t>(work.kv_heads, 1), work.q_tokens);
  const int64_t head_blocks = ceil_div(rows, std::max<int64_t>(kernel.tile_m, 1));
  const int64_t ctas_per_split =
      std::max<int64_t>(saturating_mul(saturating_mul(work.batch(), work.kv_heads), head_blocks), 1);
  const int64_t most = std::min(slots / ctas_per_split, ctx / kMinSplitLen);
  if (most <= 1) return one;

  DecodeWork uniform = work;
  uniform.ctx_lens.assign(std::size_t(work.batch()), ctx);
  const auto predict = [&](const SplitPlan& s) {
    uniform.plan.n_splits = s.n_splits;
    uniform.plan.split_len = s.split_len;
    const std::vector<std::string> bad = uniform.problems();
    throw_if_problems("plan_splits: the work cannot be priced", bad);
    return predict_split_kv(work_features(uniform), params).t_s;
  };
  // Candidates beside one split: the fill plan, halvings of it (a partial wave whose merge walks
  // fewer splits can beat a full one: 16 splits at batch 8 against 32), and the most splits the
  // few-splits merge takes. Fewest splits first, so a tie keeps the cheaper merge; each split
  // count is priced once (split_evenly can round two counts to the same plan).
  std::vector<int64_t> counts = {most};
  for (int64_t n = most / 2; n > 1; n /= 2) counts.push_back(n);
  if (most > kRowMergeMaxSplits) counts.push_back(kRowMergeMaxSplits);
  std::sort(counts.begin(), counts.end());
  SplitPlan best = one, last = one;
  double best_s = predict(one);
  for (int64_t n : counts) {
    const SplitPlan s = split_evenly(ctx, n, kernel.tile_n);
    if (s.n_splits == last.n_splits) continue;
    last = s;
    const double t = predict(s);
    if (t < best_s) best = s, best_s = t;
  }
  return best;
}

}  // namespace attnroof::model

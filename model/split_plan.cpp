#include "model/split_plan.h"

#include <algorithm>

#include "model/checked_math.h"

namespace attnroof::model {

SplitPlan plan_splits(int64_t ctx_len_max, int64_t batch, int64_t work_units, int64_t sm_count,
                      int64_t ctas_per_sm, int64_t tile) {
  tile = std::max<int64_t>(tile, 1);
  if (ctx_len_max <= kNoSplitBelow) {
    return SplitPlan{.n_splits = 1, .split_len = std::max<int64_t>(ceil_div(ctx_len_max, tile), 1) * tile};
  }
  // Saturated: a product past int64 is past any wave, and the answer is then one split.
  const int64_t slots = std::max<int64_t>(saturating_mul(sm_count, ctas_per_sm), 1);
  const int64_t base = std::max<int64_t>(saturating_mul(batch, work_units), 1);
  // As many splits as fit in one wave: rounding up would start a second, nearly empty wave that
  // costs as much as the first (measured on an H100: batch 8, 17 splits, 136 CTAs on 132 SMs
  // ran 2x slower than 16 splits).
  const int64_t wanted = std::max<int64_t>(slots / base, 1);
  const int64_t most = std::max<int64_t>(ctx_len_max / kMinSplitLen, 1);  // splits stay long
  const int64_t n = std::clamp<int64_t>(wanted, 1, most);
  const int64_t split_len = ceil_div(ceil_div(ctx_len_max, n), tile) * tile;
  return SplitPlan{.n_splits = ceil_div(ctx_len_max, split_len), .split_len = split_len};
}

}  // namespace attnroof::model

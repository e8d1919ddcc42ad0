// defines: SplitPlan, plan_splits (flash-decoding split of the KV length; used by the model, the
// reference's split mirror and the CUDA launchers, so all three split the same way)
#pragma once
#include <cstdint>

namespace attnroof::model {

inline constexpr int64_t kNoSplitBelow = 256;  // shorter contexts run as one split (flashinfer)
inline constexpr int64_t kMinSplitLen = 128;   // a split shorter than this costs more than it buys

struct SplitPlan {
  int64_t n_splits = 1;   // splits of the longest sequence
  int64_t split_len = 0;  // keys per split (a multiple of tile); shorter sequences use fewer splits
};

// Splits a batch whose longest context is ctx_len_max so that batch * work_units * n_splits CTAs
// fill sm_count * ctas_per_sm slots in one wave (never more). work_units: independent CTAs per sequence without splitting
// (KV heads on the device for GQA, 1 for a latent row). tile: split_len is a multiple of it (the
// kernel's KV tile or the page size). Pure and cheap: the model calls it per sweep point.
SplitPlan plan_splits(int64_t ctx_len_max, int64_t batch, int64_t work_units, int64_t sm_count,
                      int64_t ctas_per_sm, int64_t tile);

}  // namespace attnroof::model

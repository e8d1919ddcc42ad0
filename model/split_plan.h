// defines: SplitPlan, plan_splits (flash-decoding split of the KV length; used by the model, the
// reference's split mirror and the CUDA launchers, so all three split the same way)
#pragma once
#include <cstdint>

namespace attnroof::model {

inline constexpr int64_t kNoSplitBelow = 256;  // shorter contexts run as one split (flashinfer)
inline constexpr int64_t kMinSplitLen = 128;   // a split shorter than this costs more than it buys

// Query rows per CTA of our decode kernels for `group_rows` rows per KV unit (query heads per KV
// head, times query tokens). A 16-row tile covers groups up to 16 and wastes at most 15 MMA rows,
// which the memory-bound small-group case does not notice; larger groups (MQA, latent 17..128
// heads) take 64-row tiles so one KV tile serves 64 rows instead of 16 (4x fewer re-reads).
// The launcher (kernels/cuda/launch_decode.cpp) and the time model both use it.
inline constexpr int64_t decode_tile_m(int64_t group_rows) { return group_rows <= 16 ? 16 : 64; }

struct SplitPlan {
  int64_t n_splits = 1;   // splits of the longest sequence
  int64_t split_len = 0;  // keys per split (a multiple of tile); shorter sequences use fewer splits
};

// Splits a batch whose longest context is ctx_len_max so that batch * work_units * n_splits CTAs
// fill sm_count * ctas_per_sm slots in one wave (never more). work_units: independent CTAs per sequence without splitting
// (KV heads on the device for GQA, 1 for a latent row). tile: split_len is a multiple of it (the
// kernel's KV tile or the page size). Pure and cheap: the model calls it per sweep point.
// Precondition: ctx_len_max + tile fits int64 (the kernels' sizes are int32).
SplitPlan plan_splits(int64_t ctx_len_max, int64_t batch, int64_t work_units, int64_t sm_count,
                      int64_t ctas_per_sm, int64_t tile);

}  // namespace attnroof::model

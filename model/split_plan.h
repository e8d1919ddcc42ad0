// defines: SplitPlan, split_evenly, plan_splits, decode_tile_m, kNoSplitBelow, kMinSplitLen
//
// The flash-decoding split of the KV length, used by the model (model/calibration.h plan_for),
// the CUDA launcher (kernels/cuda/launch_decode.cpp) and the tests, so that the model prices the
// plan the kernels run. plan_splits decides with the split-KV time model (model/time_model.h),
// merge and wave quantization included, whether to split at all: splitting stops paying once
// the batch fills the GPU, while the merge's cost grows with the batch (measured on an H200,
// MLA 64 heads at 1K keys: batch 64 ran 118 us in 2 splits and 55 us in one:
// reports/kernels/h200/planner_probe/).
#pragma once
#include <cstdint>

#include "model/time_model.h"

namespace attnroof::model {

inline constexpr int64_t kNoSplitBelow = 256;  // shorter contexts run as one split (flashinfer)
inline constexpr int64_t kMinSplitLen = 128;   // no split is planned shorter than this

// Query rows per CTA of our decode kernels for `group_rows` rows per KV unit (query heads per KV
// head, times query tokens). A 16-row tile covers groups up to 16 and wastes at most 15 MMA rows,
// which the memory-bound small-group case does not notice; larger groups (MQA, latent 17..128
// heads) take 64-row tiles so one KV tile serves 64 rows instead of 16 (4x fewer re-reads).
// Separate K/V also has 32-row tiles for 17..32 rows (GQA-8 with 4 query tokens): sized for two
// CTAs per SM, where the 64-row separate tile (184 registers, 130 KB at d 128) fits one and
// streamed at half the bandwidth (reports/kernels/h200/q_tokens/). 16-row tiles with several head
// blocks were slower still: each SM moves every byte its CTAs read, L2 hits or not.
// The launcher (kernels/cuda/launch_decode.cpp) and the time model both use it.
inline constexpr int64_t decode_tile_m(KernelFamily family, int64_t group_rows) {
  if (group_rows <= 16) return 16;
  return family == KernelFamily::separate_kv && group_rows <= 32 ? 32 : 64;
}

struct SplitPlan {
  int64_t n_splits = 1;   // splits of the longest sequence
  int64_t split_len = 0;  // keys per split (a multiple of tile); shorter sequences use fewer splits
};

// About n_splits equal splits of ctx_len_max keys, each a multiple of tile (the last one takes
// what is left; rounding can leave fewer than n_splits). n_splits < 1 counts as 1.
SplitPlan split_evenly(int64_t ctx_len_max, int64_t n_splits, int64_t tile);

// The split count for a decode step: the fastest, as predict_split_kv prices it with `params`
// (the kernel's waves, the merge's waves, round trips and bytes), of: one split; the fill plan
// (as many splits as keep the split kernel in one wave, since a second, partial wave costs as
// much as the first, each split at least kMinSplitLen keys); its halvings (a partial wave whose
// merge walks fewer splits); and, where the fill plan has more, kRowMergeMaxSplits splits (the
// most the cheap few-splits merge takes). The fill plan is what every calibration point ran;
// one split and forced 128-key splits were measured beside it for MLA
// (reports/kernels/h200/planner_probe/round6_merge/: the forced splits, 8-64 of them over 1-8
// waves and none fitted, are predicted within 5.4% median, 16.4% at most).
// One split wins where the batch already fills the GPU and the merge would cost more than the
// splits save; contexts up to kNoSplitBelow always run as one split. Only the work's batch and
// longest context are used (what a launcher knows before the lengths reach the GPU): each
// sequence is priced at ctx_len_max. work.plan holds the kernel's facts (tile_m, tile_n, stages,
// ctas_per_sm, sm_count); its split fields are ignored. The planned time must never fall when the
// batch grows (tests/model/test_split_plan.cpp checks it over the benchmark grid).
// Throws InputError when the work has problems() (model/time_model.h).
SplitPlan plan_splits(const DecodeWork& work, const SplitKvParams& params);

}  // namespace attnroof::model

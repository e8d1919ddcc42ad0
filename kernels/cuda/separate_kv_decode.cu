// Separate-K/V decode: MHA, MQA and GQA with any group size, head dim 64, 128, 256.
//
// Math (docs/variants.md "MHA, MQA, GQA"): query head i of sequence b uses KV head j = i / g
// (g = q_heads / kv_heads); s_n = scale q_i . k_{n,j},  o_i = softmax(s) V_j,  lse natural log.
// Layout (kernels/decode_params.h, family separate_kv): K and V rows [kv_heads, d] bf16,
// contiguous or paged (pages of 64 or 128 rows).
// Bytes: every CTA streams one KV head's K and V for its split once per head block; with
// g <= 16 one head block covers the whole group, so KV bytes = 2 * kv_heads * d * ctx * 2 B.
// FLOPs: 4 * q_heads * d * ctx (scores and P V), padded to 16 rows per KV head in the MMAs.
//
// Tile plan (split_kv_decode.cuh), rows = q_tokens x g per KV head: rows <= 16: one 16-row tile
// per KV head, 4 warps splitting the keys (scores) and the output columns (P V); 17..32: 32-row
// tiles (4 warps, 2 x 2), sized for 2 CTAs per SM; more: 64-row tiles (8 warps, 4 x 2).
//   16 rows: d 64: 64-key tiles, 4 stages; d 128: 64 x 3 (2 CTAs per SM); d 256: 32 x 3
//   32 rows: d 64: 64 x 4; d 128: 32 x 4; d 256: 32 x 2 (81-85 KB of shared memory, 2 CTAs/SM)
//
// What it achieves (one H200, shipped defaults, reports/kernels/h200/targets/, 2026-12-04):
// GQA TP8 (8 q / 1 kv, d 128) batch 1, paged, 0.755 / 0.824 / 0.860 of the read ceiling measured
// in the same run at 512K / 1M / 2M (the decode kernel alone 0.856-0.925, the rest the merge and
// launches: reports/kernels/h200/b1_limits/), batch 8 0.90-0.93; 1.14-1.19x PyTorch SDPA at
// 128K-2M. Batch 64 x 64K streams 0.895 of the read ceiling; q_tokens 4 costs 0.98-1.32x q_tokens 1
// (reports/kernels/h200/gqa_tile/). Round by
// round: reports/kernels/HISTORY.md.
// Test and benchmark: scripts/gpu-run.sh full; scripts/gpu-run.sh q-tokens.
#include "kernels/cuda/split_kv_decode.cuh"

namespace attnroof::kernels::cuda {

namespace {
constexpr KernelFamily kSep = KernelFamily::separate_kv;
// DecodeTile<family, d_qk, d_v, warps_m, warps_n, tile_n, stages, bulk>. Each plan twice: with
// bulk copies (alternative 0, the default on sm_90 and later), then with cp.async (alternative 1:
// the fallback of a launch the bulk copies cannot serve, launch_decode.cpp).
#define ATTNROOF_SEPARATE_PLAN(d, wm, wn, n, s, name)                                     \
  make_entry<DecodeTile<kSep, d, d, wm, wn, n, s, true>>(name "_tma", 0),                  \
      make_entry<DecodeTile<kSep, d, d, wm, wn, n, s>>(name, 1)
const DecodeKernelEntry kSeparateKernels[] = {
    ATTNROOF_SEPARATE_PLAN(64, 1, 4, 64, 4, "separate_d64_m16_n64_s4"),
    ATTNROOF_SEPARATE_PLAN(64, 2, 2, 64, 4, "separate_d64_m32_n64_s4"),
    ATTNROOF_SEPARATE_PLAN(64, 4, 2, 64, 4, "separate_d64_m64_n64_s4"),
    ATTNROOF_SEPARATE_PLAN(128, 1, 4, 64, 3, "separate_d128_m16_n64_s3"),
    ATTNROOF_SEPARATE_PLAN(128, 2, 2, 32, 4, "separate_d128_m32_n32_s4"),
    ATTNROOF_SEPARATE_PLAN(128, 4, 2, 64, 3, "separate_d128_m64_n64_s3"),
    ATTNROOF_SEPARATE_PLAN(256, 1, 4, 32, 3, "separate_d256_m16_n32_s3"),
    ATTNROOF_SEPARATE_PLAN(256, 2, 2, 32, 2, "separate_d256_m32_n32_s2"),
    ATTNROOF_SEPARATE_PLAN(256, 4, 2, 32, 3, "separate_d256_m64_n32_s3"),
};
#undef ATTNROOF_SEPARATE_PLAN
}  // namespace

std::span<const DecodeKernelEntry> separate_kv_kernels() { return kSeparateKernels; }

}  // namespace attnroof::kernels::cuda

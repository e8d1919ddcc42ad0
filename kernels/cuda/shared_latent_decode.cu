// Shared-latent decode: MLA (512 + 64, V 512), a GLA-2 shard (256 + 64, V 256) and the MLRA-4,
// MLRA-2 and TPLA shards (128 + 64, V 128); q_heads 1 to 128.
//
// Math (docs/variants.md "MLA", "Latent family", "MLRA"): absorbed decode is MQA on one cache row
// c_n = [latent (d_v) | rope (d_qk - d_v)]: s_n = scale q_i . c_n over all d_qk dims,
// o_i = sum_n softmax(s)_n c_n[0 : d_v]. The row is read once and used as K and as V: the P V
// step reads the latent columns from the same shared-memory tile the scores used.
// Layout (kernels/decode_params.h, family shared_latent): rows [d_qk] bf16, kv_heads = 1.
// Bytes: d_qk * 2 B per key per head block (q_heads <= 64: one block). FLOPs: 2 * q_heads *
// (d_qk + d_v) per key: MLA 64 heads reads 1152 B for 139 kFLOP per key (121 FLOP/B), so on
// mma.sync it needs ~375 TFLOP/s to stream at 3.1 TB/s.
//
// Tile plan (split_kv_decode.cuh): q_heads <= 16: 16-row tile, 4 warps; more: 64-row tiles of 8
// warps (4 along the heads x 2 along keys / output columns), 128 heads in two head blocks.
//   576/512: 32-key tiles, 3 stages (m64; Q re-read from shared memory), 4 stages (m16)
//   320/256: 64-key tiles, 3 stages       192/128: 128-key tiles, 2 stages (m64, v2), 64/4 (m16)
//
// What it achieves: on compute capability 9.0 the 64-row latent tiles (17..128 heads) run the
// wgmma kernels of shared_latent_wgmma.cu; these serve 1..16 heads, other GPUs and
// ATTNROOF_NO_WGMMA=1. Last measured on an H100 (v2, reports/kernels/h100/): batch 1 at 1M, MLA
// 45.9% of the read ceiling (169 TFLOP/s), GLA-2 TP2 53.1%, MLRA-4 TP4 50.9%. Round by round:
// reports/kernels/HISTORY.md.
// Test and benchmark: scripts/gpu-run.sh full.
#include "kernels/cuda/split_kv_decode.cuh"

namespace attnroof::kernels::cuda {

namespace {
constexpr KernelFamily kLat = KernelFamily::shared_latent;
// DecodeTile<family, d_qk, d_v, warps_m, warps_n, tile_n, stages>
const DecodeKernelEntry kLatentKernels[] = {
    make_entry<DecodeTile<kLat, 576, 512, 1, 4, 32, 4>>("latent_d576_v512_m16_n32_s4"),
    make_entry<DecodeTile<kLat, 576, 512, 4, 2, 32, 3>>("latent_d576_v512_m64_n32_s3"),
    make_entry<DecodeTile<kLat, 320, 256, 1, 4, 64, 3>>("latent_d320_v256_m16_n64_s3"),
    make_entry<DecodeTile<kLat, 320, 256, 4, 2, 64, 3>>("latent_d320_v256_m64_n64_s3"),
    make_entry<DecodeTile<kLat, 192, 128, 1, 4, 64, 4>>("latent_d192_v128_m16_n64_s4"),
    make_entry<DecodeTile<kLat, 192, 128, 4, 2, 128, 2>>("latent_d192_v128_m64_n128_s2"),
};
}  // namespace

std::span<const DecodeKernelEntry> shared_latent_kernels() { return kLatentKernels; }

}  // namespace attnroof::kernels::cuda

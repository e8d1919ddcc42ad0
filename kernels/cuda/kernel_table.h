// defines: DecodeKernelEntry, separate_kv_kernels, shared_latent_kernels,
//          shared_latent_wgmma_kernels
//
// The compiled decode kernels as a table the launcher picks from (no nested dispatch macros,
// style.md §3.4 item 5). Host-clean: the kernel is a plain function pointer.
#pragma once
#include <span>

#include "kernels/cuda/launch_decode.h"

namespace attnroof::kernels::cuda {

struct DecodeKernelEntry {
  DecodeShape shape;   // family, d_qk, d_v
  int tile_m;          // query heads per CTA (16 * warps along M)
  int tile_n;          // keys per pipeline stage
  int stages;          // cp.async pipeline depth
  int threads;
  int smem_bytes;      // dynamic shared memory
  const char* name;    // "latent_d576_v512_m64_n32_s3"
  void (*kernel)(DecodeParams);
};

std::span<const DecodeKernelEntry> separate_kv_kernels();    // separate_kv_decode.cu
std::span<const DecodeKernelEntry> shared_latent_kernels();  // shared_latent_decode.cu
// The sm_90a warpgroup-MMA latent kernels (64-row head blocks; shared_latent_wgmma.cu). Usable
// only on compute capability 9.0; launch_decode tries them first there.
std::span<const DecodeKernelEntry> shared_latent_wgmma_kernels();
// The split merge (split_kv_decode.cuh), instantiated once in merge_splits.cu.
void (*merge_splits_kernel_ptr())(DecodeParams);
inline constexpr int kMergeThreads = 256;  // 16 half-warps over the splits, a float4 per lane
inline constexpr int kMergeCols = 64;       // output columns per merge CTA (d_v is a multiple)
// Merge grid: x = q_heads * d_v / kMergeCols, y = batch.
inline constexpr int merge_grid_x(int q_heads, int d_v) { return q_heads * (d_v / kMergeCols); }
// Dynamic shared memory of the merge: a weight per split, 16 partial rows of kMergeCols, a
// reduction scratch.
inline constexpr int merge_smem_bytes(int n_splits) {
  return 4 * (((n_splits + 3) & ~3) + 2 * (kMergeThreads / 32) * kMergeCols + 32);
}

}  // namespace attnroof::kernels::cuda

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
inline constexpr int kMergeThreads = 256;  // 8 warps over the splits, 4 columns per lane
// Shared memory of the merge: weights per split, 8 partial rows of d_v, a reduction scratch.
inline constexpr int merge_smem_bytes(int n_splits, int d_v) {
  return 4 * (((n_splits + 3) & ~3) + 8 * d_v + 32);
}

}  // namespace attnroof::kernels::cuda

// defines: BulkCopyDecodeArgs, DecodeKernelEntry, entry_function, separate_kv_kernels,
//          shared_latent_kernels, shared_latent_wgmma_kernels
//
// The compiled decode kernels as a table the launcher picks from (no nested dispatch macros,
// docs/architecture.md "Rules everything keeps"). Host-clean: the kernel is a plain function
// pointer.
#pragma once
#include <cuda.h>  // CUtensorMap (a plain C type)

#include <cstdint>
#include <span>

#include "kernels/cuda/launch_decode.h"

namespace attnroof::kernels::cuda {

// The parameters of a kernel that loads the cache with the bulk-copy engine (TMA): the decode
// parameters and the tensor maps of the cache rows (rows x kv_heads * d bf16, a 64-element x
// tile_n box in the 128-byte swizzle), which must sit in parameter space (__grid_constant__).
struct BulkCopyDecodeArgs {
  DecodeParams p;
  CUtensorMap cache_rows;  // k_cache
  CUtensorMap v_rows;      // v_cache (separate K/V); unused for the shared latent
};

// The architecture a kernel is compiled for: sm_80 code runs on every GPU the project supports;
// sm_90a (warpgroup MMA) only on compute capability 9.0.
enum class KernelArch { sm80, sm90a };

struct DecodeKernelEntry {
  DecodeShape shape;   // family, d_qk, d_v
  int tile_m;          // query heads per CTA (16 * warps along M)
  int tile_n;          // keys per pipeline stage
  int stages;          // cp.async pipeline depth
  int threads;
  int smem_bytes;      // dynamic shared memory
  const char* name;    // "latent_d576_v512_m64_n32_s3"
  void (*kernel)(DecodeParams);  // nullptr for a bulk-copy entry
  void (*bulk_kernel)(BulkCopyDecodeArgs) = nullptr;  // set for a bulk-copy entry
  KernelArch arch = KernelArch::sm80;
  // Its place among the plans of its shape and tile_m (KernelChoice::alternative): 0 the
  // default, 1 the next one (a bulk-copy default's cp.async twin, which also serves the launches
  // the bulk copies cannot), ...
  int alternative = 0;
  bool bulk_copy() const { return bulk_kernel != nullptr; }
};
// The kernel of an entry, for the runtime's attribute and launch calls.
inline const void* entry_function(const DecodeKernelEntry& e) {
  return e.bulk_copy() ? reinterpret_cast<const void*>(e.bulk_kernel)
                       : reinterpret_cast<const void*>(e.kernel);
}

std::span<const DecodeKernelEntry> separate_kv_kernels();    // separate_kv_decode.cu
std::span<const DecodeKernelEntry> shared_latent_kernels();  // shared_latent_decode.cu
// The sm_90a warpgroup-MMA latent kernels (64-row head blocks; shared_latent_wgmma.cu; arch
// sm90a). launch_decode tries them first where they can run.
std::span<const DecodeKernelEntry> shared_latent_wgmma_kernels();
// The split merges (merge_splits.cu): one CTA per 64 columns of a row with its half-warps over
// the splits (many splits), or one thread per 4 columns walking the splits (n_splits <=
// kRowMergeMaxSplits). model::kMergeCols / kRowMergeMaxSplits mirror these for the time model.
void (*merge_splits_kernel_ptr())(DecodeParams);
void (*merge_few_splits_kernel_ptr())(DecodeParams);
inline constexpr int kMergeThreads = 256;  // 16 half-warps over the splits, a float4 per lane
inline constexpr int kMergeCols = 64;       // output columns per merge CTA (d_v is a multiple)
inline constexpr int kMergeUnroll = 4;      // splits in flight per lane of merge_splits_kernel
inline constexpr int kRowMergeThreads = 256;
// Up to this many splits a thread walks them itself (a loop of n_splits float4 loads); more,
// and the half-warps of merge_splits_kernel share them.
inline constexpr int kRowMergeMaxSplits = 32;
// Merge grid: x = rows per sequence (q_tokens x q_heads) * d_v / kMergeCols, y = batch.
inline constexpr int merge_grid_x(int q_rows, int d_v) { return q_rows * (d_v / kMergeCols); }
// Few-splits merge grid: one thread per 4 output columns of every row.
inline constexpr int64_t row_merge_grid_x(int64_t batch, int64_t q_rows, int64_t d_v) {
  return (batch * q_rows * (d_v / 4) + kRowMergeThreads - 1) / kRowMergeThreads;
}
// Dynamic shared memory of the merge: a weight per split, 16 partial rows of kMergeCols, a
// reduction scratch.
inline constexpr int merge_smem_bytes(int n_splits) {
  return 4 * (((n_splits + 3) & ~3) + 2 * (kMergeThreads / 32) * kMergeCols + 32);
}

}  // namespace attnroof::kernels::cuda

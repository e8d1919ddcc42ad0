// defines: swizzle128_offset, mbarrier_init, mbarrier_init_fence, mbarrier_arrive_expect_tx,
//          mbarrier_wait_parity, tma_load_2d, BulkCopyPipeline
//
// Thin wrappers over Hopper's bulk-copy engine (TMA) and the shared-memory transaction barriers
// it signals (PTX ISA "cp.async.bulk.tensor" and "mbarrier"), used by the bulk-copy decode
// kernels (shared_latent_wgmma.cu, split_kv_decode.cuh). sm_90 and later; the launcher runs
// those kernels on compute capability 9.0 and up only.
//
// The protocol of one pipeline stage: one thread arms the stage's barrier with the bytes it
// expects (arrive.expect_tx: its one arrival, plus the transaction count) and issues the copies;
// the copy engine counts the bytes down as they land; the barrier's phase flips when both reach
// zero, and every thread that waits on that phase's parity then sees the data in shared memory
// (the wait has acquire semantics for the async proxy's writes).
#pragma once
#include <cstdint>

namespace attnroof::kernels::cuda {

// Byte offset of 16-byte chunk c of row r in a tile of kRows rows in the 128-byte swizzle: the
// tile is d / 64 column blocks of kRows x 128 B (block c / 8 at (c / 8) * kRows * 128), and in
// each 8-row x 128-byte atom chunk c % 8 of row r sits at chunk (c % 8) ^ (r % 8). This is what
// a tensor copy with CU_TENSOR_MAP_SWIZZLE_128B and a 64-element box writes (1024-byte aligned
// destination), and what the wgmma descriptors read (wgmma_primitives.cuh).
template <int kRows>
__device__ __forceinline__ uint32_t swizzle128_offset(int r, int c) {
  return static_cast<uint32_t>((c >> 3) * (kRows * 128) + r * 128 + (((c & 7) ^ (r & 7)) << 4));
}

__device__ __forceinline__ void mbarrier_init(uint32_t bar, uint32_t arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(arrivals) : "memory");
}
// Makes the initialized barriers visible to the copy engine (the async proxy) before a thread
// barrier publishes them to the other threads.
__device__ __forceinline__ void mbarrier_init_fence() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}
__device__ __forceinline__ void mbarrier_arrive_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes)
               : "memory");
}
// Spins until the barrier completes the phase of the given parity (0 or 1).
__device__ __forceinline__ void mbarrier_wait_parity(uint32_t bar, uint32_t parity) {
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      "wait_again:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra wait_again;\n"
      "}\n" ::"r"(bar),
      "r"(parity)
      : "memory");
}
// One box of a 2-D tensor map (coordinates: innermost element, then row) into shared memory at
// dst, completing its bytes on the barrier bar. The box lands in the map's swizzle layout; with
// CU_TENSOR_MAP_SWIZZLE_128B and a 128-byte inner extent that is the wgmma 128-byte swizzle
// (wgmma_primitives.cuh), dst 1024-byte aligned. Rows outside the map's extent are zero-filled
// and still counted.
__device__ __forceinline__ void tma_load_2d(uint32_t dst, const void* tensor_map, int32_t col,
                                            int32_t row, uint32_t bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%2, %3}], [%4];\n" ::"r"(dst),
      "l"(tensor_map), "r"(col), "r"(row), "r"(bar)
      : "memory");
}

// The stage bookkeeping of a decode kernel's kStages-deep bulk-copy pipeline, whose barriers sit
// at bar0 (8 bytes each, one arrival: thread 0's). Thread 0 runs start() once and refill() in every
// iteration, after the thread barrier that frees the stage tile it - 1 used; every thread runs
// wait(it) before it reads tile it. load(tile, stage, page_entry, barrier) arms the barrier and
// issues the tile's copies; page(tile) reads the tile's page-table entry, one tile ahead of its
// use so that no copy waits on that load.
template <int kStages>
struct BulkCopyPipeline {
  uint32_t bar0;
  int64_t next_page = 0;  // thread 0: the page entry of the next tile to load

  __device__ uint32_t barrier(int stage) const { return bar0 + static_cast<uint32_t>(8 * stage); }

  template <class Load, class Page>
  __device__ void start(int n_tiles, Load&& load, Page&& page) {
#pragma unroll
    for (int s = 0; s < kStages; ++s) mbarrier_init(barrier(s), 1);
    mbarrier_init_fence();
#pragma unroll
    for (int s = 0; s < kStages - 1; ++s)
      if (s < n_tiles) load(s, s, page(s), barrier(s));
    next_page = page(kStages - 1);
  }
  // Use k of a stage is its barrier's phase k (parity k & 1).
  __device__ void wait(int it) const {
    mbarrier_wait_parity(barrier(it % kStages), static_cast<uint32_t>((it / kStages) & 1));
  }
  template <class Load, class Page>
  __device__ void refill(int it, int n_tiles, Load&& load, Page&& page) {
    const int next = it + kStages - 1;
    if (next < n_tiles) load(next, next % kStages, next_page, barrier(next % kStages));
    next_page = page(next + 1);
  }
};

}  // namespace attnroof::kernels::cuda

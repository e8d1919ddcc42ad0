// defines: DecodeTile<...> (compile-time tile plan), split_kv_decode_kernel<Tile>, make_entry<Tile>
//
// The split-KV (flash-decoding) decode core shared by both KV families (kernels/decode_params.h).
//
// Math, per sequence b, query token j and head i, keys n in [0, ctx_b - q_tokens + 1 + j) (the
// new tokens causal among themselves; one new token: all ctx_b keys):
//   s_n = softmax_scale * q_i . k_n            (k_n: the row's K, or the whole [latent | rope] row)
//   o_i = sum_n exp(s_n - lse_i) v_n,  lse_i = log sum_n exp(s_n)     (v_n: V, or the latent part)
// Split s covers keys [s * split_len, (s + 1) * split_len) (the last split: up to ctx_b); each split
// writes its normalized output and its natural-log LSE; merge_splits_kernel (merge_splits.cu)
// combines them:
//   lse = log sum_s exp(lse_s),  o = sum_s exp(lse_s - lse) o_s.
//
// Tile plan of one CTA: kTileM query rows of one KV head, a row being a (new token, query head)
// pair: the q_tokens x group rows of a GQA group, or of the latent's heads, in token-major order
// (row t * group + h), so the new tokens fill the M dimension and a KV tile is still read once
// per (sequence, KV head, row block); more rows use several blocks. Keys stream in tiles of
// kTileN through a kStages-deep cp.async pipeline. Warps form a kWarpsM x kWarpsN grid: warp
// (m, n) owns query rows [16m, 16m + 16), computes scores for keys [n * kTileN / kWarpsN, ...)
// of the tile and the output columns [n * d_v / kWarpsN, ...). Scores and P . V run on mma.sync
// m16n8k16 (bf16 in, fp32 acc).
// Per tile: (1) S = Q K^T on the warp's key slice; (2) row max exchanged through shared memory
// (one barrier); (3) P = exp2(S - m) written to shared memory as bf16 (one barrier); (4) O += P V.
// The online-softmax state of a row: m (running max, log2 units of the scaled score), l (this
// thread's share of sum exp2(s - m); the shares of a row's threads and warps add up at the end),
// O (fp32 accumulators, rescaled by exp2(m_old - m_new) when m grows).
//
// Nothing past ctx_b is used. cp.async plans read nothing there: rows at or past the end are
// zero-filled in shared memory with a zero source size (their scores are masked to -inf, and the
// zeros keep 0 * NaN out of P V), and page-table entries past the end are never dereferenced.
// Bulk-copy plans (kBulk) read the last tile whole and zero its V rows past the end in shared
// memory. H200 (reports/kernels/h200/bulk_copy/): GQA TP8 batch 1 at 1M 0.82 of the read ceiling
// with bulk copies against 0.69 with cp.async, batch 8 0.91 against 0.75.
#pragma once
#include <cuda_bf16.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/kernel_table.h"
#include "kernels/cuda_util/mma_primitives.cuh"
#include "kernels/cuda_util/tma_primitives.cuh"
#include "kernels/decode_params.h"

namespace attnroof::kernels::cuda {

using bf16 = __nv_bfloat16;

inline constexpr float kLog2e = 1.4426950408889634f;
inline constexpr float kLn2 = 0.6931471805599453f;

// kBulk (separate K/V only): the K and V tiles come through the bulk-copy engine (thread 0 arms
// the stage's transaction barrier and issues (d_qk + d_v) / 64 tensor copies; BulkCopyDecodeArgs
// carries the two tensor maps). The tiles are then dense in the 128-byte swizzle the copies write
// (swizzle128_offset, tma_primitives.cuh) instead of padded rows, and the fragment loads address
// them through it (still conflict-free: the 8 rows of an ldmatrix hit 8 different chunks).
template <KernelFamily kFamily_, int kDqk_, int kDv_, int kWarpsM_, int kWarpsN_, int kTileN_,
          int kStages_, bool kBulk_ = false>
struct DecodeTile {
  static constexpr KernelFamily kFamily = kFamily_;
  static constexpr int kDqk = kDqk_, kDv = kDv_, kWarpsM = kWarpsM_, kWarpsN = kWarpsN_;
  static constexpr int kTileN = kTileN_, kStages = kStages_;
  static constexpr bool kShared = kFamily == KernelFamily::shared_latent;
  static constexpr bool kBulk = kBulk_;
  static constexpr int kThreads = 32 * kWarpsM * kWarpsN;
  static constexpr int kTileM = 16 * kWarpsM;
  // +8 elements (16 B) per row: the 8 rows an ldmatrix reads start in 8 different 16-byte bank
  // groups, so fragment loads are conflict-free without a swizzle.
  static constexpr int kKStride = kDqk + 8;
  static constexpr int kVStride = kShared ? kKStride : kDv + 8;
  static constexpr int kPStride = kTileN + 8;
  static constexpr int kKeysPerWarp = kTileN / kWarpsN;
  static constexpr int kDvPerWarp = kDv / kWarpsN;
  static constexpr int kSBlocks = kKeysPerWarp / 8;  // n8 blocks of scores per warp
  static constexpr int kOBlocks = kDvPerWarp / 8;    // n8 blocks of output per warp
  static constexpr int kKSteps = kDqk / 16;
  // Q fragments stay in registers when they fit beside the accumulators (d_qk <= 320: at most
  // 80 registers); MLA's 576 would take 144, so it re-reads Q from shared memory.
  static constexpr bool kQInRegs = kDqk <= 320;
  static constexpr int kQElems = kTileM * kKStride;
  static constexpr int kStageElems =
      kBulk ? kTileN * (kDqk + kDv) : kTileN * (kKStride + (kShared ? 0 : kVStride));
  static constexpr int kPElems = kTileM * kPStride;
  // kBulk: +1024 to align the stages to the swizzle atom, and a barrier per stage.
  static constexpr int kSmemBytes = (kBulk ? 1024 + 8 * kStages : 0) +
                                    2 * (kQElems + kStages * kStageElems + kPElems) +
                                    4 * kWarpsN * kTileM;

  static_assert(kDqk % 16 == 0 && kDv % 16 == 0, "head dims are multiples of the mma k (16)");
  static_assert(!kShared || kDv < kDqk, "latent: V is a strict prefix of the row");
  static_assert(kTileN % 16 == 0, "P . V steps over keys 16 at a time");
  static_assert(kKeysPerWarp % 8 == 0, "score slices are whole n8 blocks");
  static_assert(kDvPerWarp % 16 == 0, "output slices are pairs of n8 blocks (ldmatrix.x4.trans)");
  static_assert(kThreads <= 1024, "block size");
  static_assert(kStages >= 2, "pipeline needs at least double buffering");
  static_assert(kSmemBytes <= 227 * 1024, "shared memory per block on sm_90");
  static_assert(!kBulk || (!kShared && kDqk % 64 == 0 && kDv % 64 == 0),
                "bulk copies: separate K/V, rows of whole 128-byte swizzle spans");
};

// grid: (head_blocks, n_splits, batch * kv_heads)   block: Tile::kThreads
// shared: q [kTileM][kKStride] | kStages x (k [kTileN][kKStride] | v [kTileN][kVStride]) |
//         p [kTileM][kPStride] (bf16) | red [kWarpsN][kTileM] (fp32)
//   kBulk: kStages x (k | v, each [kTileN] rows swizzled, 1024-aligned) | q | p | red |
//          barriers [kStages] (u64)
// maps: the K and V tensor maps (kBulk; kernel parameter space), else nullptr.
template <class Tile>
__device__ __forceinline__ void split_kv_decode_body(const DecodeParams& p, const void* k_map,
                                                     const void* v_map) {
  constexpr int kTileM = Tile::kTileM, kTileN = Tile::kTileN, kStages = Tile::kStages;
  constexpr int kKStride = Tile::kKStride, kVStride = Tile::kVStride, kPStride = Tile::kPStride;
  constexpr int kKeysPerWarp = Tile::kKeysPerWarp, kDvPerWarp = Tile::kDvPerWarp;
  constexpr int kThreads = Tile::kThreads;

  extern __shared__ __align__(128) unsigned char smem_raw[];
  bf16* q_s;
  bf16* kv_s;
  if constexpr (Tile::kBulk) {
    kv_s = reinterpret_cast<bf16*>(smem_raw + ((1024u - (smem_addr(smem_raw) & 1023u)) & 1023u));
    q_s = kv_s + kStages * Tile::kStageElems;
  } else {
    q_s = reinterpret_cast<bf16*>(smem_raw);
    kv_s = q_s + Tile::kQElems;
  }
  bf16* p_s = Tile::kBulk ? q_s + Tile::kQElems : kv_s + kStages * Tile::kStageElems;
  float* red_s = reinterpret_cast<float*>(p_s + Tile::kPElems);
  // kBulk: the stages' transaction barriers (8-byte aligned).
  BulkCopyPipeline<kStages> bulk{.bar0 = smem_addr(red_s + Tile::kWarpsN * kTileM)};

  const int tid = static_cast<int>(threadIdx.x);
  const int lane = tid % 32, warp = tid / 32;
  const int wm = warp / Tile::kWarpsN, wn = warp % Tile::kWarpsN;
  const int g = lane / 4, t4 = lane % 4;

  const int head_block = static_cast<int>(blockIdx.x);
  const int split = static_cast<int>(blockIdx.y);
  const int b = static_cast<int>(blockIdx.z) / p.kv_heads;
  const int kvh = static_cast<int>(blockIdx.z) % p.kv_heads;
  const int group = p.q_heads / p.kv_heads;
  const int group_rows = p.q_tokens * group;         // (token, head) rows of this KV head
  const int row0 = head_block * kTileM;              // first row of this CTA
  const int rows = min(kTileM, group_rows - row0);   // valid query rows of the tile
  // Row r of the tile is token (row0 + r) / group, head kvh * group + (row0 + r) % group; its
  // index among the sequence's q_tokens x q_heads rows (the q, o and lse layouts):
  auto seq_row = [&](int r) {
    const int gr = row0 + r;
    return (gr / group) * p.q_heads + kvh * group + gr % group;
  };
  const int64_t q_rows = int64_t(p.q_tokens) * p.q_heads;

  // Keys of this split, clamped to what the cache holds so no index runs past the buffers.
  const bool paged = p.page_table != nullptr;
  const int64_t capacity =
      paged ? int64_t(p.max_pages_per_seq) * p.page_size : p.max_ctx_len;
  const int64_t ctx = min(int64_t(max(p.ctx_lens[b], 0)), capacity);
  const int64_t begin = int64_t(split) * p.split_len;
  const int64_t end = split == p.n_splits - 1 ? ctx : min(ctx, begin + p.split_len);
  const int n_tiles = end > begin ? static_cast<int>((end - begin + kTileN - 1) / kTileN) : 0;
  const int page_shift = paged ? __ffs(p.page_size) - 1 : 0;  // page_size is a power of two
  // Keys this thread's two rows (wm * 16 + g, + 8) may score: token j sees keys below
  // ctx - q_tokens + 1 + j, and none of this split's past `end`.
  int64_t key_end[2];
#pragma unroll
  for (int h = 0; h < 2; ++h)
    key_end[h] = min(end, ctx - p.q_tokens + 1 + (row0 + wm * 16 + g + 8 * h) / group);

  const bf16* k_base = static_cast<const bf16*>(p.k_cache) + int64_t(kvh) * p.d_qk;
  const bf16* v_base = Tile::kShared ? k_base
                                     : static_cast<const bf16*>(p.v_cache) + int64_t(kvh) * p.d_v;
  const int64_t k_row_elems = int64_t(p.kv_heads) * p.d_qk;
  const int64_t v_row_elems = int64_t(p.kv_heads) * p.d_v;
  const int* page_row = paged ? p.page_table + int64_t(b) * p.max_pages_per_seq : nullptr;

  auto physical_row = [&](int64_t pos) -> int64_t {
    if (!paged) return int64_t(b) * p.max_ctx_len + pos;
    return int64_t(__ldg(page_row + (pos >> page_shift))) * p.page_size +
           (pos & (p.page_size - 1));
  };

  // kBulk, thread 0: tile `tile` into stage `stage` as (d_qk + d_v) / 64 boxes of 64 columns x
  // kTileN rows (a tile never crosses a page: launch_decode). The rows past the sequence's end
  // in its last tile are read (same page, or the contiguous cache's reserved rows, or zero past
  // the map's extent); their V rows are zeroed before use (below), their scores masked.
  auto bulk_load_tile = [&](int tile, int stage, int64_t page_entry, uint32_t bar) {
    const int64_t pos = begin + int64_t(tile) * kTileN;
    const int32_t row = static_cast<int32_t>(
        paged ? page_entry * p.page_size + (pos & (p.page_size - 1)) : int64_t(b) * p.max_ctx_len + pos);
    const uint32_t ks = smem_addr(kv_s + stage * Tile::kStageElems);
    const uint32_t vs = ks + kTileN * Tile::kDqk * 2;
    mbarrier_arrive_expect_tx(bar, Tile::kStageElems * 2);
#pragma unroll
    for (int c = 0; c < Tile::kDqk / 64; ++c)
      tma_load_2d(ks + c * kTileN * 128, k_map, kvh * Tile::kDqk + c * 64, row, bar);
#pragma unroll
    for (int c = 0; c < Tile::kDv / 64; ++c)
      tma_load_2d(vs + c * kTileN * 128, v_map, kvh * Tile::kDv + c * 64, row, bar);
  };
  auto tile_page = [&](int tile) -> int64_t {  // kBulk: the page entry of a tile (0: contiguous)
    const int64_t pos = begin + int64_t(tile) * kTileN;
    return tile < n_tiles && paged ? int64_t(__ldg(page_row + (pos >> page_shift))) : 0;
  };

  // Issues the cp.async copies of tile `tile` into pipeline stage `stage`.
  auto load_tile = [&](int tile, int stage) {
    bf16* ks = kv_s + stage * Tile::kStageElems;
    const int64_t key0 = begin + int64_t(tile) * kTileN;
    constexpr int kKChunks = Tile::kDqk / 8;
#pragma unroll 4
    for (int c = tid; c < kTileN * kKChunks; c += kThreads) {
      const int r = c / kKChunks, col = c % kKChunks;
      const int64_t pos = key0 + r;
      const bool valid = pos < end;
      const bf16* src = valid ? k_base + physical_row(pos) * k_row_elems + col * 8 : k_base;
      cp_async_16(smem_addr(ks + r * kKStride + col * 8), src, valid);
    }
    if constexpr (!Tile::kShared) {
      bf16* vs = ks + kTileN * kKStride;
      constexpr int kVChunks = Tile::kDv / 8;
#pragma unroll 4
      for (int c = tid; c < kTileN * kVChunks; c += kThreads) {
        const int r = c / kVChunks, col = c % kVChunks;
        const int64_t pos = key0 + r;
        const bool valid = pos < end;
        const bf16* src = valid ? v_base + physical_row(pos) * v_row_elems + col * 8 : v_base;
        cp_async_16(smem_addr(vs + r * kVStride + col * 8), src, valid);
      }
    }
  };

  // Q rows of this CTA (zero past the group's rows), in the same commit group as tile 0.
  {
    constexpr int kQChunks = Tile::kDqk / 8;
    const bf16* q_base = static_cast<const bf16*>(p.q) + int64_t(b) * q_rows * p.d_qk;
    for (int c = tid; c < kTileM * kQChunks; c += kThreads) {
      const int r = c / kQChunks, col = c % kQChunks;
      const bool valid = r < rows;
      const bf16* src = valid ? q_base + int64_t(seq_row(r)) * p.d_qk + col * 8 : q_base;
      cp_async_16(smem_addr(q_s + r * kKStride + col * 8), src, valid);
    }
  }
  if constexpr (Tile::kBulk) {
    cp_async_commit();
    if (tid == 0) bulk.start(n_tiles, bulk_load_tile, tile_page);
    cp_async_wait<0>();  // Q
    __syncthreads();     // Q, and the barriers initialized before anyone waits on them
  } else {
#pragma unroll
    for (int s = 0; s < kStages - 1; ++s) {
      if (s < n_tiles) load_tile(s, s);
      cp_async_commit();  // empty groups keep the group count uniform
    }
  }

  float o_acc[Tile::kOBlocks][4];
#pragma unroll
  for (int ob = 0; ob < Tile::kOBlocks; ++ob)
#pragma unroll
    for (int j = 0; j < 4; ++j) o_acc[ob][j] = 0.f;
  float m_run[2] = {-INFINITY, -INFINITY};  // rows g and g + 8
  float l_run[2] = {0.f, 0.f};
  uint32_t q_frag[Tile::kQInRegs ? Tile::kKSteps : 1][4];
  const float scale_log2 = p.softmax_scale * kLog2e;

  for (int it = 0; it < n_tiles; ++it) {
    const bf16* ks = kv_s + (it % kStages) * Tile::kStageElems;
    const bf16* vs = Tile::kShared ? ks : ks + kTileN * (Tile::kBulk ? Tile::kDqk : kKStride);
    if constexpr (Tile::kBulk) {
      bulk.wait(it);
      const int valid = static_cast<int>(min(int64_t(kTileN), end - (begin + int64_t(it) * kTileN)));
      if (valid < kTileN) {  // the sequence's last tile: V rows past its end to zero (0 * NaN)
        constexpr int kVChunks = Tile::kDv / 8;
        for (int c = tid; c < (kTileN - valid) * kVChunks; c += kThreads) {
          const int r = valid + c / kVChunks;
          *reinterpret_cast<uint4*>(reinterpret_cast<unsigned char*>(const_cast<bf16*>(vs)) +
                                    swizzle128_offset<kTileN>(r, c % kVChunks)) = make_uint4(0, 0, 0, 0);
        }
      }
      __syncthreads();  // tile `it` complete and patched; stage (it - 1) % kStages free
      if (tid == 0) bulk.refill(it, n_tiles, bulk_load_tile, tile_page);
    } else {
      cp_async_wait<kStages - 2>();
      __syncthreads();  // tile `it` visible to all; stage (it - 1) % kStages free for reuse
      const int next = it + kStages - 1;
      if (next < n_tiles) load_tile(next, next % kStages);
      cp_async_commit();
    }

    if constexpr (Tile::kQInRegs) {
      if (it == 0) {
#pragma unroll
        for (int kk = 0; kk < Tile::kKSteps; ++kk)
          ldmatrix_x4(q_frag[kk],
                      smem_addr(q_s + (wm * 16 + lane % 16) * kKStride + kk * 16 + (lane / 16) * 8));
      }
    }

    // (1) S = Q K^T: rows wm*16.., keys wn*kKeysPerWarp..
    float s[Tile::kSBlocks][4];
#pragma unroll
    for (int nb = 0; nb < Tile::kSBlocks; ++nb)
#pragma unroll
      for (int j = 0; j < 4; ++j) s[nb][j] = 0.f;
    const bf16* k_warp = ks + wn * kKeysPerWarp * kKStride;
#pragma unroll
    for (int kk = 0; kk < Tile::kKSteps; ++kk) {
      uint32_t a[4];
      if constexpr (Tile::kQInRegs) {
#pragma unroll
        for (int j = 0; j < 4; ++j) a[j] = q_frag[kk][j];
      } else {
        ldmatrix_x4(a, smem_addr(q_s + (wm * 16 + lane % 16) * kKStride + kk * 16 + (lane / 16) * 8));
      }
#pragma unroll
      for (int nb = 0; nb + 1 < Tile::kSBlocks; nb += 2) {
        uint32_t bk[4];
        const int kr = nb * 8 + (lane / 16) * 8 + lane % 8, kc = kk * 2 + (lane / 8) % 2;
        ldmatrix_x4(bk, Tile::kBulk ? smem_addr(ks) + swizzle128_offset<kTileN>(wn * kKeysPerWarp + kr, kc)
                                    : smem_addr(k_warp + kr * kKStride + kc * 8));
        mma_bf16_16816(s[nb], a, bk[0], bk[1]);
        mma_bf16_16816(s[nb + 1], a, bk[2], bk[3]);
      }
      if constexpr (Tile::kSBlocks % 2 == 1) {
        constexpr int nb = Tile::kSBlocks - 1;
        uint32_t bk[2];
        const int kr = nb * 8 + lane % 8, kc = kk * 2 + (lane / 8) % 2;
        ldmatrix_x2(bk, Tile::kBulk ? smem_addr(ks) + swizzle128_offset<kTileN>(wn * kKeysPerWarp + kr, kc)
                                    : smem_addr(k_warp + kr * kKStride + kc * 8));
        mma_bf16_16816(s[nb], a, bk[0], bk[1]);
      }
    }

    // (2) scale to log2 units, mask keys past each row's end, exchange the row max.
    const int64_t key_base = begin + int64_t(it) * kTileN + wn * kKeysPerWarp;
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nb = 0; nb < Tile::kSBlocks; ++nb)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int64_t key = key_base + nb * 8 + 2 * t4 + (j & 1);
        const float v = key < key_end[j >> 1] ? s[nb][j] * scale_log2 : -INFINITY;
        s[nb][j] = v;
        mx[j >> 1] = fmaxf(mx[j >> 1], v);
      }
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 1));
      mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 2));
    }
    if (t4 == 0) {
      red_s[wn * kTileM + wm * 16 + g] = mx[0];
      red_s[wn * kTileM + wm * 16 + g + 8] = mx[1];
    }
    __syncthreads();
    float alpha[2], m_use[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float tile_max = -INFINITY;
#pragma unroll
      for (int w = 0; w < Tile::kWarpsN; ++w)
        tile_max = fmaxf(tile_max, red_s[w * kTileM + wm * 16 + g + 8 * h]);
      const float m_new = fmaxf(m_run[h], tile_max);
      // A row with no key yet keeps m = -inf; subtracting 0 instead keeps exp2(-inf - -inf) out.
      m_use[h] = m_new == -INFINITY ? 0.f : m_new;
      alpha[h] = exp2f(m_run[h] - m_use[h]);  // 0 when m_run was -inf
      m_run[h] = m_new;
    }

    // (3) P = exp2(S - m) -> shared memory (bf16); l and O rescaled.
    float row_sum[2] = {0.f, 0.f};
#pragma unroll
    for (int nb = 0; nb < Tile::kSBlocks; ++nb) {
      const float p0 = exp2f(s[nb][0] - m_use[0]), p1 = exp2f(s[nb][1] - m_use[0]);
      const float p2 = exp2f(s[nb][2] - m_use[1]), p3 = exp2f(s[nb][3] - m_use[1]);
      row_sum[0] += p0 + p1;
      row_sum[1] += p2 + p3;
      const int col = wn * kKeysPerWarp + nb * 8 + 2 * t4;
      *reinterpret_cast<uint32_t*>(p_s + (wm * 16 + g) * kPStride + col) = pack_bf16x2(p0, p1);
      *reinterpret_cast<uint32_t*>(p_s + (wm * 16 + g + 8) * kPStride + col) = pack_bf16x2(p2, p3);
    }
#pragma unroll
    for (int h = 0; h < 2; ++h) l_run[h] = l_run[h] * alpha[h] + row_sum[h];
#pragma unroll
    for (int ob = 0; ob < Tile::kOBlocks; ++ob) {
      o_acc[ob][0] *= alpha[0];
      o_acc[ob][1] *= alpha[0];
      o_acc[ob][2] *= alpha[1];
      o_acc[ob][3] *= alpha[1];
    }
    __syncthreads();  // P of the whole tile visible

    // (4) O += P V: rows wm*16.., output columns wn*kDvPerWarp..
#pragma unroll
    for (int kk = 0; kk < kTileN / 16; ++kk) {
      uint32_t a[4];
      ldmatrix_x4(a, smem_addr(p_s + (wm * 16 + lane % 16) * kPStride + kk * 16 + (lane / 16) * 8));
#pragma unroll
      for (int ob = 0; ob < Tile::kOBlocks; ob += 2) {
        uint32_t bv[4];
        const int vr = kk * 16 + lane % 8 + ((lane / 8) % 2) * 8;
        const int vc = wn * kDvPerWarp + ob * 8 + (lane / 16) * 8;  // element column
        ldmatrix_x4_trans(bv, Tile::kBulk ? smem_addr(vs) + swizzle128_offset<kTileN>(vr, vc / 8)
                                          : smem_addr(vs + vr * kVStride + vc));
        mma_bf16_16816(o_acc[ob], a, bv[0], bv[1]);
        mma_bf16_16816(o_acc[ob + 1], a, bv[2], bv[3]);
      }
    }
  }
  cp_async_wait<0>();  // only empty groups can be pending here

  // Row sums: the 4 threads of a quad, then the kWarpsN warps of a row block.
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    l_run[h] += __shfl_xor_sync(0xffffffffu, l_run[h], 1);
    l_run[h] += __shfl_xor_sync(0xffffffffu, l_run[h], 2);
  }
  __syncthreads();  // red_s is free (also when the loop ran no tile)
  if (t4 == 0) {
    red_s[wn * kTileM + wm * 16 + g] = l_run[0];
    red_s[wn * kTileM + wm * 16 + g + 8] = l_run[1];
  }
  __syncthreads();

#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int r = wm * 16 + g + 8 * h;
    if (r >= rows) continue;
    float l = 0.f;
#pragma unroll
    for (int w = 0; w < Tile::kWarpsN; ++w) l += red_s[w * kTileM + r];
    // An empty split (or ctx 0) has l = 0: output 0 and lse -inf, never 0/0.
    const float inv = l > 0.f ? 1.f / l : 0.f;
    const float lse = l > 0.f ? (m_run[h] + log2f(l)) * kLn2 : -INFINITY;
    const int64_t row = seq_row(r);
    if (p.n_splits == 1) {
      bf16* o_row = static_cast<bf16*>(p.o) + (int64_t(b) * q_rows + row) * p.d_v;
#pragma unroll
      for (int ob = 0; ob < Tile::kOBlocks; ++ob) {
        const int col = wn * kDvPerWarp + ob * 8 + 2 * t4;
        *reinterpret_cast<uint32_t*>(o_row + col) =
            pack_bf16x2(o_acc[ob][2 * h] * inv, o_acc[ob][2 * h + 1] * inv);
      }
      if (p.lse != nullptr && wn == 0 && t4 == 0) p.lse[int64_t(b) * q_rows + row] = lse;
    } else {
      const int64_t slot = (int64_t(b) * p.n_splits + split) * q_rows + row;
      float* o_row = p.o_partial + slot * p.d_v;
#pragma unroll
      for (int ob = 0; ob < Tile::kOBlocks; ++ob) {
        const int col = wn * kDvPerWarp + ob * 8 + 2 * t4;
        *reinterpret_cast<float2*>(o_row + col) =
            make_float2(o_acc[ob][2 * h] * inv, o_acc[ob][2 * h + 1] * inv);
      }
      if (wn == 0 && t4 == 0) p.lse_partial[slot] = lse;
    }
  }
}

template <class Tile>
__global__ void __launch_bounds__(Tile::kThreads, 1)
    split_kv_decode_kernel(const __grid_constant__ DecodeParams p) {
  split_kv_decode_body<Tile>(p, nullptr, nullptr);
}
template <class Tile>
__global__ void __launch_bounds__(Tile::kThreads, 1)
    split_kv_decode_bulk_kernel(const __grid_constant__ BulkCopyDecodeArgs a) {
  split_kv_decode_body<Tile>(a.p, &a.cache_rows, &a.v_rows);
}

template <class Tile>
DecodeKernelEntry make_entry(const char* name, int alternative = 0) {
  DecodeKernelEntry e{
      .shape = DecodeShape{.family = Tile::kFamily, .d_qk = Tile::kDqk, .d_v = Tile::kDv},
      .tile_m = Tile::kTileM,
      .tile_n = Tile::kTileN,
      .stages = Tile::kStages,
      .threads = Tile::kThreads,
      .smem_bytes = Tile::kSmemBytes,
      .name = name,
      .kernel = nullptr,
  };
  if constexpr (Tile::kBulk) e.bulk_kernel = &split_kv_decode_bulk_kernel<Tile>;
  else e.kernel = &split_kv_decode_kernel<Tile>;
  e.alternative = alternative;
  return e;
}

}  // namespace attnroof::kernels::cuda

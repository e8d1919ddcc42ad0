// Shared-latent decode on Hopper warpgroup MMA (wgmma, sm_90a): MLA (576/512), a GLA-2 shard
// (320/256) and the MLRA-4 / MLRA-2 / TPLA shards (192/128), 17..128 query heads (64-row head
// blocks). Compiled for sm_90a only (kernels/cuda/CMakeLists.txt); launch_decode picks it on
// compute capability 9.0 for the 64-row latent tiles (KernelChoice::wgmma false falls back to the
// mma.sync kernels of shared_latent_decode.cu).
//
// Math: as shared_latent_decode.cu / split_kv_decode.cuh (same DecodeParams contract: per-split
// normalized partials and natural-log LSE merged by merge_splits.cu; ctx 0 gives o = 0 and
// lse = -inf; nothing at or past ctx_len is read; paged and contiguous caches; q_tokens new
// tokens per sequence fold into the rows, token-major: row t * q_heads + h, causal among them).
//
// Tile plan: one CTA = 64 query rows x one split; 2 warpgroups (256 threads), one CTA per SM
// (MLA, GLA-2), or, for 192/128, 1 warpgroup (128 threads) holding the whole d_v with 2 CTAs per SM
// (kWarpgroups = 1: S computed once, no cross-warpgroup lockstep; the two CTAs interleave).
// Shared memory: Q [64 x d_qk] loaded once, kStages stages of kTileN cache rows [d_qk], all in
// the 128-byte swizzled layout the wgmma descriptors read (wgmma_primitives.cuh): a row of d_qk
// is d_qk / 64 column blocks of 128 B; block c of a tile of R rows starts at c * R * 128 B.
// Per tile (each warpgroup):
//   (1) S = Q K^T: wgmma m64 n(kSKeys) k16, A = Q and B = the tile rows this warpgroup scores
//       (both K-major, shared memory), d_qk / 16 steps. Split S (kSplitS, the 2-warpgroup
//       defaults): warpgroup w scores keys [w, w + 1) * kTileN / 2; the row maxima cross through
//       shared memory (one barrier) and so do the bf16 P fragments (one barrier; thread i of one
//       warpgroup holds the same fragment positions as thread i of the other), and the row sums
//       add up at the end. Without it each warpgroup computes the whole S (QK^T work done twice,
//       no exchange).
//   (2) online softmax in registers: 4 threads per row, two quad shuffles for the row max;
//       P = exp2(S - m) rounded to bf16 (as the mma.sync kernel).
//   (3) O += P V: wgmma m64 n(d_v / kWarpgroups) k16, A = P from registers (the S accumulator
//       layout is the A fragment layout), B = the latent columns [wg * d_v / kWarpgroups, ...) of
//       the same tile through an N-major (transposed) descriptor.
// Loads, kStages - 1 tiles in flight, two ways (one template, kBulk):
//   bulk copy (the defaults): thread 0 arms the stage's transaction barrier and issues d_qk / 64
//     tensor copies (TMA) of 64 columns x kTileN rows, which land in the swizzled layout; every
//     thread waits on the barrier's phase. The issue slots the cp.async loop took go to the
//     math. Rows past the sequence's end in its last tile are read (same page) and zeroed in
//     shared memory. The launcher falls back to the cp.async twin where a tile could cross a page
//     (a hand-set split_len) or the rows overflow the 32-bit coordinate.
//   cp.async (the round-5 plans, alternative 1): 16 B per thread into the swizzled layout
//     (zero-fill past the end, page-table entries past the end never read); kTpr threads per
//     cache row (8: whole 128-byte lines); fence.proxy.async before the barrier that publishes
//     a stage to the tensor cores.
//
// Tile plans (table at the end): 576/512 and 320/256 the seesaw over pairs of 64-key tiles (2
// stages, each 64-column part of a stage on its own barrier and refilled by its last reader:
// latent_seesaw_body, its comment); 192/128 64 x 3 with 1 warpgroup, 2 CTAs/SM (the body above,
// which the lockstep alternatives of 576/512 and 320/256 also run).
//
// What it achieves (one H200, shipped defaults, 2026-12-04): batch 1 paged at 512K / 1M / 2M,
// fraction of the read ceiling measured in the same run: MLA 0.768 / 0.786 / 0.888, GLA-2 TP2
// 0.628 / 0.710 / 0.744, MLRA-4 TP4 0.643 / 0.741 / 0.802 (reports/kernels/h200/targets/; what
// limits them: reports/kernels/h200/b1_limits/). Compute-bound, MLA-128 batch 64 x 8K: 585
// TFLOP/s, the tensor pipe busy 64% of the cycles (reports/kernels/h200/score_order/).
// FlashMLA (9241ae3) timed beside it over 46 MLA points: ours / FlashMLA 1.048 in the median,
// 0.48-0.75 at batch 1 and 8K-64K, up to 1.21 at 128 heads and batch >= 16
// (reports/kernels/h200/flashmla_side_by_side/). Round by round: reports/kernels/HISTORY.md.
#include <cuda_bf16.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/kernel_table.h"
#include "kernels/cuda_util/mma_primitives.cuh"
#include "kernels/cuda_util/tma_primitives.cuh"
#include "kernels/cuda_util/wgmma_primitives.cuh"
#include "kernels/decode_params.h"

namespace attnroof::kernels::cuda {

namespace {

using bf16 = __nv_bfloat16;
constexpr float kLog2eW = 1.4426950408889634f;
constexpr float kLn2W = 0.6931471805599453f;

// kWarpgroups 2: the warpgroups split d_v in halves (lockstep); without kSplitS both compute the
// whole S.
// kWarpgroups 1: one warpgroup per CTA holds the full d_v (S computed once, no cross-warpgroup
// barrier); kMinBlocks CTAs share an SM, their S / softmax / P V phases interleave.
// kTpr: threads per cache row in the loads (0: kThreads / kTileN, one row per thread and tile);
// a warp's cp.async covers 32 / kTpr rows x kTpr * 16 contiguous bytes.
// kSplitS (2 warpgroups only): warpgroup w computes the scores of keys [w, w + 1) * kTileN / 2 of
// each tile (half the Q K^T work of the duplicated S); the row max and P cross through shared
// memory (two more barriers per tile), and each warpgroup's row sums add up at the end.
// kBulk: the cache tiles come through the bulk-copy engine (one thread issues d_qk / 64 tensor
// copies per tile, each stage completes on its transaction barrier) instead of every thread's
// cp.async; kTpr is then unused.
template <int kDqk_, int kDv_, int kTileN_, int kStages_, int kWarpgroups_ = 2, int kMinBlocks_ = 1,
          int kTpr_ = 0, bool kSplitS_ = false, bool kBulk_ = false>
struct LatentWgmmaTile {
  static constexpr int kDqk = kDqk_, kDv = kDv_, kTileN = kTileN_, kStages = kStages_;
  static constexpr int kWarpgroups = kWarpgroups_, kMinBlocks = kMinBlocks_;
  static constexpr bool kSplitS = kSplitS_, kBulk = kBulk_;
  static constexpr int kSKeys = kSplitS ? kTileN / 2 : kTileN;  // keys scored per warpgroup
  static constexpr int kThreads = 128 * kWarpgroups, kTileM = 64;
  static constexpr int kTpr = kTpr_ > 0 ? kTpr_ : kThreads / kTileN_;
  static constexpr int kRowsPass = kThreads / kTpr;  // rows one pass of the CTA copies
  static constexpr int kRpt = kTileN_ / kRowsPass;     // rows per thread and tile
  static constexpr int kDvWg = kDv / kWarpgroups;  // output columns per warpgroup
  static constexpr int kKSteps = kDqk / 16;
  static constexpr int kChunks = kDqk / 8;  // 16-byte chunks per row
  static constexpr int kQBytes = kTileM * kDqk * 2;
  static constexpr int kStageBytes = kTileN * kDqk * 2;
  // kSplitS exchange: P fragments [2 wg][kSKeys / 16][4 regs][128 threads] (u32), then the row
  // max and the row sum of each warpgroup [2][64] (fp32).
  static constexpr int kPxWords = 2 * (kSKeys / 16) * 4 * 128;
  static constexpr int kExchangeBytes = kSplitS ? 4 * (kPxWords + 2 * 2 * 64) : 0;
  static constexpr int kBarrierBytes = kBulk ? 8 * kStages : 0;  // one mbarrier per stage
  static constexpr int kSmemBytes = 1024 + kQBytes + kStages * kStageBytes + kExchangeBytes +
                                    kBarrierBytes;  // +1024: alignment
  static constexpr int kSRegs = kSKeys / 2;
  static constexpr int kORegs = kDvWg / 2;
  static_assert(kDqk % 64 == 0, "rows are whole 128-byte swizzle column blocks");
  static_assert(kDvWg == 64 || kDvWg == 128 || kDvWg == 256, "P V wgmma n per warpgroup");
  static_assert(kTileN == 32 || kTileN == 64 || kTileN == 128, "Q K^T wgmma n");
  static_assert(kStages >= 2, "pipeline");
  static_assert(kThreads % kTpr == 0 && kTileN % kRowsPass == 0 && kChunks % kTpr == 0 &&
                    32 % kTpr == 0,
                "each tile row is copied by kTpr threads of one warp, whole chunks each");
  static_assert(kWarpgroups == 1 || kWarpgroups == 2, "warpgroups per CTA");
  static_assert(!kSplitS || (kWarpgroups == 2 && kSKeys >= 16), "split S: two warpgroups, k16 halves");
  static_assert(kSmemBytes <= 227 * 1024, "shared memory per block on sm_90");
  static_assert(kMinBlocks * (kSmemBytes + 1024) <= 228 * 1024, "CTAs per SM by shared memory");
};


// 2^x on the special-function unit (ex2.approx.ftz: ~2 ulp, far inside the bf16 rounding of P;
// -inf gives 0).
__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

template <int kN>
__device__ __forceinline__ void fence_all(float (&r)[kN]) {
#pragma unroll
  for (int i = 0; i < kN; ++i) wgmma_fence_operand(r[i]);
}

// O rows *= f: this thread's two rows (g and g + 8 of its warp) of a wgmma accumulator
// fragment, 4 registers per 8 columns (rows g, g, g + 8, g + 8).
template <int kN>
__device__ __forceinline__ void scale_rows(float (&o)[kN], const float (&f)[2]) {
#pragma unroll
  for (int j = 0; j < kN / 4; ++j) {
    o[4 * j + 0] *= f[0];
    o[4 * j + 1] *= f[0];
    o[4 * j + 2] *= f[1];
    o[4 * j + 3] *= f[1];
  }
}

template <int kN>
__device__ __forceinline__ void wgmma_qk(float (&s)[kN / 2], uint64_t da, uint64_t db, int acc) {
  if constexpr (kN == 32) wgmma_ss_m64n32k16(s, da, db, acc);
  else if constexpr (kN == 64) wgmma_ss_m64n64k16(s, da, db, acc);
  else wgmma_ss_m64n128k16(s, da, db, acc);
}
template <int kN>
__device__ __forceinline__ void wgmma_pv(float (&o)[kN / 2], const uint32_t (&a)[4], uint64_t db) {
  if constexpr (kN == 64) wgmma_rs_m64n64k16_tnspb(o, a, db);
  else if constexpr (kN == 128) wgmma_rs_m64n128k16_tnspb(o, a, db);
  else wgmma_rs_m64n256k16_tnspb(o, a, db);
}

// What one CTA covers: query rows [row0, row0 + rows) of sequence b (q_tokens x q_heads rows,
// token-major) and keys [begin, end) of its split, n_tiles tiles of tile_n keys. Token t sees
// keys below ctx - q_tokens + 1 + t: this thread's rows (warp * 16 + g, + 8) stop at key_end, and
// every row of the CTA scores all keys below mask_from (warp-uniform).
struct LatentSplit {
  int split, b, row0, rows, n_tiles, page_shift;
  int64_t q_rows, begin, end, mask_from;
  int64_t key_end[2];
  bool paged;
  const int* page_row;  // the sequence's page-table row (paged)

  __device__ LatentSplit(const DecodeParams& p, int tile_m, int tile_n, int warp, int g) {
    split = static_cast<int>(blockIdx.y);
    b = static_cast<int>(blockIdx.z);  // kv_heads == 1
    q_rows = int64_t(p.q_tokens) * p.q_heads;
    row0 = static_cast<int>(blockIdx.x) * tile_m;
    rows = min(tile_m, static_cast<int>(q_rows) - row0);
    paged = p.page_table != nullptr;
    const int64_t capacity = paged ? int64_t(p.max_pages_per_seq) * p.page_size : p.max_ctx_len;
    const int64_t ctx = min(int64_t(max(p.ctx_lens[b], 0)), capacity);
    begin = int64_t(split) * p.split_len;
    end = split == p.n_splits - 1 ? ctx : min(ctx, begin + p.split_len);
    n_tiles = end > begin ? static_cast<int>((end - begin + tile_n - 1) / tile_n) : 0;
    page_shift = paged ? __ffs(p.page_size) - 1 : 0;
#pragma unroll
    for (int h = 0; h < 2; ++h)
      key_end[h] = min(end, ctx - p.q_tokens + 1 + (row0 + warp * 16 + g + 8 * h) / p.q_heads);
    mask_from = min(end, ctx - p.q_tokens + 1 + row0 / p.q_heads);
    page_row = paged ? p.page_table + int64_t(b) * p.max_pages_per_seq : nullptr;
  }
  // The page entry of a tile (0: contiguous, or past the split); a tile never crosses a page.
  __device__ int64_t tile_page(int tile, int tile_n) const {
    const int64_t pos = begin + int64_t(tile) * tile_n;
    return tile < n_tiles && paged ? int64_t(__ldg(page_row + (pos >> page_shift))) : 0;
  }
};

// This thread's row maxima over the quad, on the raw scores s of kKeys keys from key s_key0 of
// tile `tile` (scale > 0 keeps the order); keys past a row's end masked to -inf, only in the
// tiles that hold an end (warp-uniform branch: the last tile, and with q_tokens > 1 the tile or
// two before it the new tokens reach).
template <int kKeys>
__device__ __forceinline__ void masked_row_max(const LatentSplit& cta, int tile, int tile_n,
                                               int s_key0, int t4, float (&s)[kKeys / 2],
                                               float (&mx)[2]) {
  const int64_t key_base = cta.begin + int64_t(tile) * tile_n;
  if (key_base + tile_n > cta.mask_from) {
    int valid_keys[2];
#pragma unroll
    for (int h = 0; h < 2; ++h)
      valid_keys[h] =
          static_cast<int>(min(max(cta.key_end[h] - key_base, int64_t(-1)), int64_t(tile_n)));
#pragma unroll
    for (int j = 0; j < kKeys / 8; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        if (s_key0 + j * 8 + 2 * t4 + (e & 1) >= valid_keys[e >> 1]) s[4 * j + e] = -INFINITY;
  }
  mx[0] = mx[1] = -INFINITY;
#pragma unroll
  for (int j = 0; j < kKeys / 8; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) mx[e >> 1] = fmaxf(mx[e >> 1], s[4 * j + e]);
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 1));
    mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 2));
  }
}

// Zeroes rows [valid, kTileN) of a swizzled tile of kTileN rows x kChunks 16-byte chunks at st
// (the rows a bulk copy of the sequence's last tile read past its end), then orders these
// writes before the tensor cores' reads; a thread barrier after it publishes them.
template <int kTileN, int kChunks, int kThreads>
__device__ __forceinline__ void zero_rows_past(uint32_t st, int valid, int tid) {
  for (int c = tid; c < (kTileN - valid) * kChunks; c += kThreads) {
    const int r = valid + c / kChunks;
    asm volatile("st.shared.v4.u32 [%0], {%1, %1, %1, %1};\n" ::"r"(
                     st + swizzle128_offset<kTileN>(r, c % kChunks)),
                 "r"(0u)
                 : "memory");
  }
  fence_proxy_async_smem();
}

// This CTA's Q rows into the swizzled [kTileM x d_qk] tile at q_s through cp.async (zero past
// the sequence's rows); the caller commits the group.
template <int kTileM, int kChunks, int kThreads>
__device__ __forceinline__ void load_q_rows(const DecodeParams& p, const LatentSplit& cta,
                                            uint32_t q_s, int tid) {
  const bf16* q_base =
      static_cast<const bf16*>(p.q) + (int64_t(cta.b) * cta.q_rows + cta.row0) * p.d_qk;
  for (int c = tid; c < kTileM * kChunks; c += kThreads) {
    const int r = c / kChunks, col = c % kChunks;
    const bool valid = r < cta.rows;
    const bf16* src = valid ? q_base + int64_t(r) * p.d_qk + col * 8 : q_base;
    cp_async_16(q_s + swizzle128_offset<kTileM>(r, col), src, valid);
  }
}

// The epilogue: this thread's rows (16 warp + g, + 8) of O / l (its warpgroup's d_v / kWarpgroups
// columns) and their LSE, into o and lse (one split) or this split's partial slots.
template <class Tile>
__device__ __forceinline__ void write_latent_rows(const DecodeParams& p, const LatentSplit& cta,
                                                  const float (&o_acc)[Tile::kORegs],
                                                  const float (&m_run)[2], const float (&l_run)[2],
                                                  int wg, int warp, int g, int t4) {
  const int64_t q_rows = cta.q_rows;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int r = warp * 16 + g + 8 * h;
    if (r >= cta.rows) continue;
    const float l = l_run[h];
    const float inv = l > 0.f ? 1.f / l : 0.f;
    const float lse = l > 0.f ? (m_run[h] + log2f(l)) * kLn2W : -INFINITY;
    const int64_t row = cta.row0 + r;
    const int64_t b = cta.b;
    const int col0 = wg * Tile::kDvWg + 2 * t4;
    if (p.n_splits == 1) {
      bf16* o_row = static_cast<bf16*>(p.o) + (b * q_rows + row) * p.d_v;
#pragma unroll
      for (int j = 0; j < Tile::kORegs / 4; ++j)
        *reinterpret_cast<uint32_t*>(o_row + col0 + 8 * j) =
            pack_bf16x2(o_acc[4 * j + 2 * h] * inv, o_acc[4 * j + 2 * h + 1] * inv);
      if (p.lse != nullptr && wg == 0 && t4 == 0) p.lse[b * q_rows + row] = lse;
    } else {
      const int64_t slot = (b * p.n_splits + cta.split) * q_rows + row;
      float* o_row = p.o_partial + slot * p.d_v;
#pragma unroll
      for (int j = 0; j < Tile::kORegs / 4; ++j)
        *reinterpret_cast<float2*>(o_row + col0 + 8 * j) =
            make_float2(o_acc[4 * j + 2 * h] * inv, o_acc[4 * j + 2 * h + 1] * inv);
      if (wg == 0 && t4 == 0) p.lse_partial[slot] = lse;
    }
  }
}

// grid: (head_blocks, n_splits, batch)   block: Tile::kThreads (128 per warpgroup)   shared:
// Tile::kSmemBytes
// cache_rows: the cache's tensor map (kBulk plans; kernel parameter space), else nullptr.
template <class Tile>
__device__ __forceinline__ void latent_wgmma_body(const DecodeParams& p, const void* cache_rows) {
  constexpr int kTileM = Tile::kTileM, kTileN = Tile::kTileN, kStages = Tile::kStages;
  constexpr int kThreads = Tile::kThreads, kChunks = Tile::kChunks;

  extern __shared__ __align__(1024) unsigned char smem_raw[];
  const uint32_t smem0 = (smem_addr(smem_raw) + 1023u) & ~1023u;
  const uint32_t q_s = smem0;
  const uint32_t kv_s = smem0 + Tile::kQBytes;
  // kSplitS exchange buffers (generic-proxy accesses only).
  uint32_t* const p_x = reinterpret_cast<uint32_t*>(
      smem_raw + (smem0 - smem_addr(smem_raw)) + Tile::kQBytes + kStages * Tile::kStageBytes);
  float* const m_x = reinterpret_cast<float*>(p_x + Tile::kPxWords);
  float* const l_x = m_x + 2 * 64;
  // kBulk: the stages' transaction barriers, past the exchange buffers (8-byte aligned).
  BulkCopyPipeline<kStages> bulk{.bar0 = smem0 + static_cast<uint32_t>(Tile::kQBytes +
                                                                       kStages * Tile::kStageBytes +
                                                                       Tile::kExchangeBytes)};

  const int tid = static_cast<int>(threadIdx.x);
  const int wg = tid / 128, warp = (tid % 128) / 32, lane = tid % 32;
  const int g = lane / 4, t4 = lane % 4;

  const LatentSplit cta(p, kTileM, kTileN, warp, g);
  const int b = cta.b, n_tiles = cta.n_tiles;
  const int64_t begin = cta.begin, end = cta.end;
  const bool paged = cta.paged;

  const bf16* k_base = static_cast<const bf16*>(p.k_cache);
  // Loads: thread tid copies rows lrow0 + r * kRowsPass (r < kRpt) of every tile, chunks lsub,
  // lsub + kTpr, ... (a warp covers 32 / kTpr rows, kTpr * 16 contiguous bytes each). One
  // page-table entry per thread, row and tile, read one iteration ahead of its use, so no
  // cp.async waits on a dependent global load.
  constexpr int kTpr = Tile::kTpr, kRowsPass = Tile::kRowsPass, kRpt = Tile::kRpt;
  const int lrow0 = tid / kTpr, lsub = tid % kTpr;
  using Entries = int64_t[kRpt];
  auto row_entries = [&](int tile, Entries& e) {  // page entry (paged) of each row, or -1
#pragma unroll
    for (int r = 0; r < kRpt; ++r) {
      const int64_t pos = begin + int64_t(tile) * kTileN + lrow0 + r * kRowsPass;
      e[r] = tile >= n_tiles || pos >= end ? -1
             : paged                       ? int64_t(__ldg(cta.page_row + (pos >> cta.page_shift)))
                                           : 0;
    }
  };
  // kBulk: thread 0 copies tile `tile` (whole rows; a tile never crosses a page, see
  // launch_decode) as d_qk / 64 boxes of 64 columns x kTileN rows, column block c to c * kTileN
  // * 128 B: the swizzled layout above. Rows at or past `end` of the sequence's last tile are
  // read (they lie in the same page, or in the reserved rows of a contiguous cache, or past the
  // map's extent, zero-filled) and zeroed in shared memory before use (zero_tail).
  auto bulk_load_tile = [&](int tile, int stage, int64_t page_entry, uint32_t bar) {
    const int64_t pos = begin + int64_t(tile) * kTileN;
    const int64_t row = paged ? page_entry * p.page_size + (pos & (p.page_size - 1))
                              : int64_t(b) * p.max_ctx_len + pos;
    const uint32_t st = kv_s + static_cast<uint32_t>(stage * Tile::kStageBytes);
    mbarrier_arrive_expect_tx(bar, Tile::kStageBytes);
#pragma unroll
    for (int c = 0; c < Tile::kDqk / 64; ++c)
      tma_load_2d(st + static_cast<uint32_t>(c * kTileN * 128), cache_rows, c * 64,
                  static_cast<int32_t>(row), bar);
  };
  auto tile_page = [&](int tile) { return cta.tile_page(tile, kTileN); };  // kBulk
  auto load_tile = [&](int tile, int stage, const Entries& e) {
    const uint32_t st = kv_s + static_cast<uint32_t>(stage * Tile::kStageBytes);
#pragma unroll
    for (int r = 0; r < kRpt; ++r) {
      const int lrow = lrow0 + r * kRowsPass;
      const int64_t pos = begin + int64_t(tile) * kTileN + lrow;
      const bool valid = e[r] >= 0;
      const int64_t phys = !valid  ? 0
                           : paged ? e[r] * p.page_size + (pos & (p.page_size - 1))
                                   : int64_t(b) * p.max_ctx_len + pos;
      const bf16* src_row = k_base + phys * p.d_qk;
#pragma unroll
      for (int k = 0; k < kChunks / kTpr; ++k) {
        const int col = lsub + k * kTpr;
        cp_async_16(st + swizzle128_offset<kTileN>(lrow, col), valid ? src_row + col * 8 : k_base, valid);
      }
    }
  };

  load_q_rows<kTileM, kChunks, kThreads>(p, cta, q_s, tid);  // in the first commit group
  [[maybe_unused]] Entries next_entry;
  if constexpr (Tile::kBulk) {
    cp_async_commit();
    if (tid == 0) bulk.start(n_tiles, bulk_load_tile, tile_page);
    cp_async_wait<0>();        // Q
    fence_proxy_async_smem();  // this thread's Q writes -> the tensor cores
    __syncthreads();           // Q, and the barriers initialized before anyone waits on them
  } else {
#pragma unroll
    for (int s = 0; s < kStages - 1; ++s) {
      if (s < n_tiles) {
        Entries e;
        row_entries(s, e);
        load_tile(s, s, e);
      }
      cp_async_commit();
    }
    row_entries(kStages - 1, next_entry);
  }

  float o_acc[Tile::kORegs];
#pragma unroll
  for (int i = 0; i < Tile::kORegs; ++i) o_acc[i] = 0.f;
  float m_run[2] = {-INFINITY, -INFINITY};  // rows 16 warp + g, + 8
  float l_run[2] = {0.f, 0.f};
  const float scale_log2 = p.softmax_scale * kLog2eW;
  // Column block of this warpgroup's V slice (d_v / kWarpgroups is a multiple of 64).
  const uint32_t v_col_off = static_cast<uint32_t>((wg * Tile::kDvWg / 64) * (kTileN * 128));

  for (int it = 0; it < n_tiles; ++it) {
    const uint32_t st = kv_s + static_cast<uint32_t>((it % kStages) * Tile::kStageBytes);
    if constexpr (Tile::kBulk) {
      // The barrier below also frees the stage every thread finished in the previous iteration:
      // tile it + kStages - 1 goes there.
      bulk.wait(it);
      const int64_t tile_end = begin + int64_t(it + 1) * kTileN;
      if (tile_end > end) {  // the sequence's last tile: zero the rows past its end
        zero_rows_past<kTileN, kChunks, kThreads>(
            st, static_cast<int>(end - (begin + int64_t(it) * kTileN)), tid);
      }
      __syncthreads();
      if (tid == 0) bulk.refill(it, n_tiles, bulk_load_tile, tile_page);
    } else {
      cp_async_wait<kStages - 2>();
      fence_proxy_async_smem();  // this thread's cp.async writes -> visible to the tensor cores
      __syncthreads();
      const int next = it + kStages - 1;
      if (next < n_tiles) load_tile(next, next % kStages, next_entry);
      cp_async_commit();
      row_entries(next + 1, next_entry);
    }

    // (1) S = Q K^T (64 heads x kSKeys keys from key s_key0 of the tile), both operands K-major
    // in shared memory. s_key0 is a multiple of 8 rows: the swizzle phase is unchanged.
    constexpr int kSKeys = Tile::kSKeys;
    const int s_key0 = Tile::kSplitS ? wg * kSKeys : 0;
    float s[Tile::kSRegs];  // the first k step overwrites (scale-d 0)
    fence_all(s);
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < Tile::kKSteps; ++kk) {
      const uint32_t koff = static_cast<uint32_t>((kk % 4) * 32);
      const uint64_t da =
          smem_desc_sw128(q_s + static_cast<uint32_t>((kk / 4) * (kTileM * 128)) + koff, 16, 1024);
      const uint64_t db = smem_desc_sw128(
          st + static_cast<uint32_t>((kk / 4) * (kTileN * 128) + s_key0 * 128) + koff, 16, 1024);
      wgmma_qk<kSKeys>(s, da, db, kk > 0 ? 1 : 0);
    }
    wgmma_commit();
    wgmma_wait<0>();
    fence_all(s);

    // (2) row max, masked past each row's end.
    float mx[2];
    masked_row_max<kSKeys>(cta, it, kTileN, s_key0, t4, s, mx);
    if constexpr (Tile::kSplitS) {  // the row max over both key halves
#pragma unroll
      for (int h = 0; h < 2; ++h)
        if (t4 == 0) m_x[wg * 64 + warp * 16 + g + 8 * h] = mx[h];
      __syncthreads();
#pragma unroll
      for (int h = 0; h < 2; ++h) mx[h] = fmaxf(mx[h], m_x[(1 - wg) * 64 + warp * 16 + g + 8 * h]);
    }
    float alpha[2], m_use[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const float m_new = fmaxf(m_run[h], mx[h] * scale_log2);  // log2 units
      m_use[h] = m_new == -INFINITY ? 0.f : m_new;  // keeps exp2(-inf - -inf) out
      alpha[h] = fast_exp2(m_run[h] - m_use[h]);
      m_run[h] = m_new;
    }

    // P = exp2(scale_log2 s - m) as bf16 A fragments (k16 step kv = score blocks 2kv, 2kv + 1).
    uint32_t pa[kTileN / 16][4];
    float row_sum[2] = {0.f, 0.f};
#pragma unroll
    for (int kv = 0; kv < kSKeys / 16; ++kv)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int j = 2 * kv + half;
        const float p0 = fast_exp2(fmaf(s[4 * j + 0], scale_log2, -m_use[0]));
        const float p1 = fast_exp2(fmaf(s[4 * j + 1], scale_log2, -m_use[0]));
        const float p2 = fast_exp2(fmaf(s[4 * j + 2], scale_log2, -m_use[1]));
        const float p3 = fast_exp2(fmaf(s[4 * j + 3], scale_log2, -m_use[1]));
        row_sum[0] += p0 + p1;
        row_sum[1] += p2 + p3;
        pa[kv][2 * half + 0] = pack_bf16x2(p0, p1);
        pa[kv][2 * half + 1] = pack_bf16x2(p2, p3);
      }
    if constexpr (Tile::kSplitS) {
      // Thread i of a warpgroup holds the same (row, key-in-block) fragment positions as thread i
      // of the other, so the other half's k16 steps are its registers, passed through shared
      // memory ([wg][kv][reg][thread]: conflict-free) and read back in tile key order.
      const int lt = tid % 128;
#pragma unroll
      for (int kv = 0; kv < kSKeys / 16; ++kv)
#pragma unroll
        for (int r = 0; r < 4; ++r) p_x[((wg * (kSKeys / 16) + kv) * 4 + r) * 128 + lt] = pa[kv][r];
      __syncthreads();
#pragma unroll
      for (int kv = 0; kv < kTileN / 16; ++kv)
#pragma unroll
        for (int r = 0; r < 4; ++r) pa[kv][r] = p_x[(kv * 4 + r) * 128 + lt];
    }
#pragma unroll
    for (int h = 0; h < 2; ++h) l_run[h] = l_run[h] * alpha[h] + row_sum[h];
    scale_rows(o_acc, alpha);

    // (3) O += P V: B = latent columns of this warpgroup, N-major (keys 16 per step).
    fence_all(o_acc);
    wgmma_fence();
#pragma unroll
    for (int kv = 0; kv < kTileN / 16; ++kv) {
      const uint64_t db = smem_desc_sw128(st + v_col_off + static_cast<uint32_t>(kv * 16 * 128),
                                          kTileN * 128, 1024);
      wgmma_pv<Tile::kDvWg>(o_acc, pa[kv], db);
    }
    wgmma_commit();
    // Waited here, not at the next barrier: a wgmma group left open across the loop's back edge
    // makes ptxas serialize every wgmma (C7515). The stage is free once both warpgroups pass it.
    wgmma_wait<0>();
    fence_all(o_acc);
  }
  cp_async_wait<0>();  // only empty groups can be pending here

#pragma unroll
  for (int h = 0; h < 2; ++h) {
    l_run[h] += __shfl_xor_sync(0xffffffffu, l_run[h], 1);
    l_run[h] += __shfl_xor_sync(0xffffffffu, l_run[h], 2);
  }
  if constexpr (Tile::kSplitS) {  // each warpgroup summed its own keys (same running max)
#pragma unroll
    for (int h = 0; h < 2; ++h)
      if (t4 == 0) l_x[wg * 64 + warp * 16 + g + 8 * h] = l_run[h];
    __syncthreads();
#pragma unroll
    for (int h = 0; h < 2; ++h) l_run[h] += l_x[(1 - wg) * 64 + warp * 16 + g + 8 * h];
  }
  write_latent_rows<Tile>(p, cta, o_acc, m_run, l_run, wg, warp, g, t4);
}

// The seesaw over pairs of tiles, each stage released in two halves by their last readers (the
// 576/512 and 320/256 defaults). Warpgroup 0 scores the even tile of a pair (K0, stage 0) and holds
// O's left half; warpgroup 1 scores the odd tile (K1, stage 1) and holds the right half; both
// score 64 keys per Q K^T instruction. With m the running max (log2 units), per pair:
//   wg0: m0 = max(m, rowmax S0), a0 = 2^(m - m0); P0 = 2^(S0 - m0); O_L = a0 O_L + P0 V0_L
//   wg1: m1 = max(m0, rowmax S1), a1 = 2^(m0 - m1); P1 = 2^(S1 - m1); O_R = a0 a1 O_R + P1 V1_R
//   wg0: O_L = a1 O_L + P1 V1_L            wg1: O_R += (a1 P0) V0_R
// the online softmax over K0 and K1 at max m1. m0, m1 and P1, then a1 P0 cross through shared
// memory on named barriers, both sides syncing: with the producer only arriving (bar.arrive) the
// times were the same (reports/kernels/h200/seesaw_release/), but compute-sanitizer's racecheck
// does not order such a hand-over and reported every one as a hazard.
// Each 64-column part of a stage has its own transaction barrier. The parts holding V_L (columns
// [0, d_v / 2)) are read last by warpgroup 0 and the others (V_R and the RoPE columns) by
// warpgroup 1, so each warpgroup refills its parts of a stage with the pair after next as soon as
// its own P V on them is done, without waiting for the other: the next pair's copies start
// during this pair's P V instead of after it. Warpgroup 0 scores K0 from V_L on (its own parts,
// refilled first); warpgroup 1 scores K1 from V_R on, V_L last (warpgroup 0 refills V1_L only
// after its P1 V1_L, the last product of the pair).
template <int kDqk_, int kDv_>
struct LatentSeesawTile {
  static constexpr int kDqk = kDqk_, kDv = kDv_, kTileN = 64, kStages = 2, kTileM = 64;
  static constexpr int kMinBlocks = 1, kThreads = 256;  // two warpgroups
  static constexpr bool kBulk = true;
  static constexpr int kParts = kDqk / 64;      // 64-column parts of a tile
  static constexpr int kLeftParts = kDv / 128;  // parts [0, kLeftParts): V_L, warpgroup 0's
  static constexpr int kDvWg = kDv / 2;
  static constexpr int kKSteps = kDqk / 16, kChunks = kDqk / 8;
  static constexpr int kQBytes = kTileM * kDqk * 2, kStageBytes = kTileN * kDqk * 2;
  static constexpr int kPartBytes = kTileN * 128;
  static constexpr int kPxWords = (kTileN / 16) * 4 * 128;  // one P fragment set [kv][reg][thread]
  static constexpr int kExchangeBytes = 4 * (kPxWords + 4 * 64);  // P, then m [2][64], l [2][64]
  static constexpr int kBarrierBytes = 8 * kStages * kParts;
  static constexpr int kSmemBytes =
      1024 + kQBytes + kStages * kStageBytes + kExchangeBytes + kBarrierBytes;
  static constexpr int kSRegs = kTileN / 2, kORegs = kDvWg / 2, kKv = kTileN / 16;
  static_assert(kDqk % 64 == 0 && kDv % 128 == 0 && kDv < kDqk, "V halves are whole parts");
  static_assert(kDvWg == 64 || kDvWg == 128 || kDvWg == 256, "P V wgmma n per warpgroup");
  static_assert(kSmemBytes <= 227 * 1024, "shared memory per block on sm_90");
};

template <class Tile>
constexpr bool kIsSeesaw = false;
template <int kDqk, int kDv>
constexpr bool kIsSeesaw<LatentSeesawTile<kDqk, kDv>> = true;

template <class Tile>
__device__ __forceinline__ void latent_seesaw_body(const DecodeParams& p, const void* cache_rows) {
  constexpr int kTileM = Tile::kTileM, kTileN = Tile::kTileN, kThreads = Tile::kThreads;
  constexpr int kParts = Tile::kParts, kLeft = Tile::kLeftParts, kKv = Tile::kKv;
  constexpr int kChunks = Tile::kChunks;
  constexpr int kBarMax0 = 1, kBarMax1P1 = 2, kBarP0 = 3, kBarWg0 = 4;  // kBarWg0 + wg: one warpgroup

  extern __shared__ __align__(1024) unsigned char smem_raw[];
  const uint32_t smem0 = (smem_addr(smem_raw) + 1023u) & ~1023u;
  const uint32_t q_s = smem0;
  const uint32_t kv_s = smem0 + Tile::kQBytes;
  uint32_t* const p_x = reinterpret_cast<uint32_t*>(
      smem_raw + (smem0 - smem_addr(smem_raw)) + Tile::kQBytes + 2 * Tile::kStageBytes);
  float* const m_x = reinterpret_cast<float*>(p_x + Tile::kPxWords);
  float* const l_x = m_x + 2 * 64;
  const uint32_t bar0 =
      smem0 + static_cast<uint32_t>(Tile::kQBytes + 2 * Tile::kStageBytes + Tile::kExchangeBytes);
  auto part_bar = [&](int stage, int part) {
    return bar0 + static_cast<uint32_t>(8 * (stage * kParts + part));
  };

  const int tid = static_cast<int>(threadIdx.x);
  // Read through a shuffle so the compiler knows it is warp-uniform: a wgmma under a branch it
  // takes for divergent gets serialized (ptxas C7520).
  const int wg = __shfl_sync(0xffffffffu, tid / 128, 0);
  const int warp = (tid % 128) / 32, lane = tid % 32, lt = tid % 128;
  const int g = lane / 4, t4 = lane % 4;
  const LatentSplit cta(p, kTileM, kTileN, warp, g);
  const int b = cta.b, n_tiles = cta.n_tiles;
  const int64_t begin = cta.begin, end = cta.end;
  const bool paged = cta.paged;
  auto tile_page = [&](int tile) { return cta.tile_page(tile, kTileN); };
  // Parts [c0, c1) of tile `tile` into stage tile % 2, each on its part's barrier (the calling
  // thread is that barrier's one arrival). Rows past the sequence's end are read (same page, or
  // zero-filled past the map) and zeroed before use.
  auto load_parts = [&](int tile, int64_t page_entry, int c0, int c1) {
    const int64_t pos = begin + int64_t(tile) * kTileN;
    const int64_t row = paged ? page_entry * p.page_size + (pos & (p.page_size - 1))
                              : int64_t(b) * p.max_ctx_len + pos;
    const int stage = tile & 1;
    const uint32_t st = kv_s + static_cast<uint32_t>(stage * Tile::kStageBytes);
    for (int c = c0; c < c1; ++c) {
      mbarrier_arrive_expect_tx(part_bar(stage, c), Tile::kPartBytes);
      tma_load_2d(st + static_cast<uint32_t>(c * Tile::kPartBytes), cache_rows, c * 64,
                  static_cast<int32_t>(row), part_bar(stage, c));
    }
  };
  // Use k of a stage's part is its barrier's phase k: tile t is use t / 2 of stage t % 2.
  auto wait_part = [&](int tile, int part) {
    mbarrier_wait_parity(part_bar(tile & 1, part), static_cast<uint32_t>((tile >> 1) & 1));
  };

  load_q_rows<kTileM, kChunks, kThreads>(p, cta, q_s, tid);
  cp_async_commit();
  if (tid == 0) {
    for (int i = 0; i < 2 * kParts; ++i) mbarrier_init(bar0 + static_cast<uint32_t>(8 * i), 1);
    mbarrier_init_fence();
    if (n_tiles > 0) load_parts(0, tile_page(0), 0, kParts);
    if (n_tiles > 1) load_parts(1, tile_page(1), 0, kParts);
  }
  cp_async_wait<0>();
  fence_proxy_async_smem();
  __syncthreads();

  float o_acc[Tile::kORegs];
#pragma unroll
  for (int i = 0; i < Tile::kORegs; ++i) o_acc[i] = 0.f;
  float m_run[2] = {-INFINITY, -INFINITY};
  float l_run[2] = {0.f, 0.f};
  const float scale_log2 = p.softmax_scale * kLog2eW;
  const uint32_t v_col_off = static_cast<uint32_t>((wg * Tile::kDvWg / 64) * (kTileN * 128));

  // S = Q K^T over the parts of tile `tile` from part `first` on, wrapping around; each part is
  // waited for before its four k16 steps.
  auto score = [&](int tile, float (&s)[Tile::kSRegs], int first) {
    const uint32_t st = kv_s + static_cast<uint32_t>((tile & 1) * Tile::kStageBytes);
    fence_all(s);
    wgmma_fence();
#pragma unroll
    for (int i = 0; i < Tile::kKSteps; ++i) {
      const int part = (first + i / 4) % kParts, kk = 4 * part + i % 4;
      if (i % 4 == 0) wait_part(tile, part);
      const uint32_t koff = static_cast<uint32_t>((kk % 4) * 32);
      const uint64_t da =
          smem_desc_sw128(q_s + static_cast<uint32_t>((kk / 4) * (kTileM * 128)) + koff, 16, 1024);
      const uint64_t db =
          smem_desc_sw128(st + static_cast<uint32_t>((kk / 4) * (kTileN * 128)) + koff, 16, 1024);
      wgmma_qk<kTileN>(s, da, db, i > 0 ? 1 : 0);
    }
    wgmma_commit();
    wgmma_wait<0>();
    fence_all(s);
  };
  auto exponentiate = [&](float (&s)[Tile::kSRegs], const float (&m_use)[2], float (&row_sum)[2]) {
    row_sum[0] = row_sum[1] = 0.f;
#pragma unroll
    for (int j = 0; j < kTileN / 8; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[4 * j + e] = fast_exp2(fmaf(s[4 * j + e], scale_log2, -m_use[e >> 1]));
        row_sum[e >> 1] += s[4 * j + e];
      }
  };
  auto pack_p_step = [&](const float (&s)[Tile::kSRegs], const float (&f)[2], int kv,
                         uint32_t (&pa)[4]) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int j = 2 * kv + half;
      pa[2 * half + 0] = pack_bf16x2(s[4 * j + 0] * f[0], s[4 * j + 1] * f[0]);
      pa[2 * half + 1] = pack_bf16x2(s[4 * j + 2] * f[1], s[4 * j + 3] * f[1]);
    }
  };
  // A warp whose factors are all 1 (its rows' maxima did not move) skips the multiplies.
  auto scale_o = [&](const float (&f)[2]) {
    if (!__all_sync(0xffffffffu, f[0] == 1.f && f[1] == 1.f)) scale_rows(o_acc, f);
  };
  // O += P V over this warpgroup's V columns of tile `tile`: committed, not waited.
  auto issue_pv = [&](int tile, uint32_t (&pa)[kKv][4]) {
    const uint32_t st = kv_s + static_cast<uint32_t>((tile & 1) * Tile::kStageBytes);
    fence_all(o_acc);
    wgmma_fence();
#pragma unroll
    for (int kv = 0; kv < kKv; ++kv) {
      const uint64_t db = smem_desc_sw128(st + v_col_off + static_cast<uint32_t>(kv * 16 * 128),
                                          kTileN * 128, 1024);
      wgmma_pv<Tile::kDvWg>(o_acc, pa[kv], db);
    }
    wgmma_commit();
  };
  // After this warpgroup's wgmma_wait: every warp of it is past its reads of the parts that
  // one thread then refills.
  auto refill = [&](int tile, int64_t page_entry, int c0, int c1) {
    named_barrier_sync(kBarWg0 + wg, 128);
    if (lt == 0 && tile < n_tiles) load_parts(tile, page_entry, c0, c1);
  };

  const int n_pairs = (n_tiles + 1) / 2;
  for (int it = 0; it < n_pairs; ++it) {
    const int tile0 = 2 * it, tile1 = 2 * it + 1;
    const bool has1 = tile1 < n_tiles;
    // Read early, so the entries are in registers when the refills issue; only the thread that
    // issues a warpgroup's refills (lt == 0) needs them.
    const int64_t page0 = lt == 0 ? tile_page(tile0 + 2) : 0;
    const int64_t page1 = lt == 0 ? tile_page(tile1 + 2) : 0;
    const int last = n_tiles - 1;
    if (last <= tile1 && begin + int64_t(last + 1) * kTileN > end) {
      // The pair holding the sequence's end: zero that tile's rows past it.
#pragma unroll 1
      for (int c = 0; c < kParts; ++c) wait_part(last, c);
      const uint32_t st = kv_s + static_cast<uint32_t>((last & 1) * Tile::kStageBytes);
      zero_rows_past<kTileN, kChunks, kThreads>(
          st, static_cast<int>(end - (begin + int64_t(last) * kTileN)), tid);
      __syncthreads();
    }
    float s[Tile::kSRegs], mx[2], row_sum[2];
    uint32_t pa_own[kKv][4], pa_other[kKv][4];
    const float one[2] = {1.f, 1.f};
    if (wg == 0) {
      score(tile0, s, 0);
      masked_row_max<kTileN>(cta, tile0, kTileN, 0, t4, s, mx);
      float m0[2], m0_use[2], a0[2], a1[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        m0[h] = fmaxf(m_run[h], mx[h] * scale_log2);
        m0_use[h] = m0[h] == -INFINITY ? 0.f : m0[h];  // keeps exp2(-inf - -inf) out
        a0[h] = fast_exp2(m_run[h] - m0_use[h]);
        if (t4 == 0) m_x[warp * 16 + g + 8 * h] = m0[h];
      }
      named_barrier_sync(kBarMax0, kThreads);
      exponentiate(s, m0_use, row_sum);
#pragma unroll
      for (int kv = 0; kv < kKv; ++kv) pack_p_step(s, one, kv, pa_own[kv]);
      scale_o(a0);
      issue_pv(tile0, pa_own);  // P0 V0_L
      named_barrier_sync(kBarMax1P1, kThreads);
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const float m1 = m_x[64 + warp * 16 + g + 8 * h];
        a1[h] = fast_exp2(m0[h] - (m1 == -INFINITY ? 0.f : m1));
        l_run[h] = (l_run[h] * a0[h] + row_sum[h]) * a1[h];
        m_run[h] = m1;
      }
      // P1 out of the exchange slots, a1 P0 into them (this thread's slots only).
#pragma unroll
      for (int kv = 0; kv < kKv; ++kv) {
        uint32_t scaled[4];
        pack_p_step(s, a1, kv, scaled);
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          pa_other[kv][r] = p_x[(kv * 4 + r) * 128 + lt];
          p_x[(kv * 4 + r) * 128 + lt] = scaled[r];
        }
      }
      named_barrier_sync(kBarP0, kThreads);
      wgmma_wait<0>();
#pragma unroll
      for (int kv = 0; kv < kKv; ++kv) wgmma_fence_fragment(pa_own[kv]);
      fence_all(o_acc);
      refill(tile0 + 2, page0, 0, kLeft);  // K0's V_L: warpgroup 0 was its last reader
      scale_o(a1);
      if (has1) {
#pragma unroll 1
        for (int c = 0; c < kLeft; ++c) wait_part(tile1, c);
        issue_pv(tile1, pa_other);  // P1 V1_L
        wgmma_wait<0>();
#pragma unroll
        for (int kv = 0; kv < kKv; ++kv) wgmma_fence_fragment(pa_other[kv]);
        fence_all(o_acc);
        refill(tile1 + 2, page1, 0, kLeft);
      }
    } else {
      if (has1) {
        // V_R and RoPE first: V1_L is refilled last (by warpgroup 0, after its P1 V1_L), and
        // starting on it left warpgroup 1 waiting for that copy in 10-17% of the kernel's
        // warp samples (reports/kernels/h200/ncu_source/).
        score(tile1, s, kLeft);
        masked_row_max<kTileN>(cta, tile1, kTileN, 0, t4, s, mx);
      } else {
#pragma unroll
        for (int i = 0; i < Tile::kSRegs; ++i) s[i] = -INFINITY;
        mx[0] = mx[1] = -INFINITY;
      }
      named_barrier_sync(kBarMax0, kThreads);
      float m1_use[2], a01[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const float m0 = m_x[warp * 16 + g + 8 * h];
        const float m0_use = m0 == -INFINITY ? 0.f : m0;
        const float m1 = fmaxf(m0, mx[h] * scale_log2);
        m1_use[h] = m1 == -INFINITY ? 0.f : m1;
        a01[h] = fast_exp2(m_run[h] - m0_use) * fast_exp2(m0 - m1_use[h]);
        m_run[h] = m1;
        if (t4 == 0) m_x[64 + warp * 16 + g + 8 * h] = m1;
      }
      exponentiate(s, m1_use, row_sum);
#pragma unroll
      for (int kv = 0; kv < kKv; ++kv) {
        pack_p_step(s, one, kv, pa_own[kv]);
#pragma unroll
        for (int r = 0; r < 4; ++r) p_x[(kv * 4 + r) * 128 + lt] = pa_own[kv][r];
      }
      named_barrier_sync(kBarMax1P1, kThreads);
#pragma unroll
      for (int h = 0; h < 2; ++h) l_run[h] = l_run[h] * a01[h] + row_sum[h];
      scale_o(a01);
      if (has1) issue_pv(tile1, pa_own);  // P1 V1_R
      named_barrier_sync(kBarP0, kThreads);
#pragma unroll
      for (int kv = 0; kv < kKv; ++kv)
#pragma unroll
        for (int r = 0; r < 4; ++r) pa_other[kv][r] = p_x[(kv * 4 + r) * 128 + lt];
#pragma unroll 1
      for (int c = kLeft; c < 2 * kLeft; ++c) wait_part(tile0, c);
      issue_pv(tile0, pa_other);  // (a1 P0) V0_R
      if (has1) {
        wgmma_wait<1>();  // P1 V1_R: K1's right parts are free
        refill(tile1 + 2, page1, kLeft, kParts);
      }
      wgmma_wait<0>();
#pragma unroll
      for (int kv = 0; kv < kKv; ++kv) {
        wgmma_fence_fragment(pa_own[kv]);
        wgmma_fence_fragment(pa_other[kv]);
      }
      fence_all(o_acc);
      refill(tile0 + 2, page0, kLeft, kParts);
    }
  }

#pragma unroll
  for (int h = 0; h < 2; ++h) {
    l_run[h] += __shfl_xor_sync(0xffffffffu, l_run[h], 1);
    l_run[h] += __shfl_xor_sync(0xffffffffu, l_run[h], 2);
    if (t4 == 0) l_x[wg * 64 + warp * 16 + g + 8 * h] = l_run[h];
  }
  __syncthreads();
#pragma unroll
  for (int h = 0; h < 2; ++h) l_run[h] += l_x[(1 - wg) * 64 + warp * 16 + g + 8 * h];
  write_latent_rows<Tile>(p, cta, o_acc, m_run, l_run, wg, warp, g, t4);
}

template <class Tile>
__global__ void __launch_bounds__(Tile::kThreads, Tile::kMinBlocks)
    latent_wgmma_kernel(const __grid_constant__ DecodeParams p) {
  latent_wgmma_body<Tile>(p, nullptr);
}
template <class Tile>
__global__ void __launch_bounds__(Tile::kThreads, Tile::kMinBlocks)
    latent_wgmma_bulk_kernel(const __grid_constant__ BulkCopyDecodeArgs a) {
  if constexpr (kIsSeesaw<Tile>) latent_seesaw_body<Tile>(a.p, &a.cache_rows);
  else latent_wgmma_body<Tile>(a.p, &a.cache_rows);
}

template <class Tile>
DecodeKernelEntry make_wgmma_entry(const char* name, int alternative) {
  DecodeKernelEntry e{
      .shape = DecodeShape{.family = KernelFamily::shared_latent, .d_qk = Tile::kDqk, .d_v = Tile::kDv},
      .tile_m = Tile::kTileM,
      .tile_n = Tile::kTileN,
      .stages = Tile::kStages,
      .threads = Tile::kThreads,
      .smem_bytes = Tile::kSmemBytes,
      .name = name,
      .kernel = nullptr,
  };
  if constexpr (Tile::kBulk) e.bulk_kernel = &latent_wgmma_bulk_kernel<Tile>;
  else e.kernel = &latent_wgmma_kernel<Tile>;
  e.arch = KernelArch::sm90a;
  e.alternative = alternative;
  return e;
}

// LatentWgmmaTile<d_qk, d_v, tile_n, stages, warpgroups, CTAs per SM, threads per row in loads,
//                 split S>
const DecodeKernelEntry kLatentWgmmaKernels[] = {
    make_wgmma_entry<LatentSeesawTile<576, 512>>("latent_wgmma_d576_v512_m64_n64_s2_seesaw_tma", 0),
    make_wgmma_entry<LatentSeesawTile<320, 256>>("latent_wgmma_d320_v256_m64_n64_s2_seesaw_tma", 0),
    make_wgmma_entry<LatentWgmmaTile<192, 128, 64, 3, 1, 2, 8, false, true>>("latent_wgmma_d192_v128_m64_n64_s3_wg1x2_tma", 0),
    // Alternative 1 (KernelChoice; for measurements, and the fallback of a launch the bulk
    // copies cannot serve, launch_decode.cpp): the lockstep plans loading through every thread's
    // cp.async (the round-5 defaults).
    make_wgmma_entry<LatentWgmmaTile<576, 512, 64, 2, 2, 1, 8, true>>("latent_wgmma_d576_v512_m64_n64_s2_splits_t8", 1),
    make_wgmma_entry<LatentWgmmaTile<320, 256, 64, 4, 2, 1, 8, true>>("latent_wgmma_d320_v256_m64_n64_s4_splits_t8", 1),
    make_wgmma_entry<LatentWgmmaTile<192, 128, 64, 3, 1, 2, 8>>("latent_wgmma_d192_v128_m64_n64_s3_wg1x2_t8", 1),
    // Alternative 2: the lockstep plans on bulk copies (the defaults before the seesaw).
    make_wgmma_entry<LatentWgmmaTile<576, 512, 64, 2, 2, 1, 8, true, true>>("latent_wgmma_d576_v512_m64_n64_s2_splits_tma", 2),
    make_wgmma_entry<LatentWgmmaTile<320, 256, 64, 4, 2, 1, 8, true, true>>("latent_wgmma_d320_v256_m64_n64_s4_splits_tma", 2),
    // Alternative 3, 576/512: bulk copies of 32-key tiles, 4 stages (3 in flight instead of 1), both
    // warpgroups computing the whole S (no split-S exchange buffers: Q 72 KB + 4 x 36 KB fit).
    make_wgmma_entry<LatentWgmmaTile<576, 512, 32, 4, 2, 1, 8, false, true>>("latent_wgmma_d576_v512_m64_n32_s4_tma", 3),
};

}  // namespace

std::span<const DecodeKernelEntry> shared_latent_wgmma_kernels() { return kLatentWgmmaKernels; }

}  // namespace attnroof::kernels::cuda

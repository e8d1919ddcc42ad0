// defines: merge_splits_kernel, merge_splits_kernel_ptr, merge_grid_x, kMergeThreads (kernel_table.h)
//
// The flash-decoding merge: per (sequence b, query head i), over the splits s that hold keys,
//   lse_i = log sum_s exp(lse_s),   o_i = sum_s exp(lse_s - lse_i) o_s     (fp32, then bf16)
// Splits past the sequence (lse_s = -inf) weigh 0; a sequence with no key gets o = 0, lse = -inf
// (FlashMLA's combine: "in case all local LSEs are -inf"). Reads o_partial once: batch * n_splits
// * q_heads * d_v * 4 bytes (mostly from L2: the split kernel wrote it just before).
//
// Work plan: one CTA per (sequence, query head, 64 output columns), 8 warps; each half-warp reads
// one split's 64 columns (256 contiguous bytes, a float4 per lane), the 16 half-warps take every
// 16th split, four splits in flight per lane. No dynamic shared memory: the weights are
// recomputed from the LSEs (L1 hits), so any split count fits.
// History (H100, ncu gpu__time_duration): the first version (one CTA per head over all of d_v, each
// warp walking every 8th split one row at a time) ran 15-18 us for 128-256 splits (MLA 64 heads,
// GQA 8 heads: 64 or 8 CTAs, each bound by L2 latency); this plan runs 5-8 us. Programmatic
// dependent launch (the merge launched while the split kernel drains, waiting in
// griddepcontrol.wait) measured -2.5% .. +14% time on 12 batch-1 points: not kept.
#include "kernels/cuda/kernel_table.h"
#include "kernels/cuda/split_kv_decode.cuh"

namespace attnroof::kernels::cuda {

namespace {

constexpr int kMergeWarps = kMergeThreads / 32;
constexpr int kHalfWarps = 2 * kMergeWarps;  // splits read per pass
constexpr int kUnroll = 4;                   // splits in flight per lane

__device__ __forceinline__ void fma4(float4& acc, float w, const float4& v) {
  acc.x = fmaf(w, v.x, acc.x);
  acc.y = fmaf(w, v.y, acc.y);
  acc.z = fmaf(w, v.z, acc.z);
  acc.w = fmaf(w, v.w, acc.w);
}

}  // namespace

// grid: (q_heads * d_v / kMergeCols, batch)   block: kMergeThreads
// shared: part [16][kMergeCols] | red [2][kMergeWarps] (fp32)
// Dependent loads are few: the LSEs and the first kUnroll partial rows of every half-warp are in
// flight together; one block reduction of (max, sum) pairs gives the weights.
__global__ void __launch_bounds__(kMergeThreads)
    merge_splits_kernel(const __grid_constant__ DecodeParams p) {
  __shared__ float part[kHalfWarps * kMergeCols];
  __shared__ float red[2][kMergeWarps];
  const int chunks = p.d_v / kMergeCols;
  const int head = static_cast<int>(blockIdx.x) / chunks;
  const int col0 = (static_cast<int>(blockIdx.x) % chunks) * kMergeCols;
  const int b = static_cast<int>(blockIdx.y);
  const int tid = static_cast<int>(threadIdx.x), warp = tid / 32, lane = tid % 32;
  const int half_warp = tid / 16, col = col0 + (tid % 16) * 4;
  const bool paged = p.page_table != nullptr;
  const int64_t capacity =
      paged ? int64_t(p.max_pages_per_seq) * p.page_size : p.max_ctx_len;
  const int64_t ctx = min(int64_t(max(p.ctx_lens[b], 0)), capacity);
  // Splits holding at least one key (the last one takes the rest, as in the split kernel).
  const int n_used = ctx == 0 ? 0
                              : static_cast<int>(min(int64_t(p.n_splits),
                                                     (ctx + p.split_len - 1) / p.split_len));
  const int64_t slot0 = int64_t(b) * p.n_splits * p.q_heads + head;  // split 0 of this head
  const float* lse_in = p.lse_partial + slot0;                       // split s at s * q_heads
  const float* rows = p.o_partial + slot0 * p.d_v + col;             // split s at s * stride
  const int64_t stride = int64_t(p.q_heads) * p.d_v;

  // Half-warp h sums the splits h, h + 16, ...: the first kUnroll rows load now.
  float4 v[kUnroll];
#pragma unroll
  for (int u = 0; u < kUnroll; ++u) {
    const int s = half_warp + u * kHalfWarps;
    v[u] = s < n_used ? __ldcg(reinterpret_cast<const float4*>(rows + int64_t(s) * stride))
                      : make_float4(0.f, 0.f, 0.f, 0.f);
  }
  // (max, sum of exp(lse - max)) over the block's splits, online.
  float m = -INFINITY, l = 0.f;
  for (int s = tid; s < n_used; s += kMergeThreads) {
    const float x = __ldcg(lse_in + int64_t(s) * p.q_heads);
    if (x == -INFINITY) continue;  // an empty split weighs nothing
    const float m_new = fmaxf(m, x);
    l = l * expf(m - m_new) + expf(x - m_new);
    m = m_new;
  }
  auto combine = [](float& m1, float& l1, float m2, float l2) {
    const float mm = fmaxf(m1, m2);
    if (mm == -INFINITY) return;  // both empty
    l1 = l1 * expf(m1 - mm) + l2 * expf(m2 - mm);
    m1 = mm;
  };
  for (int off = 16; off > 0; off /= 2)
    combine(m, l, __shfl_xor_sync(0xffffffffu, m, off), __shfl_xor_sync(0xffffffffu, l, off));
  if (lane == 0) {
    red[0][warp] = m;
    red[1][warp] = l;
  }
  __syncthreads();
  m = red[0][0];
  l = red[1][0];
  for (int w = 1; w < kMergeWarps; ++w) combine(m, l, red[0][w], red[1][w]);
  // All splits empty (m = -inf): every weight 0, so o = 0 and lse = -inf, never NaN.
  auto weight = [&](int s) {
    return m == -INFINITY ? 0.f : expf(__ldcg(lse_in + int64_t(s) * p.q_heads) - m);
  };

  float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
  for (int u = 0; u < kUnroll; ++u) {
    const int s = half_warp + u * kHalfWarps;
    if (s < n_used) fma4(acc, weight(s), v[u]);
  }
  for (int s = half_warp + kUnroll * kHalfWarps; s < n_used; s += kUnroll * kHalfWarps) {
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int su = s + u * kHalfWarps;
      v[u] = su < n_used ? __ldcg(reinterpret_cast<const float4*>(rows + int64_t(su) * stride))
                         : make_float4(0.f, 0.f, 0.f, 0.f);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (s + u * kHalfWarps < n_used) fma4(acc, weight(s + u * kHalfWarps), v[u]);
  }
  *reinterpret_cast<float4*>(part + half_warp * kMergeCols + (tid % 16) * 4) = acc;
  __syncthreads();

  const float inv = l > 0.f ? 1.f / l : 0.f;
  if (tid < kMergeCols / 2) {  // two output columns per thread
    float t0 = 0.f, t1 = 0.f;
#pragma unroll
    for (int h = 0; h < kHalfWarps; ++h) {
      t0 += part[h * kMergeCols + 2 * tid];
      t1 += part[h * kMergeCols + 2 * tid + 1];
    }
    *reinterpret_cast<uint32_t*>(static_cast<bf16*>(p.o) + (int64_t(b) * p.q_heads + head) * p.d_v +
                                 col0 + 2 * tid) = pack_bf16x2(t0 * inv, t1 * inv);
  }
  if (p.lse != nullptr && col0 == 0 && tid == 0)
    p.lse[int64_t(b) * p.q_heads + head] = l > 0.f ? m + logf(l) : -INFINITY;
}

void (*merge_splits_kernel_ptr())(DecodeParams) { return &merge_splits_kernel; }

}  // namespace attnroof::kernels::cuda

// defines: merge_splits_kernel, merge_splits_kernel_ptr, kMergeThreads (kernel_table.h)
//
// The flash-decoding merge: per (sequence b, query head i), over the splits s that hold keys,
//   lse_i = log sum_s exp(lse_s),   o_i = sum_s exp(lse_s - lse_i) o_s     (fp32, then bf16)
// Splits past the sequence (lse_s = -inf) weigh 0; a sequence with no key gets o = 0, lse = -inf
// (FlashMLA's combine: "in case all local LSEs are -inf"). Reads o_partial once: batch * n_splits
// * q_heads * d_v * 4 bytes, small beside the KV bytes for contexts past ~16K.
#include "kernels/cuda/split_kv_decode.cuh"

namespace attnroof::kernels::cuda {

// Merges the splits of one (sequence, query head) into o (bf16) and lse (natural log).
// grid: (q_heads, batch)   block: kMergeThreads (8 warps)
// Warp w sums the splits s = w, w + 8, ...; lane l owns the output columns 4l + 128j (d_v <= 512),
// so a batch-1 call with hundreds of splits keeps 8 independent load streams per head instead of
// one serial loop. shared: w_s [n_splits] (LSE, then weights) | part [8][d_v] | red [32] (fp32)
namespace {

constexpr int kMergeWarps = kMergeThreads / 32;
constexpr int kMaxDv = 512;

template <class Op>
__device__ float block_reduce(float v, float* red, Op op) {
  for (int off = 16; off > 0; off /= 2) v = op(v, __shfl_xor_sync(0xffffffffu, v, off));
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  if (lane == 0) red[warp] = v;
  __syncthreads();
  v = red[0];
  for (int w = 1; w < kMergeWarps; ++w) v = op(v, red[w]);
  __syncthreads();  // red reusable
  return v;
}

}  // namespace

__global__ void __launch_bounds__(kMergeThreads)
    merge_splits_kernel(const __grid_constant__ DecodeParams p) {
  extern __shared__ float merge_smem[];
  float* w_s = merge_smem;
  float* part = w_s + ((p.n_splits + 3) & ~3);  // 16-byte aligned for the float4 partial rows
  float* red = part + kMergeWarps * p.d_v;
  const int head = static_cast<int>(blockIdx.x), b = static_cast<int>(blockIdx.y);
  const int tid = static_cast<int>(threadIdx.x), warp = tid / 32, lane = tid % 32;
  const bool paged = p.page_table != nullptr;
  const int64_t capacity =
      paged ? int64_t(p.max_pages_per_seq) * p.page_size : p.max_ctx_len;
  const int64_t ctx = min(int64_t(max(p.ctx_lens[b], 0)), capacity);
  // Splits holding at least one key (the last one takes the rest, as in the split kernel).
  const int n_used = ctx == 0 ? 0
                              : static_cast<int>(min(int64_t(p.n_splits),
                                                     (ctx + p.split_len - 1) / p.split_len));
  const int64_t slot0 = int64_t(b) * p.n_splits * p.q_heads + head;  // split 0 of this head

  float mx = -INFINITY;
  for (int s = tid; s < n_used; s += kMergeThreads) {
    const float l = p.lse_partial[slot0 + int64_t(s) * p.q_heads];
    w_s[s] = l;
    mx = fmaxf(mx, l);
  }
  mx = block_reduce(mx, red, [](float x, float y) { return fmaxf(x, y); });
  float sum = 0.f;
  for (int s = tid; s < n_used; s += kMergeThreads) {
    // All splits empty (mx = -inf): every weight 0, so o = 0 and lse = -inf, never NaN.
    const float w = mx == -INFINITY ? 0.f : expf(w_s[s] - mx);
    w_s[s] = w;
    sum += w;
  }
  sum = block_reduce(sum, red, [](float x, float y) { return x + y; });  // also publishes w_s

  float4 acc[kMaxDv / 128];
#pragma unroll
  for (int j = 0; j < kMaxDv / 128; ++j) acc[j] = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll 2
  for (int s = warp; s < n_used; s += kMergeWarps) {
    const float w = w_s[s];
    if (w == 0.f) continue;
    const float* row = p.o_partial + (slot0 + int64_t(s) * p.q_heads) * p.d_v;
#pragma unroll
    for (int j = 0; j < kMaxDv / 128; ++j) {
      const int col = lane * 4 + 128 * j;
      if (col < p.d_v) {
        const float4 v = *reinterpret_cast<const float4*>(row + col);
        acc[j].x += w * v.x;
        acc[j].y += w * v.y;
        acc[j].z += w * v.z;
        acc[j].w += w * v.w;
      }
    }
  }
#pragma unroll
  for (int j = 0; j < kMaxDv / 128; ++j) {
    const int col = lane * 4 + 128 * j;
    if (col < p.d_v) *reinterpret_cast<float4*>(part + warp * p.d_v + col) = acc[j];
  }
  __syncthreads();
  const float inv = sum > 0.f ? 1.f / sum : 0.f;
  for (int col = tid * 4; col < p.d_v; col += kMergeThreads * 4) {
    float4 t = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int w = 0; w < kMergeWarps; ++w) {
      const float4 v = *reinterpret_cast<const float4*>(part + w * p.d_v + col);
      t.x += v.x;
      t.y += v.y;
      t.z += v.z;
      t.w += v.w;
    }
    uint2 packed;
    packed.x = pack_bf16x2(t.x * inv, t.y * inv);
    packed.y = pack_bf16x2(t.z * inv, t.w * inv);
    *reinterpret_cast<uint2*>(static_cast<bf16*>(p.o) + (int64_t(b) * p.q_heads + head) * p.d_v +
                              col) = packed;
  }
  if (p.lse != nullptr && tid == 0)
    p.lse[int64_t(b) * p.q_heads + head] = sum > 0.f ? mx + logf(sum) : -INFINITY;
}

void (*merge_splits_kernel_ptr())(DecodeParams) { return &merge_splits_kernel; }

}  // namespace attnroof::kernels::cuda

// defines: fused_merge_enter, fused_merge_tail (the split merge run by the split kernel's own
//          CTAs, DecodeParams::merge_chunks > 0)
//
// The merge of merge_splits.cu without a second kernel: once every CTA of the launch has written
// its partials, the CTAs still resident merge them, slice by slice, with the same math
//   lse = log sum_s exp(lse_s),   o = sum_s exp(lse_s - lse) o_s     (fp32, then bf16)
// (splits past a sequence's end weigh 0; no key at all: o = 0, lse = -inf). At batch 1 the
// separate merge cost 5-7 us of a 70-590 us step on an H200, latency-bound on 16-128 CTAs, plus
// its launch (reports/kernels/h200/b1_limits/); here it runs on every SM with the partials in L2.
//
// Why it cannot hang: a CTA waits for the others only when every CTA of the grid has already
// started (DecodeParams::merge_sync[kSyncStarted] == grid size), so every CTA it waits for is
// resident and runs to its end without waiting on anything. A CTA that finds some not started
// (a grid past one wave, or SMs taken by other work) leaves without merging; the last CTA to
// arrive always merges, and slices are claimed from a shared counter, so every slice is merged
// exactly once whatever the residency. The last CTA to leave zeroes the four words, so they are
// zero again for the next launch (the caller zeroes them once, at allocation).
//
// Memory order: every thread's partial stores, then __threadfence and the CTA barrier, then one
// thread's acq_rel add on the arrival count (release: the CTA's stores are visible to whoever
// acquires the count). A merging CTA acquires the count (the add that made it total, or the load
// that saw total) before its barrier, and reads the partials through L2 (ld.global.cg), never
// through its SM's L1.
//
// A slice: columns [c * C, (c + 1) * C) of one output row (row = b * q_rows + token * q_heads +
// head), C = d_v / merge_chunks (a power of two, >= 16). Its kThreads threads are C / 4 float4
// columns x groups; group g walks splits g, g + groups, ..., kFusedMergeUnroll LSEs and partials
// in flight per round trip, with its own running maximum (one pass, no separate LSE pass); the
// groups' states meet in shared memory. The order of every sum is fixed by the slice, not by
// which CTA merges it: outputs are bit-for-bit repeatable.
#pragma once
#include <cuda_bf16.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/kernel_table.h"
#include "kernels/cuda_util/mma_primitives.cuh"
#include "kernels/decode_params.h"

namespace attnroof::kernels::cuda {

namespace fused_merge_detail {

__device__ __forceinline__ uint32_t atomic_add_acq_rel(uint32_t* a, uint32_t v) {
  uint32_t old;
  asm volatile("atom.acq_rel.gpu.global.add.u32 %0, [%1], %2;" : "=r"(old) : "l"(a), "r"(v) : "memory");
  return old;
}
__device__ __forceinline__ uint32_t load_acquire(const uint32_t* a) {
  uint32_t v;
  asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(a) : "memory");
  return v;
}
__device__ __forceinline__ uint32_t load_relaxed(const uint32_t* a) {
  uint32_t v;
  asm volatile("ld.relaxed.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(a) : "memory");
  return v;
}

__device__ __forceinline__ void fma4(float4& acc, float w, const float4& v) {
  acc.x = fmaf(w, v.x, acc.x);
  acc.y = fmaf(w, v.y, acc.y);
  acc.z = fmaf(w, v.z, acc.z);
  acc.w = fmaf(w, v.w, acc.w);
}

// Shared memory of the tail (the kernel's dynamic shared memory, reused once its own work is
// done): acc [kThreads] float4 | sum [kThreads] | max [kThreads] | claim word.
template <int kThreads>
struct TailSmem {
  float4* acc;
  float* sum;
  float* max;
  uint32_t* word;
  __device__ explicit TailSmem(unsigned char* raw) {
    acc = reinterpret_cast<float4*>(raw);
    sum = reinterpret_cast<float*>(acc + kThreads);
    max = sum + kThreads;
    word = reinterpret_cast<uint32_t*>(max + kThreads);
  }
};

// One slice in one round of loads where it can: each thread loads kFusedMergeUnroll splits' LSE
// and partial at once and keeps its own (max, sum, acc) (online, as the split kernel's softmax);
// the groups' states meet in shared memory.
template <int kThreads>
__device__ void merge_slice(const DecodeParams& p, int64_t slice, const TailSmem<kThreads>& sm) {
  const int tid = static_cast<int>(threadIdx.x);
  const int64_t q_rows = int64_t(p.q_tokens) * p.q_heads;
  const int cols = p.d_v / p.merge_chunks;
  const int quads = cols / 4, groups = kThreads / quads;
  const int64_t row = slice / p.merge_chunks;  // b * q_rows + (token, head)
  const int col0 = static_cast<int>(slice % p.merge_chunks) * cols;
  const int64_t b = row / q_rows;
  const int64_t slot0 = b * p.n_splits * q_rows + row % q_rows;  // split 0 of this row
  const int quad = tid % quads, group = tid / quads;
  const int64_t split_stride = q_rows * p.d_v;
  const float* base = p.o_partial + slot0 * p.d_v + col0 + quad * 4;

  constexpr int kUnroll = kFusedMergeUnroll;
  float mx = -INFINITY, sum = 0.f;
  float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
  for (int s0 = group; s0 < p.n_splits; s0 += kUnroll * groups) {
    float l[kUnroll];
    float4 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int s = s0 + u * groups;
      l[u] = s < p.n_splits ? __ldcg(p.lse_partial + slot0 + int64_t(s) * q_rows) : -INFINITY;
      v[u] = s < p.n_splits ? __ldcg(reinterpret_cast<const float4*>(base + int64_t(s) * split_stride))
                            : make_float4(0.f, 0.f, 0.f, 0.f);
    }
    float m_new = mx;
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) m_new = fmaxf(m_new, l[u]);
    if (m_new == -INFINITY) continue;  // every split so far past the sequence
    const float f = expf(mx - m_new);  // 0 while mx is -inf
    sum *= f;
    acc.x *= f, acc.y *= f, acc.z *= f, acc.w *= f;
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (l[u] == -INFINITY) continue;  // a split past the sequence: weight 0, row never used
      const float w = expf(l[u] - m_new);
      sum += w;
      fma4(acc, w, v[u]);
    }
    mx = m_new;
  }
  sm.acc[tid] = acc;
  sm.sum[tid] = sum;
  sm.max[tid] = mx;
  __syncthreads();
  if (tid < quads) {
    float m_all = -INFINITY;
    for (int g = 0; g < groups; ++g) m_all = fmaxf(m_all, sm.max[g * quads + tid]);
    float4 t = make_float4(0.f, 0.f, 0.f, 0.f);
    float total = 0.f;
    for (int g = 0; g < groups; ++g) {
      const float m_g = sm.max[g * quads + tid];
      if (m_g == -INFINITY) continue;
      const float f = expf(m_g - m_all);
      const float4 a = sm.acc[g * quads + tid];
      t.x = fmaf(f, a.x, t.x), t.y = fmaf(f, a.y, t.y), t.z = fmaf(f, a.z, t.z), t.w = fmaf(f, a.w, t.w);
      total = fmaf(f, sm.sum[g * quads + tid], total);
    }
    const float inv = total > 0.f ? 1.f / total : 0.f;
    *reinterpret_cast<uint2*>(static_cast<__nv_bfloat16*>(p.o) + row * p.d_v + col0 + tid * 4) =
        make_uint2(pack_bf16x2(t.x * inv, t.y * inv), pack_bf16x2(t.z * inv, t.w * inv));
    if (p.lse != nullptr && col0 == 0 && tid == 0)
      p.lse[row] = total > 0.f ? m_all + logf(total) : -INFINITY;
  }
  __syncthreads();  // acc, sum and max free for the next slice
}

}  // namespace fused_merge_detail

// At the top of a split kernel: count this CTA as started.
__device__ __forceinline__ void fused_merge_enter(const DecodeParams& p) {
  if (p.merge_chunks > 0 && threadIdx.x == 0) atomicAdd(p.merge_sync + kMergeSyncStarted, 1u);
}

// At the end of a split kernel, every thread (after its partials are written): the merge, as
// above. No-op unless p.merge_chunks > 0.
template <int kThreads>
__device__ void fused_merge_tail(const DecodeParams& p) {
  using namespace fused_merge_detail;
  if (p.merge_chunks <= 0) return;
  extern __shared__ __align__(128) unsigned char fused_merge_smem[];
  const TailSmem<kThreads> sm(fused_merge_smem);
  uint32_t* sync = p.merge_sync;
  const uint32_t grid = gridDim.x * gridDim.y * gridDim.z;
  asm volatile("cp.async.wait_all;" ::: "memory");  // no copy may land in the reused memory
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    const uint32_t arrived = atomic_add_acq_rel(sync + kMergeSyncArrived, 1u) + 1u;
    bool merges = arrived == grid;
    if (!merges && load_relaxed(sync + kMergeSyncStarted) == grid) {
      while (load_acquire(sync + kMergeSyncArrived) < grid) __nanosleep(64);
      merges = true;
    }
    *sm.word = merges ? 1u : 0u;
  }
  __syncthreads();
  if (*sm.word != 0) {
    const int64_t slices = int64_t(p.batch) * p.q_tokens * p.q_heads * p.merge_chunks;
    __syncthreads();  // every thread has read the verdict
    if (threadIdx.x == 0) *sm.word = atomicAdd(sync + kMergeSyncNextSlice, 1u);
    __syncthreads();
    int64_t slice = *sm.word;
    while (slice < slices) {
      // The next claim goes out before this slice's loads, so its round trip overlaps them
      // (merge_slice's barriers order the word's write before its read below).
      uint32_t next = 0;
      if (threadIdx.x == 0) next = atomicAdd(sync + kMergeSyncNextSlice, 1u);
      merge_slice<kThreads>(p, slice, sm);
      if (threadIdx.x == 0) *sm.word = next;
      __syncthreads();
      slice = *sm.word;
      __syncthreads();  // every thread has read the claim before thread 0 writes the next
    }
  }
  if (threadIdx.x == 0 && atomicAdd(sync + kMergeSyncDone, 1u) + 1u == grid) {
    // Every CTA has left the claim loop: no one reads the words again in this launch.
#pragma unroll
    for (int i = 0; i < kMergeSyncWords; ++i) sync[i] = 0;
  }
}

}  // namespace attnroof::kernels::cuda

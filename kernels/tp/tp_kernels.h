// defines: launch_uv_project, launch_out_project, launch_sum_ranks (the TP step's small device
//          kernels around the decode kernels; tp_kernels.cu)
//
// Host-clean (streams through the CUDA runtime's own typedef: docs/architecture.md "Rules
// everything keeps"). All asynchronous, capturable in a CUDA graph; each launch is checked
// (ATTNROOF_CUDA_CHECK_LAUNCH).
#pragma once
#include <cstdint>

struct CUstream_st;
typedef CUstream_st* cudaStream_t;  // NOLINT: the CUDA runtime's own spelling

namespace attnroof::kernels::tp {

// y[i, n] += scale * sum_k z[i, k] w[i, k, n] for heads i < heads (z bf16 [heads, d_att],
// w bf16 [heads, d_att, d_v], y fp32 [heads, d_v]). w == nullptr: y[i, n] += scale z[i, n]
// (d_att == d_v; GQA, whose y is the attention output). fp32 accumulation.
void launch_uv_project(const void* z, const void* w, float* y, int32_t heads, int32_t d_att,
                       int32_t d_v, float scale, cudaStream_t stream);

// out[n] += sum_m y[m] wo[m, n] (y fp32 [rows], wo bf16 [rows, d], out fp32 [d]); the caller
// zeroes out. Rows are split over blocks that add with atomics (fp32, order not fixed).
void launch_out_project(const float* y, const void* wo, float* out, int32_t rows, int32_t d,
                        cudaStream_t stream);

// out[i] = sum_r parts[r n + i]: the SIMULATED collective of ranks run on one GPU.
void launch_sum_ranks(const float* parts, int32_t ranks, int64_t n, float* out,
                      cudaStream_t stream);

}  // namespace attnroof::kernels::tp

// defines: kProbeGemmMs, kProbeGemmKn, measure_projection_gemms
//
// The decode projections as GEMMs (docs/time-model.md "Ceilings"): C[M,N] = A[M,K] x W[K,N] in bf16
// with fp32 accumulation through cublasGemmEx, for small M (tokens of a decode step) against the
// (K,N) of real projection weights, so the model's projection stages can be calibrated like
// attention. Host-clean: no CUDA types.
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace attnroof::calibrate {

class GpuTimer;

// Decode tokens per step: 1, 2, 4, ..., 128.
inline const std::vector<int64_t> kProbeGemmMs = {1, 2, 4, 8, 16, 32, 64, 128};
// (K, N) of projection weights: DeepSeek-V3 q down (7168 -> 1536), q up (1536 -> 128 x 192),
// kv down + rope (7168 -> 576), the output (128 x 128 -> 7168), and Llama-3-8B/-70B-like and
// TP-sharded shapes down to a 512-wide latent's up projection.
inline const std::vector<std::array<int64_t, 2>> kProbeGemmKn = {
    {7168, 1536}, {1536, 24576}, {7168, 576},  {16384, 7168}, {4096, 6144},
    {4096, 4096}, {2048, 2560},  {8192, 1280}, {512, 16384}};

// Times every (m, (k, n)) on the timer's stream: L2 flushed before every run (the timer's
// flush), CUDA-graph replay when cuBLAS captures into a graph here, else CUDA events around each
// call. W is stored as a linear layer stores it, [N, K] row-major (each output's K weights
// contiguous), and the call is the column-major C^T[N,M] = op_T(W) x A^T (CUBLAS_OP_T on W,
// CUBLAS_OP_N on A): tiles run along N, so W streams from memory once for all M rows.
// Returns {"timing": "...", "method": "graph"|"events", "layout": "...", "records": [{m, n, k,
// flops = 2mnk, bytes = 2(mk + kn + mn), time_s, time_s_min, time_s_max, runs, sm_clock_mhz}]}.
// Throws CudaError; InputError for m, k, n < 1 or runs < 1.
nlohmann::json measure_projection_gemms(GpuTimer& timer, const std::vector<int64_t>& ms,
                                        const std::vector<std::array<int64_t, 2>>& kn, int runs);

}  // namespace attnroof::calibrate

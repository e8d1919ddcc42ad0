// The projection GEMM probe (gemm_probe.h): cublasGemmEx bf16 x bf16 -> bf16, fp32 accumulation,
// one workspace set up front so cuBLAS allocates nothing while a graph is being captured.
// No fmt here: nvcc cannot compile its constexpr paths (the other .cu files avoid it too).
#include <cublas_v2.h>

#include <algorithm>
#include <string>

#include "calibrate/ceilings.h"
#include "calibrate/gemm_probe.h"
#include "calibrate/gpu_clocks.h"
#include "calibrate/gpu_timer.h"
#include "kernels/cuda_util/cuda_check.h"
#include "model/error.h"

namespace attnroof::calibrate {

namespace {

void cublas_check(cublasStatus_t st, const char* what) {
  if (st != CUBLAS_STATUS_SUCCESS)
    throw CudaError(std::string("gemm probe: ") + what + " failed: cublas status " +
                    std::to_string(int(st)));
}

// The cuBLAS handle of the probe, destroyed on every path.
struct CublasHandle {
  cublasHandle_t h = nullptr;
  CublasHandle() { cublas_check(cublasCreate(&h), "cublasCreate"); }
  ~CublasHandle() {
    if (h != nullptr) (void)cublasDestroy(h);
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
};

constexpr std::size_t kWorkspaceBytes = std::size_t(32) << 20;  // cuBLAS's Hopper recommendation

struct Gemm {
  cublasHandle_t h;
  const void *a, *w;
  void* c;
  int m, n, k;
  // Column-major C^T[N,M] = op_T(W[N,K] row-major = [K,N] col-major) x A^T[K,M].
  cublasStatus_t operator()() const {
    const float one = 1.f, zero = 0.f;
    return cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &one, w, CUDA_R_16BF, k, a,
                        CUDA_R_16BF, k, &zero, c, CUDA_R_16BF, n, CUBLAS_COMPUTE_32F,
                        CUBLAS_GEMM_DEFAULT);
  }
};

// Whether one call captures into a CUDA graph that instantiates. Leaves the stream out of capture
// and the CUDA error state clean whatever happens.
bool captures(const Gemm& g, cudaStream_t stream) {
  if (cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  const cublasStatus_t st = g();
  cudaGraph_t graph = nullptr;
  const cudaError_t end = cudaStreamEndCapture(stream, &graph);
  bool ok = st == CUBLAS_STATUS_SUCCESS && end == cudaSuccess && graph != nullptr;
  if (ok) {
    cudaGraphExec_t exec = nullptr;
    ok = cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess;
    if (exec != nullptr) (void)cudaGraphExecDestroy(exec);
  }
  if (graph != nullptr) (void)cudaGraphDestroy(graph);
  (void)cudaGetLastError();
  return ok;
}

}  // namespace

nlohmann::json measure_projection_gemms(GpuTimer& timer, const std::vector<int64_t>& ms,
                                        const std::vector<std::array<int64_t, 2>>& kn, int runs) {
  std::vector<std::string> bad;
  const auto text = [](int64_t v) { return std::to_string(v); };
  if (runs < 1) bad.push_back("runs = " + text(runs) + ": must be >= 1");
  for (int64_t m : ms)
    if (m < 1 || m > (int64_t(1) << 20)) bad.push_back("m = " + text(m) + ": must be in [1, 2^20]");
  for (const auto& [k, n] : kn)
    if (k < 1 || n < 1 || k > (int64_t(1) << 20) || n > (int64_t(1) << 20))
      bad.push_back("(k, n) = (" + text(k) + ", " + text(n) + "): each must be in [1, 2^20]");
  throw_if_problems("measure_projection_gemms: bad sizes", bad);
  nlohmann::json records = nlohmann::json::array();
  if (ms.empty() || kn.empty())
    return {{"method", "none"}, {"timing", "no sizes"}, {"records", records}};

  int64_t max_m = *std::max_element(ms.begin(), ms.end()), max_mk = 0, max_kn = 0, max_mn = 0;
  for (const auto& [k, n] : kn) {
    max_mk = std::max(max_mk, max_m * k);
    max_kn = std::max(max_kn, k * n);
    max_mn = std::max(max_mn, max_m * n);
  }
  const cudaStream_t stream = timer.stream();
  DeviceBuffer<uint16_t> a{std::size_t(max_mk)}, w{std::size_t(max_kn)}, c{std::size_t(max_mn)};
  DeviceBuffer<unsigned char> workspace(kWorkspaceBytes);
  fill_random_bf16(a.get(), a.size(), 21, 1.f, stream);
  fill_random_bf16(w.get(), w.size(), 22, 0.05f, stream);
  CublasHandle handle;
  cublas_check(cublasSetStream(handle.h, stream), "cublasSetStream");
  cublas_check(cublasSetWorkspace(handle.h, workspace.get(), workspace.bytes()), "cublasSetWorkspace");
  ATTNROOF_CUDA_CHECK(cudaStreamSynchronize(stream));

  int device = 0;
  ATTNROOF_CUDA_CHECK(cudaGetDevice(&device));
  const GpuClocks clocks(device);
  const Gemm first{handle.h, a.get(), w.get(), c.get(), int(ms.front()), int(kn.front()[1]),
                   int(kn.front()[0])};
  const bool graph = captures(first, stream);
  constexpr int kWarmup = 3;
  for (const auto& [k, n] : kn)
    for (int64_t m : ms) {
      const Gemm g{handle.h, a.get(), w.get(), c.get(), int(m), int(n), int(k)};
      const auto call = [&](cudaStream_t) { cublas_check(g(), "cublasGemmEx"); };
      const TimingStats t = graph ? timer.time_graph(call, kWarmup, runs) : timer.time(call, kWarmup, runs);
      const ClockSample clk = clocks.read();
      const double md = double(m), nd = double(n), kd = double(k);
      records.push_back({{"m", m},
                         {"n", n},
                         {"k", k},
                         {"flops", 2 * md * nd * kd},
                         {"bytes", 2 * (md * kd + kd * nd + md * nd)},
                         {"time_s", t.median_us * 1e-6},
                         {"time_s_min", t.min_us * 1e-6},
                         {"time_s_max", t.max_us * 1e-6},
                         {"runs", t.runs},
                         {"sm_clock_mhz", clk.sm_clock_mhz},
                         {"power_w", clk.power_w}});
    }
  ATTNROOF_CUDA_CHECK(cudaStreamSynchronize(stream));
  return {{"method", graph ? "graph" : "events"},
          {"layout", "C[M,N] = A[M,K] x W[K,N]; W stored [N,K] row-major (a linear layer's "
                     "weight); cublasGemmEx(OP_T, OP_N, N, M, K) column-major, bf16 in and out, "
                     "CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT, 32 MiB workspace"},
          {"timing", std::string(graph ? "CUDA-graph replay of one captured cublasGemmEx"
                                       : "CUDA events around each cublasGemmEx (graph capture "
                                         "failed here)") +
                         ", " + text(kWarmup) + " warm-up runs, L2 flushed before every timed "
                         "run, median, min and max of " + text(runs) + " runs"},
          {"clocks", clocks.status()},
          {"records", records}};
}

}  // namespace attnroof::calibrate

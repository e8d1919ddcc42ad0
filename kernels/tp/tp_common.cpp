// The TP step's and sweep's shared environment and report helpers (tp_common.h, nccl_check.h).
#include "kernels/tp/tp_common.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <thread>

#include "kernels/cuda_util/cuda_check.h"
#include "kernels/tp/nccl_check.h"
#include "model/error.h"

namespace attnroof::kernels::tp {

void throw_nccl_error(ncclResult_t err, const char* expr, const char* file, int line) {
  throw CudaError(fmt::format("{}:{}: {} failed: {} ({})", file, line, expr,
                              ncclGetErrorString(err), ncclGetLastError(nullptr)));
}

void on_each_rank(int32_t ranks, const std::function<void(int32_t)>& fn) {
  std::vector<std::exception_ptr> err(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  for (int32_t r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      try {
        ATTNROOF_CUDA_CHECK(cudaSetDevice(r));
        fn(r);
      } catch (...) {
        err[std::size_t(r)] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : err)
    if (e) std::rethrow_exception(e);
}

NcclComm::~NcclComm() {
  if (comm_ == nullptr) return;
  const ncclResult_t r = ncclCommDestroy(comm_);
  if (r != ncclSuccess) std::fprintf(stderr, "ncclCommDestroy failed: %s\n", ncclGetErrorString(r));
}

std::string force_nvls_off() {
  const char* before = std::getenv("NCCL_NVLS_ENABLE");
  std::string was = before != nullptr ? before : "";
  if (setenv("NCCL_NVLS_ENABLE", "0", 1) != 0) throw InputError("setenv(NCCL_NVLS_ENABLE) failed");
  return was;
}

namespace {
std::string env_or(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}
}  // namespace

nlohmann::json run_environment(const std::string& command, int device,
                               const std::string& nvls_before) {
  cudaDeviceProp prop{};
  ATTNROOF_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  int driver = 0, runtime = 0, count = 0, nccl = 0;
  ATTNROOF_CUDA_CHECK(cudaDriverGetVersion(&driver));
  ATTNROOF_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  ATTNROOF_CUDA_CHECK(cudaGetDeviceCount(&count));
  ATTNROOF_NCCL_CHECK(ncclGetVersion(&nccl));
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char utc[32] = {};
  std::strftime(utc, sizeof(utc), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  // NCCL_VERSION_CODE = major * 10000 + minor * 100 + patch (NCCL >= 2.9)
  return {{"command", command},
          {"host", host},
          {"gpu", prop.name},
          {"sm_count", prop.multiProcessorCount},
          {"l2_bytes", prop.l2CacheSize},
          {"driver", driver},
          {"runtime", runtime},
          {"nccl_version", fmt::format("{}.{}.{}", nccl / 10000, (nccl / 100) % 100, nccl % 100)},
          {"visible_gpus", count},
          {"env",
           {{"NCCL_NVLS_ENABLE", env_or("NCCL_NVLS_ENABLE")},
            {"NCCL_NVLS_ENABLE_before", nvls_before},
            {"CUDA_VISIBLE_DEVICES", env_or("CUDA_VISIBLE_DEVICES")}}},
          {"utc", utc}};
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace attnroof::kernels::tp

// defines: CudaError, throw_cuda_error, ATTNROOF_CUDA_CHECK, ATTNROOF_CUDA_CHECK_LAUNCH,
//          DeviceBuffer<T> (RAII cudaMalloc), upload, download, cuda_device_available
//
// Included only by .cu/.cpp files that already need the CUDA runtime (docs/architecture.md "Rules
// everything keeps"). Host headers that describe the API (launch_decode.h) stay free of it.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace attnroof {

// A failed CUDA runtime call. After a sticky error (illegal address) the context is dead: stop
// launching kernels in this process.
class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "{file}:{line}: {expr} failed: {name} ({string})"
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line);

#ifdef ATTNROOF_SYNC_LAUNCHES
inline constexpr bool kSyncAfterLaunch = true;  // pins asynchronous faults to their launch
#else
inline constexpr bool kSyncAfterLaunch = false;
#endif

}  // namespace attnroof

#define ATTNROOF_CUDA_CHECK(expr)                                              \
  do {                                                                         \
    const cudaError_t attnroof_err_ = (expr);                                  \
    if (attnroof_err_ != cudaSuccess)                                          \
      ::attnroof::throw_cuda_error(attnroof_err_, #expr, __FILE__, __LINE__);  \
  } while (0)

#define ATTNROOF_CUDA_CHECK_LAUNCH()                                                          \
  do {                                                                                        \
    ATTNROOF_CUDA_CHECK(cudaGetLastError());                                                  \
    if constexpr (::attnroof::kSyncAfterLaunch) ATTNROOF_CUDA_CHECK(cudaDeviceSynchronize()); \
  } while (0)

namespace attnroof {

// Deleters log and carry on: they never throw (docs/architecture.md "Rules everything keeps").
struct CudaFreeDeleter {
  void operator()(void* p) const noexcept {
    if (p == nullptr) return;
    const cudaError_t err = cudaFree(p);
    if (err != cudaSuccess) std::fprintf(stderr, "cudaFree failed: %s\n", cudaGetErrorString(err));
  }
};

// Device memory of `count` elements of T, freed on destruction.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    if (count == 0) return;
    void* p = nullptr;
    ATTNROOF_CUDA_CHECK(cudaMalloc(&p, count * sizeof(T)));
    ptr_.reset(p);
  }
  T* get() const { return static_cast<T*>(ptr_.get()); }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }

 private:
  std::unique_ptr<void, CudaFreeDeleter> ptr_;
  std::size_t count_ = 0;
};

// A device copy of host, complete on return, ordered on `stream` (the stream that will read it).
// A plain cudaMemcpy from pageable memory is not enough: it returns once the bytes are staged,
// before the DMA lands, and only work on the legacy default stream is ordered after it. A
// kernel on a non-blocking stream (the benchmark's timer stream) could read the old contents of
// a page table or length buffer: a sporadic illegal address (reports/kernels/h200/issue16/). The
// synchronize also
// keeps `host` alive for the whole copy.
template <class T>
DeviceBuffer<T> upload(const std::vector<T>& host, cudaStream_t stream = nullptr) {
  DeviceBuffer<T> buf(host.size());
  if (!host.empty()) {
    ATTNROOF_CUDA_CHECK(
        cudaMemcpyAsync(buf.get(), host.data(), buf.bytes(), cudaMemcpyHostToDevice, stream));
    ATTNROOF_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  return buf;
}

// A host copy of buf after the work queued on `stream` (the stream that wrote it).
template <class T>
std::vector<T> download(const DeviceBuffer<T>& buf, cudaStream_t stream = nullptr) {
  std::vector<T> host(buf.size());
  if (!host.empty()) {
    ATTNROOF_CUDA_CHECK(
        cudaMemcpyAsync(host.data(), buf.get(), buf.bytes(), cudaMemcpyDeviceToHost, stream));
    ATTNROOF_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  return host;
}

// True when a CUDA device can be used. Any error from cudaGetDeviceCount (no driver, no device)
// means "no GPU"; the sticky error is cleared.
bool cuda_device_available();

}  // namespace attnroof

#include "calibrate/gpu_timer.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cuda_util/cuda_check.h"

namespace attnroof::calibrate {

namespace {

// Reads every 16-byte word through L1/L2 with the default cache policy (allocating, unlike the
// ceiling probe's streaming loads) and stores a fold of them only if impossible.
__global__ void l2_sweep_kernel(const uint4* __restrict__ src, std::size_t n, unsigned* sink) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  unsigned acc = 0;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const uint4 v = src[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x9e3779b9u && sink != nullptr) *sink = acc;
}

}  // namespace

struct GpuTimer::Impl {
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  DeviceBuffer<unsigned char> flush;
  DeviceBuffer<unsigned> sink;
  L2Flush mode = L2Flush::clean;
  int flush_value = 0;
  int sweep_blocks = 0;

  void flush_l2() {
    if (mode == L2Flush::dirty) {
      flush_value = (flush_value + 1) & 0xff;
      ATTNROOF_CUDA_CHECK(cudaMemsetAsync(flush.get(), flush_value, flush.bytes(), stream));
      return;
    }
    l2_sweep_kernel<<<sweep_blocks, 512, 0, stream>>>(
        reinterpret_cast<const uint4*>(flush.get()), flush.bytes() / sizeof(uint4), sink.get());
    ATTNROOF_CUDA_CHECK_LAUNCH();
  }
  template <class Run>
  TimingStats measure(Run&& run, int warmup, int runs) {
    for (int i = 0; i < warmup; ++i) run();
    std::vector<double> us;
    for (int i = 0; i < runs; ++i) {
      flush_l2();
      ATTNROOF_CUDA_CHECK(cudaEventRecord(start, stream));
      run();
      ATTNROOF_CUDA_CHECK(cudaEventRecord(stop, stream));
      ATTNROOF_CUDA_CHECK(cudaEventSynchronize(stop));
      float ms = 0;
      ATTNROOF_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
      us.push_back(double(ms) * 1e3);
    }
    std::sort(us.begin(), us.end());
    TimingStats t;
    t.runs = runs;
    if (!us.empty()) {
      const std::size_t n = us.size();
      t.median_us = n % 2 ? us[n / 2] : 0.5 * (us[n / 2 - 1] + us[n / 2]);
      t.min_us = us.front();
      t.max_us = us.back();
    }
    return t;
  }
};

GpuTimer::GpuTimer(std::size_t flush_bytes, L2Flush flush) : impl_(std::make_unique<Impl>()) {
  ATTNROOF_CUDA_CHECK(cudaStreamCreateWithFlags(&impl_->stream, cudaStreamNonBlocking));
  ATTNROOF_CUDA_CHECK(cudaEventCreate(&impl_->start));
  ATTNROOF_CUDA_CHECK(cudaEventCreate(&impl_->stop));
  impl_->mode = flush;
  impl_->flush = DeviceBuffer<unsigned char>(flush_bytes);
  impl_->sink = DeviceBuffer<unsigned>(1);
  // The sweep reads initialized memory (compute-sanitizer initcheck stays quiet).
  ATTNROOF_CUDA_CHECK(cudaMemsetAsync(impl_->flush.get(), 1, flush_bytes, impl_->stream));
  int device = 0, sms = 0;
  ATTNROOF_CUDA_CHECK(cudaGetDevice(&device));
  ATTNROOF_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  impl_->sweep_blocks = 4 * sms;
}

GpuTimer::~GpuTimer() {
  // Destructors log nothing and never throw (docs/architecture.md "Rules everything keeps"):
  // errors here are ignored.
  if (impl_->start) (void)cudaEventDestroy(impl_->start);
  if (impl_->stop) (void)cudaEventDestroy(impl_->stop);
  if (impl_->stream) (void)cudaStreamDestroy(impl_->stream);
}

cudaStream_t GpuTimer::stream() const { return impl_->stream; }

TimingStats GpuTimer::time(const std::function<void(cudaStream_t)>& fn, int warmup, int runs) {
  return impl_->measure([&] { fn(impl_->stream); }, warmup, runs);
}

TimingStats GpuTimer::time_graph(const std::function<void(cudaStream_t)>& fn, int warmup,
                                 int runs) {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  ATTNROOF_CUDA_CHECK(cudaStreamBeginCapture(impl_->stream, cudaStreamCaptureModeThreadLocal));
  fn(impl_->stream);
  ATTNROOF_CUDA_CHECK(cudaStreamEndCapture(impl_->stream, &graph));
  ATTNROOF_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  TimingStats t = impl_->measure(
      [&] { ATTNROOF_CUDA_CHECK(cudaGraphLaunch(exec, impl_->stream)); }, warmup, runs);
  ATTNROOF_CUDA_CHECK(cudaGraphExecDestroy(exec));
  ATTNROOF_CUDA_CHECK(cudaGraphDestroy(graph));
  return t;
}

}  // namespace attnroof::calibrate

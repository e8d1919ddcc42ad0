// defines: ClockSample, GpuClocks (the SM clock and board power of one CUDA device, through NVML)
//
// NVML is opened at run time (dlopen of the driver's libnvidia-ml.so.1, nvmlInit once per
// process), not linked: the binaries then start on machines without the driver (CI, the CPU
// build machine, where `attnroof bench-kernels` must still say "no GPU"), and the CUDA Toolkit
// needs no NVML headers or stub. Where NVML cannot be opened or does not answer, every reading is
// 0 and status() says why: clocks are context for a measurement, never a reason to fail it.
// Host-clean: no CUDA or NVML headers.
#pragma once
#include <string>

namespace attnroof::calibrate {

struct ClockSample {
  double sm_clock_mhz = 0;  // nvmlDeviceGetClockInfo(NVML_CLOCK_SM); 0: unknown
  double power_w = 0;       // nvmlDeviceGetPowerUsage (board, mW / 1000); 0: unknown
};

class GpuClocks {
 public:
  // The CUDA device cuda_device, found in NVML by its PCI bus id (NVML and CUDA number devices
  // differently), by index when the bus id is not found. Never throws.
  explicit GpuClocks(int cuda_device);
  bool available() const { return device_ != nullptr; }
  // "NVML: device 0000:19:00.0" or why there are no readings ("NVML: libnvidia-ml.so.1 not
  // found (...)").
  const std::string& status() const { return status_; }
  // Zeros when unavailable; a field NVML refuses stays 0.
  ClockSample read() const;

 private:
  void* device_ = nullptr;  // nvmlDevice_t
  std::string status_;
};

}  // namespace attnroof::calibrate

// NVML through dlopen (gpu_clocks.h says why). The few entry points used are declared here with
// the types of nvml.h (NVML_SUCCESS = 0, NVML_CLOCK_SM = 1, handles are opaque pointers); the
// versioned names (_v2) are the ones nvml.h maps the plain names onto.
#include "calibrate/gpu_clocks.h"

#include <cuda_runtime.h>
#include <dlfcn.h>
#include <fmt/format.h>

#include <mutex>

namespace attnroof::calibrate {

namespace {

using NvmlReturn = int;
using NvmlDevice = void*;
constexpr NvmlReturn kNvmlSuccess = 0;
constexpr int kNvmlClockSm = 1;

struct Nvml {
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*by_pci)(const char*, NvmlDevice*) = nullptr;
  NvmlReturn (*by_index)(unsigned, NvmlDevice*) = nullptr;
  NvmlReturn (*clock_info)(NvmlDevice, int, unsigned*) = nullptr;
  NvmlReturn (*power_usage)(NvmlDevice, unsigned*) = nullptr;
  const char* (*error_string)(NvmlReturn) = nullptr;
  bool ok = false;
  std::string why;  // when !ok

  std::string error(NvmlReturn r) const {
    return error_string != nullptr ? fmt::format("{} ({})", error_string(r), r)
                                   : fmt::format("error {}", r);
  }
};

template <class Fn>
bool load(void* lib, const char* name, Fn& fn) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  return fn != nullptr;
}

// Opened and initialized once per process; never closed (NVML's handles live until exit).
const Nvml& nvml() {
  static Nvml n;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = dlerror();
      n.why = fmt::format("libnvidia-ml.so.1 not found ({})", e != nullptr ? e : "dlopen failed");
      return;
    }
    (void)load(lib, "nvmlErrorString", n.error_string);
    const bool all = load(lib, "nvmlInit_v2", n.init) &&
                     load(lib, "nvmlDeviceGetHandleByPciBusId_v2", n.by_pci) &&
                     load(lib, "nvmlDeviceGetHandleByIndex_v2", n.by_index) &&
                     load(lib, "nvmlDeviceGetClockInfo", n.clock_info) &&
                     load(lib, "nvmlDeviceGetPowerUsage", n.power_usage);
    if (!all) {
      n.why = "libnvidia-ml.so.1 lacks an entry point (nvmlInit_v2, nvmlDeviceGetHandleBy*_v2, "
              "nvmlDeviceGetClockInfo or nvmlDeviceGetPowerUsage)";
      return;
    }
    if (const NvmlReturn r = n.init(); r != kNvmlSuccess) {
      n.why = fmt::format("nvmlInit_v2 failed: {}", n.error(r));
      return;
    }
    n.ok = true;
  });
  return n;
}

}  // namespace

GpuClocks::GpuClocks(int cuda_device) {
  const Nvml& n = nvml();
  if (!n.ok) {
    status_ = "NVML: " + n.why;
    return;
  }
  char bus[32] = {};
  NvmlDevice dev = nullptr;
  std::string pci_note;
  if (cudaDeviceGetPCIBusId(bus, int(sizeof bus), cuda_device) == cudaSuccess) {
    if (const NvmlReturn r = n.by_pci(bus, &dev); r == kNvmlSuccess) {
      device_ = dev;
      status_ = fmt::format("NVML: device {}", bus);
      return;
    } else {
      pci_note = fmt::format("PCI bus id {} not found in NVML: {}; ", bus, n.error(r));
    }
  } else {
    (void)cudaGetLastError();  // not sticky; keep the CUDA error state clean
    pci_note = "cudaDeviceGetPCIBusId failed; ";
  }
  if (const NvmlReturn r = n.by_index(unsigned(cuda_device), &dev); r == kNvmlSuccess) {
    device_ = dev;
    status_ = fmt::format("NVML: {}device by index {}", pci_note, cuda_device);
    return;
  } else {
    status_ = fmt::format("NVML: {}no device at index {}: {}", pci_note, cuda_device, n.error(r));
  }
}

ClockSample GpuClocks::read() const {
  ClockSample s;
  if (device_ == nullptr) return s;
  const Nvml& n = nvml();
  unsigned v = 0;
  if (n.clock_info(device_, kNvmlClockSm, &v) == kNvmlSuccess) s.sm_clock_mhz = double(v);
  if (n.power_usage(device_, &v) == kNvmlSuccess) s.power_w = double(v) * 1e-3;
  return s;
}

}  // namespace attnroof::calibrate

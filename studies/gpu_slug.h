// defines: gpu_slug (the one folder name a GPU gets wherever its name becomes a path:
//          reports/kernels/<slug>/ of bench-kernels, reports/tp/<slug>/ of tp-step and
//          tp-collectives)
#pragma once
#include <string>
#include <string_view>

namespace attnroof::cli {

// The device name as CUDA reports it (cudaDeviceProp::name), lower-cased, every run of
// characters other than ASCII letters and digits one '-', none at either end:
//   "NVIDIA H100 80GB HBM3" -> "nvidia-h100-80gb-hbm3", "NVIDIA H200" -> "nvidia-h200".
// The whole name, so that boards of one chip with different memory or links (H100 SXM, H100
// PCIe, H100 NVL) get different folders. "unknown-gpu" when nothing is left.
std::string gpu_slug(std::string_view device_name);

}  // namespace attnroof::cli

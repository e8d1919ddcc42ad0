// defines: force_nvls_off, on_each_rank, run_environment, machine_slug, median_of, write_report
//          (what both TP executables share: the NCCL environment, one thread per rank, the
//          report header and the JSON/CSV writer)
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnroof::kernels::tp {

// Sets NCCL_NVLS_ENABLE=0 (NVLink multicast off, as the device machines require) before any
// NCCL call; returns the value found before ("" when unset).
std::string force_nvls_off();

// Runs fn(r) for every rank r in [0, ranks) on a thread of its own, after cudaSetDevice(r) (as one
// process per GPU would); once all have finished, rethrows the lowest failing rank's exception.
void on_each_rank(int32_t ranks, const std::function<void(int32_t)>& fn);

// {command, host, gpu, sm_count, l2_bytes, driver, runtime, nccl_version, visible_gpus,
//  env: {NCCL_NVLS_ENABLE, NCCL_NVLS_ENABLE_before, CUDA_VISIBLE_DEVICES}, utc}
nlohmann::json run_environment(const std::string& command, int device,
                               const std::string& nvls_before);

// "nvidia-h100-80gb-hbm3" from the device name (reports/tp/<machine>/).
std::string machine_slug(int device);

double median_of(std::vector<double> v);

// dir/<stem>.json (report, indented) and dir/<stem>.csv (csv text); creates dir.
void write_report(const std::string& dir, const std::string& stem, const nlohmann::json& report,
                  const std::string& csv);

}  // namespace attnroof::kernels::tp

// defines: force_nvls_off, on_each_rank, run_environment, median_of
//          (what the TP step and the collective sweep share: the NCCL environment, one thread
//          per rank, the report header)
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

double median_of(std::vector<double> v);

}  // namespace attnroof::kernels::tp

// defines: Efficiency, Hardware, builtin_hardware, find_hardware, load_hardware_file, keep_hardware
//
// Hardware is data: model/data/hardware/<id>.json, embedded into the binary at build time. Every
// number carries its source and the date it was read. Efficiencies start as clearly labelled
// uncalibrated defaults; calibration profiles (calibrate/) replace them.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "model/dtype.h"
#include "model/json_reader.h"

namespace attnroof::model {
struct CalibrationProfile;
}

namespace attnroof::model {

struct Efficiency {
  double hbm = 0;                  // achieved / spec HBM bandwidth
  double tensor = 0;               // achieved / spec dense tensor FLOP/s
  double link = 0;                 // achieved / spec per-direction interconnect bandwidth
  double kernel_overhead_s = 0;    // fixed cost per stage (launch, ramp, tail)
  double collective_latency_s = 0; // alpha: fixed cost per collective step
  bool calibrated = false;
  std::string source;              // "uncalibrated default: ..." or the calibration file
};

struct Hardware {
  std::string id;    // "h100_sxm"
  std::string name;  // "NVIDIA H100 SXM5 80GB"
  double hbm_bytes_per_s = 0;
  double hbm_capacity_bytes = 0;
  double dense_bf16_flops_per_s = 0;  // dense (no sparsity); fp16 is the same on these parts
  double dense_fp8_flops_per_s = 0;   // 0: no fp8 tensor format on this part (A100)
  double dense_fp32_flops_per_s = 0;  // non-tensor FP32
  double link_bytes_per_s = 0;        // per GPU, per direction (NVLink / Infinity Fabric)
  int64_t sm_count = 0;               // SMs (CUs on AMD)
  double l2_bytes = 0;                // last-level cache; 0: not published
  double reserved_bytes = 0;          // runtime context + framework reserve, not for weights/KV
  Efficiency efficiency;
  nlohmann::json sources;             // per-field source and retrieval date, echoed verbatim
  // The fitted decode time model of this GPU (model/calibration.h): the shipped profile of a
  // builtin part (model/data/calibration/<id>.json), a user's (--calibration FILE), or none.
  // When set, the attention stage of a variant our kernels implement is priced by it.
  std::shared_ptr<const CalibrationProfile> calibration;

  // Peak dense FLOP/s for matmuls whose inputs are in `compute` format.
  double peak_flops_per_s(Dtype compute) const;
  // Whether matmuls in `compute` format run on this part (peak > 0).
  bool supports(Dtype compute) const;
  nlohmann::json to_json() const;
};

std::span<const Hardware> builtin_hardware();
// A hardware profile kept alive for the whole process (files loaded and calibration overrides
// made by the command line); the pointer stays valid.
const Hardware* keep_hardware(Hardware hw);
// By id ("h100_sxm") or a unique case-insensitive alias ("h100"); InputError lists the ids.
const Hardware& find_hardware(std::string_view name, std::string_view field);
Hardware load_hardware_file(const std::string& path);
Hardware parse_hardware(ObjectReader& reader);

}  // namespace attnroof::model

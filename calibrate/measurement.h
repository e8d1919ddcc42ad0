// defines: DecodeMeasurement, MeasurementSet, to_work, measurement_to_json, measurement_from_json,
//          read_measurements, parse_measurement_csv, measurements_csv, kCsvRequired, kCsvOptional,
//          GemmMeasurement
//
// One measured decode point as a typed record (docs/time-model.md "Measurements"): what ran
// (kernel, family, shape, batch, ragged contexts, query tokens, dtype), how long it took (median,
// min, max, runs), what the launcher chose (splits, and for our own kernels the whole plan), and
// where (GPU, the read ceiling measured in the same run, SM clock, commit). `bench-kernels` writes
// them into its JSON under "records"; any other kernel's benchmark can bring them as CSV
// (reports/SCHEMA.md, "Measurement CSV"). Pure C++: no CUDA.
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/dtype.h"
#include "model/time_model.h"

namespace attnroof::calibrate {

struct DecodeMeasurement {
  std::string kernel;  // the kernel's name ("latent_wgmma_d576_v512_...", "flashmla_sm90")
  model::KernelFamily family = model::KernelFamily::separate_kv;
  int64_t q_heads = 0, kv_heads = 0, d_qk = 0, d_v = 0;
  int64_t page_size = 0;          // 0: contiguous cache
  std::vector<int64_t> ctx_lens;  // one per sequence; batch = ctx_lens.size()
  int64_t q_tokens = 1;
  model::Dtype kv_dtype = model::Dtype::bf16;
  double time_s = 0;              // median
  double time_s_min = 0, time_s_max = 0;  // 0: unknown
  int64_t runs = 0;               // 0: unknown
  int64_t n_splits = 0;           // 0: unknown
  double sm_clock_mhz = 0;        // 0: unknown
  std::string gpu;                // "" unknown
  double read_ceiling_Bps = 0;    // 0: unknown (calibrate then needs --read-ceiling)
  std::string commit;             // of the kernels; "" unknown
  model::KernelPlan plan;         // our kernels only (bench JSON); CSV rows leave it unknown
  int64_t pass = 0;               // bench: which interleaved pass measured it (0 = first)
  std::string source;             // "file:row" or "file:/records/7", for messages

  int64_t batch() const { return int64_t(ctx_lens.size()); }
  int64_t ctx_len_max() const;
  bool ragged() const;
};

// One timed projection GEMM, C[M,N] = A[M,K] x W[K,N] in bf16 (calibrate/gemm_probe.h): the
// decode step's projections at M = batch x q_tokens rows.
struct GemmMeasurement {
  int64_t m = 0, n = 0, k = 0;
  double flops = 0, bytes = 0;
  double time_s = 0, time_s_min = 0, time_s_max = 0;
  int64_t runs = 0;
  double sm_clock_mhz = 0;
};

// The records of one or more files, with what is known of each file.
struct MeasurementSet {
  std::vector<DecodeMeasurement> records;
  std::vector<GemmMeasurement> gemms;              // bench-kernels --gemm-probe "gemm_records"

  std::vector<std::size_t> file_of;                // records[i] came from files[file_of[i]]
  nlohmann::json files = nlohmann::json::array();  // [{path, format, records, gpus, commit}]
};

model::DecodeWork to_work(const DecodeMeasurement& m);

nlohmann::json measurement_to_json(const DecodeMeasurement& m);
// Throws InputError naming the source, the record's JSON pointer in it ("/records/7") and the
// field.
DecodeMeasurement measurement_from_json(const nlohmann::json& j, const std::string& source,
                                        const std::string& pointer = "");

// CSV header names (reports/SCHEMA.md, "Measurement CSV"): required, then optional. Rows in any
// order; an unknown or missing column is an InputError naming it.
inline constexpr std::array<std::string_view, 12> kCsvRequired = {
    "kernel",   "family",     "q_heads", "kv_heads", "d_qk",     "d_v",
    "page_size", "batch",     "ctx_len", "q_tokens", "kv_dtype", "time_s"};
inline constexpr std::array<std::string_view, 7> kCsvOptional = {
    "gpu", "n_splits", "time_s_min", "time_s_max", "runs", "sm_clock_mhz", "read_ceiling_Bps"};

// text: the whole CSV; source names it in errors.
std::vector<DecodeMeasurement> parse_measurement_csv(const std::string& text,
                                                     const std::string& source);
// The same columns (all of them), one row per record; parse_measurement_csv reads it back.
std::string measurements_csv(const std::vector<DecodeMeasurement>& records);

// Each path: a bench-kernels JSON (its "records") or a measurement CSV (by extension .csv).
// Throws InputError for an unreadable file or a bad record.
MeasurementSet read_measurements(const std::vector<std::string>& paths);

}  // namespace attnroof::calibrate

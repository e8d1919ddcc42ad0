// defines: BenchPoint, BenchReport, read_bench_report
//
// The part of a bench-kernels JSON report (kernels/harness/benchmark.cpp) that a study's
// measured_kernels section compares with the model: the GPU, the read ceiling measured in the
// same run and one timed point per shape, batch and context. Every field is read with checked
// access, so a missing or mistyped one is an InputError naming the file, the JSON pointer and
// the rule. (The report's typed "records" are read by read_measurements, measurement.h.)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace attnroof::calibrate {

struct BenchPoint {
  std::string shape;
  int64_t batch = 0, ctx = 0;
  double kv_bytes = 0;      // KV cache bytes the kernel read
  double total_bytes = 0;   // everything it moved (KV, queries, outputs)
  double flops = 0;         // the attention FLOPs it did; 0: the report does not say
  double time_s = 0;        // CUDA-graph replay median
};

struct BenchReport {
  std::string gpu;
  std::string command;          // "" when the report does not say
  double read_ceiling_Bps = 0;  // ceilings.read_GBps, > 0
  std::vector<BenchPoint> points;  // the timed ones (skipped points are left out)
};

// Throws InputError for an unreadable file or a missing, mistyped or out-of-range field.
BenchReport read_bench_report(const std::string& path);

}  // namespace attnroof::calibrate

// defines: CheckCase, CheckResult, validation_grid, run_check, check_result_json, describe
//
// GPU-vs-CPU validation of launch_decode, shared by run_kernel_validation
// (validation.h: validate_kernels, the CLI) and the [gpu] Catch2 tests. Host-clean header.
//
// Each case draws fresh random inputs (the seed is reported), fills every cache row at or past a
// sequence's length, every unused page, the outputs and the split scratch with NaN, points
// page-table entries past the length at an all-NaN page, runs the kernel, and compares with the
// float64 reference ref::decode_reference (kernels/reference/decode_reference.h) over the same
// bf16 inputs; where cheap (decode_check.cpp kMaxSplitCheckMacs), the split partials too, against
// ref::decode_reference_split with the kernel's plan.
//
// Tolerance rule (tied to bf16, no "fraction of elements close"), for o and for the partials:
//   E   = max |o_emu - o_ref| where o_emu is the same bf16 inputs computed on the CPU with fp32
//         accumulation and the kernel's bf16 roundings (P before P V, and the output; partials
//         are stored in fp32, so their emulation skips the output rounding);
//   pass  every element |o_gpu - o_ref| - u(o_gpu) <= 2 E + 1e-5, where u is half a bf16 ulp at
//         o_gpu's magnitude for the bf16 output o (0 for the fp32 partials), and
//         max |lse_gpu - lse_ref| <= 1e-4 (natural log), no NaN/Inf anywhere in o or in the lse
//         of a row with keys, and every row without keys (a length-0 sequence, a split past the
//         end) gives o == 0 exactly and lse == -inf.
//   Why u: the kernel and the emulation each round their own fp32 result to bf16. Where the
//         two fp32 values differ in the last bits (another summation order) across a rounding
//         boundary, they land on neighbouring bf16 values, one ulp apart; E holds only the
//         emulation's half. Measured: the stress mode's round of seed 1718071484 (separate K/V,
//         d 64, 186 keys) was 0.00153 from the reference against 2 E + 1e-5 = 0.00132 before u.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/harness/check_support.h"
#include "kernels/cuda/launch_decode.h"

namespace attnroof::kernels {

struct CheckCase {
  std::string shape;  // shape_name (decode_shapes.h): "separate_d128", "latent_d576_v512"
  KernelFamily family = KernelFamily::separate_kv;
  int32_t d_qk = 0, d_v = 0, q_heads = 0, kv_heads = 0, batch = 1;
  int64_t ctx = 0;         // sequence 0's (the longest); the others 0 or in [q_tokens, ctx]
  int32_t q_tokens = 1;    // new tokens per sequence (causal among them); ctx 0 or >= q_tokens
  bool paged = false;
  int32_t page_size = 0;   // 64 or 128 when paged
};

struct CheckResult {
  CheckCase c;
  uint64_t seed = 0;
  std::vector<int32_t> ctx_lens;
  DecodePlan plan;
  OutputErrors out;          // o and lse against ref::decode_reference
  bool partials_checked = false;  // n_splits > 1 and the case is cheap enough
  OutputErrors partials;     // o_partial / lse_partial against ref::decode_reference_split
  bool passed = false;
  std::string failure;       // empty when passed
  double gpu_ms = 0;         // one launch, events (informational)
  double cpu_s = 0;          // reference + emulation (informational)
};

// reduced: the small grid for sanitizers and Catch2 (contexts <= 4097, fewer cases).
std::vector<CheckCase> validation_grid(bool reduced);

// Runs one case on the current device. cpu_threads: threads for the reference and emulation.
CheckResult run_check(const CheckCase& c, uint64_t seed, int cpu_threads,
                      const KernelChoice& choice = {});

nlohmann::json check_result_json(const CheckResult& r);
std::string describe(const CheckCase& c);

}  // namespace attnroof::kernels

// defines: kToleranceEmuFactor, kToleranceAbs, kToleranceLse, Rng, HostDecode, EmuOutput, emulate_decode_fp32, reference_decode, reference_split,
//          GpuDecodeResult, run_decode_on_gpu, OutputErrors, compare_outputs, kBf16NaN
//
// The pieces every GPU-vs-CPU decode check shares (decode_check.cpp: the kernel grid;
// layer_check.cpp: the whole MLRA-4 layer). Host-clean header.
//
// Three computations over the same bf16 inputs (one HostDecode):
//   reference_decode   ref::decode_reference (float64, kernels/reference), run per sequence (and
//                      per query-head chunk when kv_heads == 1) on CPU threads;
//   emulate_decode_fp32 the kernel's arithmetic on the CPU: fp32 dot products and sums, P rounded
//                      to bf16 before P V, the output rounded to bf16. Its distance to the
//                      reference is the error E the tolerance rule scales (decode_check.h);
//   run_decode_on_gpu  plan_decode + launch_decode with NaN-filled outputs and split scratch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cuda/launch_decode.h"
#include "kernels/reference/decode_reference.h"

namespace attnroof::kernels {

inline constexpr uint16_t kBf16NaN = 0x7FC0;

// The tolerance rule (tied to bf16; no "fraction of elements close"), decode_check.h.
inline constexpr double kToleranceEmuFactor = 2.0;
inline constexpr double kToleranceAbs = 1e-5;
inline constexpr double kToleranceLse = 1e-4;
// E (the emulation's distance to the reference) may be at most this fraction of max |ref|: a
// layout error in the bf16 inputs would make the emulation and the device wrong alike and
// inflate the tolerance with them. E is the bf16 rounding of P and the inputs, observed at
// 0.4-0.7% of max |ref| in the TP runner's layers.
inline constexpr double kEmuSanityRel = 0.03;

// The CPU threads a check runs its reference and emulation on: `requested`, or every hardware
// thread for 0. InputError below 0.
int check_threads(int requested);

// splitmix64: fast enough to fill hundreds of MB per case.
struct Rng {
  uint64_t s;
  uint64_t next();
  double uniform();  // [0, 1)
  float normal();    // Box-Muller
};

// One decode problem in host memory; bind() points p's input pointers at the vectors.
struct HostDecode {
  DecodeParams p;  // shape, scale, layout fields; pointers set by bind()
  std::vector<uint16_t> q, k, v;  // bf16 bit patterns (v empty for shared_latent)
  std::vector<int32_t> lens, page_table;
  int64_t ctx_max = 0;
  void bind();

  // The cache layouts for lens and p.batch, with room for rows_per_seq rows per sequence; each
  // returns the physical rows the cache needs. Contiguous: max_ctx_len = rows_per_seq. Paged:
  // the batch's table entries are a shuffle (std::mt19937_64(seed)) of the pages
  // [0, batch * max_pages_per_seq), and every entry past a length points at one more page, to
  // be filled with NaN: it must never be read.
  int64_t lay_out_contiguous(int64_t rows_per_seq);
  int64_t lay_out_shuffled_pages(int32_t page_size, int64_t rows_per_seq, uint64_t seed);
  // The cache row of sequence b's position t (decode_params.h), before bind() as after.
  int64_t cache_row(int64_t b, int64_t t) const;
};

struct EmuOutput {
  std::vector<float> o;          // [batch, q_tokens, q_heads, d_v], bf16-rounded like the kernel's
  std::vector<float> o_partial;  // [batch, n_splits, q_tokens, q_heads, d_v] fp32 (n_splits > 1)
};
// The fp32 emulation of the kernel over all keys (o) and, when p.n_splits > 1, per split
// (o_partial: each split's normalized output, not rounded: the kernel stores partials in fp32).
EmuOutput emulate_decode_fp32(const DecodeParams& p, int threads);

// ref::decode_reference / decode_reference_split on host params, parallel over sequences (and
// query-head chunks of a single shared KV head); same results as one call.
ref::DecodeOutput reference_decode(const DecodeParams& p, int threads);
ref::SplitOutput reference_split(const DecodeParams& p, int threads);

struct GpuDecodeResult {
  DecodePlan plan;
  std::vector<uint16_t> o;      // bf16
  std::vector<float> lse;
  std::vector<float> o_partial, lse_partial;  // the split scratch after the call (n_splits > 1)
  double gpu_ms = 0;            // one launch, events (informational)
};
// Uploads h, fills o, lse and the split scratch with NaN, plans, launches once, downloads.
GpuDecodeResult run_decode_on_gpu(const HostDecode& h, const KernelChoice& choice = {});

// How got was stored: a bf16 output (o) was rounded by the kernel itself, an fp32 one (the split
// partials) was not.
enum class GotPrecision { bf16, fp32 };

// The rule of decode_check.h applied to one output set: for every element i,
//   |got_i - ref_i| - rounding_i <= kToleranceEmuFactor * emu_err + kToleranceAbs,
// with rounding_i half a bf16 ulp of got_i for bf16 outputs (0 for fp32); max_lse_err <=
// kToleranceLse; and E <= kEmuSanityRel * max |ref|.
struct OutputErrors {
  double max_err = 0;      // max |got - ref| over rows of non-empty sequences
  double max_excess = 0;   // max (|got - ref| - rounding_i): the quantity held to the tolerance
  double emu_err = 0;      // E = max |emu - ref| over the same elements
  double tolerance = 0;    // 2 E + 1e-5
  double ref_max_abs = 0;  // max |ref| over the same elements (E is held to kEmuSanityRel of it)
  // The element of max_excess (flat index into got), for a failure's diagnosis.
  int64_t worst_index = -1;
  double worst_got = 0, worst_ref = 0, worst_emu = 0;
  double max_lse_err = 0;  // max |lse - lse_ref| over finite reference lse
  double rel_l2 = 0;       // ||got - ref|| / ||ref||
  int64_t non_finite = 0;  // NaN/Inf in got (o, or lse of a row that has keys)
  int64_t non_finite_ref = 0;  // NaN/Inf in the reference or emulation: a harness bug, fails
  bool empty_ok = true;    // rows without keys: o == 0 exactly, lse == -inf
  bool passed() const;
  std::string failure() const;  // empty when passed
};
// got/emu/ref: [rows, d_v]; lse_got/lse_ref: [rows]; row_has_keys[r] false means an empty row.
OutputErrors compare_outputs(const std::vector<float>& got, const std::vector<float>& emu,
                             const std::vector<double>& ref, const std::vector<float>& lse_got,
                             const std::vector<double>& lse_ref,
                             const std::vector<char>& row_has_keys, int64_t d_v,
                             GotPrecision precision);

// Half the spacing of bf16 values at x's binade (2^(e-8) for |x| in [2^e, 2^(e+1))): how far a
// value rounded to bf16 may sit from what was rounded. 0 for x == 0.
double bf16_half_ulp(float x);

}  // namespace attnroof::kernels

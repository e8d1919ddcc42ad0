// defines: KernelChoice, DecodePlan, supported_decode_shapes, check_decode,
//          plan_decode, launch_decode, kernel_alternatives
//
// The host API of the CUDA decode kernels. Host-clean: no CUDA headers; streams come through the
// same typedef the CUDA runtime uses (docs/architecture.md "Rules everything keeps").
//
// Use:
//   DecodeParams p = ...;                       // kernels/decode_params.h, device pointers
//   DecodePlan plan = plan_decode(p, ctx_len_max);  // host only, no synchronization
//   plan.apply_to(p);                           // n_splits, split_len
//   p.o_partial / p.lse_partial = scratch of plan.o_partial_elems / plan.lse_partial_elems fp32
//   launch_decode(p, stream);                   // asynchronous; capturable in a CUDA graph
// A KernelChoice (the same to both calls) picks another compiled plan, for measurements.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/decode_params.h"
#include "kernels/decode_shapes.h"

struct CUstream_st;
typedef CUstream_st* cudaStream_t;  // NOLINT: the CUDA runtime's own spelling

namespace attnroof::kernels {

// Every (family, d_qk, d_v) compiled in; check_decode's message lists them.
std::vector<DecodeShape> supported_decode_shapes();


// Which compiled plan serves a launch. Each shape has its default (alternative 0: the fastest
// measured on an H200) and may have alternatives: 1 the cp.async twin of a bulk-copy default,
// 2 and on other tile plans kept for measurements. validate-kernels checks every one.
struct KernelChoice {
  int alternative = 0;  // the shape's default where it has no such alternative
  bool wgmma = true;    // false: the mma.sync latent kernels on compute capability 9.0 too
  // The front-ends' spelling: ATTNROOF_WGMMA_ALT=k (one digit) and ATTNROOF_NO_WGMMA=1 (read
  // where a tool starts, never inside the launcher).
  static KernelChoice from_environment();
};

struct DecodePlan {
  int32_t n_splits = 1;      // from model::plan_splits
  int32_t split_len = 0;     // keys per split, a multiple of tile_n
  int64_t o_partial_elems = 0;    // fp32 scratch for DecodeParams::o_partial (0 when n_splits == 1)
  int64_t lse_partial_elems = 0;  // fp32 scratch for DecodeParams::lse_partial
  // What the launcher chose (echoed into reports).
  std::string kernel;        // e.g. "latent_d576_v512_m64_n32_s3"
  int32_t alternative = 0;   // the entry's place among its shape's plans (KernelChoice)
  int32_t tile_m = 0;        // query heads per CTA
  int32_t tile_n = 0;        // keys per pipeline stage
  int32_t stages = 0;        // cp.async / TMA pipeline depth (tiles in flight per CTA)
  int32_t head_blocks = 0;   // CTAs per (sequence, KV head, split) along the query heads
  int32_t threads = 0;
  int32_t smem_bytes = 0;
  int32_t ctas_per_sm = 0;   // cudaOccupancyMaxActiveBlocksPerMultiprocessor
  int32_t sm_count = 0;
  // What priced the split candidates: "calibrated (embedded: model/data/calibration/h200_sxm.json)"
  // or "uncalibrated defaults" (model::SplitKvParams{}, a read ceiling from the memory clock);
  // empty when the caller fixed split_len.
  std::string split_cost_model;

  // The split fields of the launch: n_splits and split_len (the scratch stays the caller's).
  void apply_to(DecodeParams& p) const {
    p.n_splits = n_splits;
    p.split_len = split_len;
  }
};

// Every problem with p (shape not compiled, bad pointers or alignment, inconsistent sizes,
// missing split scratch), all at once; empty means launch_decode accepts it. Pure host code.
std::vector<std::string> check_decode(const DecodeParams& p);

// Splits for a batch whose longest context is ctx_len_max: model::plan_splits, the fastest of the
// one-wave split counts under the time model with the kernel's tile, occupancy and the device's
// SM count, priced by this GPU's embedded calibration profile (split_cost_model says which).
// split_len > 0 asks for that many keys per split instead
// (rounded up to the kernel's tile; for tuning the planner). Throws InputError listing
// check_decode's problems (ignoring the split fields).
DecodePlan plan_decode(const DecodeParams& p, int64_t ctx_len_max, int64_t split_len = 0,
                       const KernelChoice& choice = {});

// Launches the split kernel and, when p.n_splits > 1, the merge. No host synchronization.
// Any split plan is correct (the last split takes every key left); plan_decode's is the fast one.
// Throws InputError (check_decode's list) or CudaError.
void launch_decode(const DecodeParams& p, cudaStream_t stream, const KernelChoice& choice = {});

// The largest KernelChoice::alternative any compiled shape has (validate-kernels checks 0..it).
int kernel_alternatives();

}  // namespace attnroof::kernels

// defines: TpVariant, TpCase, TpCall, TpRank, TpProblem, VariantSetup, make_variant_setup,
//          make_tp_problem, describe_tp_case, TpCheck, check_tp_output
//
// The host side of the TP decode step (kernels/tp/README.md): from the float64
// reference's seeded weights and cache (kernels/reference, the same weights as its single-device
// decode), every rank's shard by the model's sharding rules (docs/variants.md "TP rules", "MLA",
// "Latent family", "GLA", "MLRA"):
//
//   GQA      rank r: query heads [r h/t, (r+1) h/t), the KV heads they use (replicated when
//            t > h_kv), W^O rows of its heads. One separate_kv call; y_i = o_i.
//   latent   (MLA, GLA-n, MLRA-4) n_c blocks, block b serves heads H_b (MLA: all; GLA: h/n_c
//            consecutive; MLRA-4: all). t <= n_c: rank r holds blocks [r n_c/t, (r+1) n_c/t) with
//            every head they serve; t > n_c: block r / (t/n_c), and part r % (t/n_c) of its heads
//            (the block is replicated, its heads split among the replicas). k^R on every rank.
//            One shared_latent call per (block, heads): query rows [q̃_{b,i} | q^R_i],
//            cache rows [ĉ_b | k^R], V = ĉ_b, tau = 1/sqrt(d_nope + d_rope);
//            y_i += out_scale z_{b,i} W^UV_{b,i}.
//   W^O      replicated (every variant; MLRA option A): the rank applies the W^O rows of the
//            heads of its y, then one all-reduce of d. sharded (MLRA option B; needs y over all
//            heads): reduce-scatter y (rank r receives heads [r h/t, (r+1) h/t)), W^O rows of
//            those heads, then one all-reduce of d.
//
// What is on the host and not timed: x -> q (W^DQ, RMSNorm, W^UQ, RoPE), the absorption
// q^N W^UK^T, and the cache (the reference's append over ctx tokens). The device step is
// attention + W^UV + W^O + collectives (README "what the step covers").
//
// Tolerance rule (the kernels' rule, decode_check.h, carried through the finish like
// layer_check.h): out_emu = the host finish (bf16-rounded W^UV and W^O, float64 sums) over the
// fp32 emulation of every call on the same bf16 inputs; E = max |out_emu - out_ref|;
// pass: max |out_gpu - out_ref| <= 2 E + 1e-5, no non-finite output, E <= 3% of max |out_ref|
// (bf16-sized: guards the bf16 input layout, which the emulation and the device share), and the
// harness is exact:
// the float64 finish over float64 attention on the unrounded inputs matches the reference's
// single-device decode to 1e-9 relative (a wrong shard would fail here, not inflate E).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/harness/check_support.h"
#include "kernels/reference/config.h"
#include "kernels/reference/numerics.h"
#include "model/decode_cases.h"

namespace attnroof::kernels::tp {

// The variants the step shards; each takes its head shapes from a decode case's preset
// (model/decode_cases.h: gqa_tp8, mla, gla2_tp2, mlra4_tp4), sharded at the step's own TP degree.
enum class TpVariant { gqa, mla, gla2, mlra4 };

struct TpCase {
  TpVariant variant = TpVariant::mla;
  int32_t tp = 1;
  ref::OutProj out_proj = ref::OutProj::replicated;
  int64_t ctx = 4096;        // keys, new token included (batch 1)
  int64_t d_model = 1024;    // prices W^O only; the bench64 presets use 8192
  int64_t d_q_latent = 256;  // host-side query path only
  uint64_t seed = 5;
};

// One launch_decode on one rank.
struct TpCall {
  int32_t block = -1;                // latent block, -1 for GQA
  int64_t head_lo = 0, head_hi = 0;  // global query heads
  int64_t d_att = 0;                 // width of z (d_v of the call)
  HostDecode h;                      // bf16 inputs, contiguous cache, batch 1
  std::vector<uint16_t> w_uv;        // bf16 [heads, d_att, d_v] (empty: GQA, y = z)
  ref::Mat z_f64;                    // float64 attention over the unrounded inputs [heads, d_att]
};

struct TpRank {
  std::vector<TpCall> calls;
  int64_t y_lo = 0, y_hi = 0;    // heads covered by this rank's y
  int64_t wo_lo = 0, wo_hi = 0;  // heads whose W^O rows this rank holds
  std::vector<uint16_t> wo;      // bf16 [(wo_hi - wo_lo) d_v, d_model]
};

struct TpProblem {
  TpCase c;
  std::string label;  // "MLRA-4 (out_proj=sharded) TP4"
  int64_t heads = 0, d_v = 0, d_model = 0;
  double out_scale = 1;
  std::vector<TpRank> ranks;
  ref::Row out_ref;  // reference single-device decode, float64 [d_model]
  ref::Row out_f64;  // float64 finish over z_f64 (the harness)
  double harness_rel_err = 0;
  // per-rank weights held (elements): W^UV + W^O rows, for the report
  std::vector<int64_t> weight_elems;
};

// The reference model, cache and query of one variant config (built once, sharded per TP).
struct VariantSetup;
std::shared_ptr<VariantSetup> make_variant_setup(const TpCase& c);
TpProblem make_tp_problem(const VariantSetup& s, const TpCase& c);

std::string variant_name(TpVariant v);  // "gqa", "mla", "gla2", "mlra4"
// The decode case (model/decode_cases.h) whose preset gives the variant's head shapes.
const model::DecodeCase& variant_case(TpVariant v);
std::string describe_tp_case(const TpCase& c);

struct TpCheck {
  double max_err = 0, emu_err = 0, tolerance = 0, ref_max_abs = 0, rel_err = 0;
  double harness_rel_err = 0;
  int64_t non_finite = 0;
  bool passed = false;
  std::string failure;
};
// got: the device's final output [d_model] (fp32).
TpCheck check_tp_output(const TpProblem& p, const std::vector<float>& got, int cpu_threads);

// Negative control for the rule (host only): the float64 finish with the last rank's attention
// output zeroed (a rank that did not contribute); check_tp_output must fail on it.
std::vector<float> output_without_last_rank(const TpProblem& p);

}  // namespace attnroof::kernels::tp

// defines: Stage, Op, CollectiveKind, Collective, Cost (per layer, per device, one decode step)
//
// A Cost lists named operations, each with the formula it was computed by, grouped into the
// stages a decode step runs as separate kernels. Fixed-size storage: a sweep builds millions of
// these and must not allocate.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

#include "model/time_model.h"

namespace attnroof::model {

// The kernels a decode step runs, in order. Ops in one stage are timed together (one roofline
// evaluation per stage: its FLOPs against its bytes).
enum class Stage { projection, attention, output };
inline constexpr std::array<Stage, 3> kAllStages = {Stage::projection, Stage::attention,
                                                    Stage::output};
std::string_view to_string(Stage s);

// Arithmetic intensity, FLOP per byte; 0 when there are no bytes (an op whose operands another op
// of the same fused stage already streamed: its stage's intensity is the one that bounds it).
inline double intensity(double flops, double bytes) { return bytes > 0 ? flops / bytes : 0; }

struct Op {
  std::string_view name;     // "q_down_proj", "scores", "value", ... (glossary in SCHEMA.md)
  std::string_view formula;  // the formula's name as in docs/variants.md, e.g. "2*B*h_t*L*(d_c+d_R)"
  Stage stage = Stage::projection;
  double flops = 0;
  double weight_bytes = 0;    // weights read once per step
  double kv_read_bytes = 0;   // cache read
  double kv_write_bytes = 0;  // new cache rows written
  double act_bytes = 0;       // activations read and written (q, o, partial results)
  double bytes() const { return weight_bytes + kv_read_bytes + kv_write_bytes + act_bytes; }
  double intensity() const { return model::intensity(flops, bytes()); }
};

enum class CollectiveKind { all_reduce, reduce_scatter, all_gather, all_to_all };
std::string_view to_string(CollectiveKind k);

struct Collective {
  CollectiveKind kind = CollectiveKind::all_reduce;
  std::string_view name;     // "out_proj_all_reduce", ...
  std::string_view formula;  // "B*d"
  double elems = 0;          // message elements per device (the full vector being reduced)
  int64_t count = 1;         // how many such collectives per layer per step
  int64_t group = 0;         // devices taking part; 0: the point's tp (the attention's TP group)
};

// The attention stage as one of our decode kernels would run it on the device (the calibrated
// time model prices it, model/time_model.h). Absent for forms no kernel implements (materialized
// latents, TPA, MFA, ...): their attention stage keeps the plain roofline.
struct AttentionKernelShape {
  bool present = false;
  KernelFamily family = KernelFamily::separate_kv;
  int64_t q_heads = 0;   // query heads (latent: (block, head) instances) on the device
  int64_t kv_heads = 0;  // KV heads (latent: latent blocks) on the device
  int64_t d_qk = 0, d_v = 0;
};

struct Cost {
  static constexpr int kMaxOps = 16;
  static constexpr int kMaxCollectives = 4;

  std::array<Op, kMaxOps> ops{};
  int n_ops = 0;
  std::array<Collective, kMaxCollectives> collectives{};
  int n_collectives = 0;

  // Per device, per layer: what the numbers above were computed from.
  double kv_elems_per_token = 0;  // cached elements per token (worst device)
  double weight_params = 0;       // attention weight parameters resident on the device
  AttentionKernelShape attention_kernel;

  void add(const Op& op);                  // throws std::logic_error past kMaxOps
  void add(const Collective& collective);  // throws std::logic_error past kMaxCollectives

  double flops() const;
  double flops(Stage s) const;
  double bytes() const;
  double bytes(Stage s) const;
  double kv_read_bytes() const;
  // Sum of the FLOPs of every op with this name (0 when absent).
  double flops_of(std::string_view op_name) const;
};

}  // namespace attnroof::model

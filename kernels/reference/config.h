// defines: RefConfig, parse_ref_config, small_config, precision_config,
// ref_variant_name
//
// The reference reads the same config object as the cost model (model/registry.h make_variant),
// with the same keys, so the one-truth check can build both from one JSON. Keys per variant:
//   mha, mqa      d_model, q_heads, d_head
//   gqa           + kv_heads
//   mfa           d_model, q_heads, d_head (= d_f), d_q_latent, key_reuse (false: MFA-KR's value
//                 re-parameterization is not given by any source read, so it is refused)
//   gta           d_model, q_heads, kv_heads, d_head, d_rope
//   tpa           d_model, q_heads, d_head, q_rank, k_rank, v_rank
//   lrkv          d_model, q_heads, d_head, rank, rope ("materialized" | "latent")
//   mla, gla, mlra2, mlra4, tpla
//                 d_model, q_heads, d_q_latent, d_rope, d_nope, d_v, and
//                 mla: d_latent;  gla: n_blocks, d_block;  mlra2/mlra4: d_latent (4 blocks),
//                 out_proj ("replicated" | "sharded");  tpla: d_latent, groups
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "model/attention_options.h"
#include "model/json_reader.h"
#include "model/variant_list.h"

namespace attnroof::ref {

// The cost model's enums (the reference reads their values from the config itself).
using model::Form;
using model::LrkvRope;
using model::OutProj;
using model::VariantId;

struct RefConfig {
  VariantId id = VariantId::mha;
  int64_t d_model = 0;
  int64_t q_heads = 0;
  int64_t kv_heads = 0;    // mha/mqa/gqa/gta (mqa, mfa: 1)
  int64_t d_head = 0;      // separate-KV / gta / tpa / lrkv head width (mfa: d_f)
  int64_t d_q_latent = 0;  // latent family and mfa
  int64_t d_latent = 0;    // latent family: total latent width d_c
  int64_t n_blocks = 1;    // latent blocks (mla 1, gla n, mlra 4, tpla groups)
  int64_t d_rope = 0;
  int64_t d_nope = 0;
  int64_t d_v = 0;
  int64_t rank = 0;        // lrkv r
  int64_t q_rank = 0;      // tpa R_q, R_K, R_V
  int64_t k_rank = 0;
  int64_t v_rank = 0;
  OutProj out_proj = OutProj::replicated;
  LrkvRope lrkv_rope = LrkvRope::materialized;
  nlohmann::json json;     // the config object as given (passed to make_variant unchanged)

  int64_t d_block() const { return d_latent / n_blocks; }
  bool latent_family() const;
  // "MLRA-4", "LRKV (rope=latent)", ...
  std::string label() const;
};

// Strict: unknown keys and bad values are InputErrors naming the position.
RefConfig parse_ref_config(VariantId id, const nlohmann::json& config,
                           const model::JsonSource& source);
// A small config for tests and `verify` (q_heads query heads; odd sizes allowed where the
// variant's structure permits).
nlohmann::json small_config(VariantId id, int64_t q_heads, const std::string& option = "");
// Real head and RoPE widths (d_head 128, d_rope 64, latent 512, MFA d_f 256, ...) with a tiny
// d_model and 2 query heads: the precision study's configs, where the number of RoPE
// frequencies (and so the fp32 angle rounding) is that of the real models.
nlohmann::json precision_config(VariantId id, const std::string& option = "");
// The reference's short name: the model id plus the option that changes the math
// ("lrkv:latent", "mlra4:sharded").
std::string ref_variant_name(const RefConfig& c);

}  // namespace attnroof::ref

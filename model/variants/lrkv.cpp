// LRKV, low-rank key-value attention (docs/variants.md "LRKV"; O'Neill et al., arXiv
// 2601.11471v3, §3).
// Per-head keys and values are a shared head plus a per-head rank-r residual:
// W^K_h = W^K_sh + U^K_h B^K_h^T (likewise V), W_sh in R^{d x d_h}, U_h in R^{d x r},
// B_h in R^{d_h x r}. The cache holds the shared K_sh, V_sh (d_h each, replicated under TP) and the
// per-head latents R^K_h = X U^K_h, R^V_h (r each, sharded with the heads): 2 (d_h + h_t r).
// Queries are full rank per head.
//
// The paper leaves open where RoPE acts (docs/variants.md "LRKV", "Open choices"), so `rope` is
// a required key:
//   "materialized"  reading (a): RoPE rotates the reconstructed d_h-dim key. The rotation sits
//                   between q and B^K, so keys cannot stay factorized at decode: the absorbed form
//                   factorizes only the value path and reconstructs K for every cached token.
//   "latent"        reading (b): RoPE acts on the r-dim latents, and eqs. 6-7 decode exactly from
//                   the factorized cache (the residual score is then not relative: docs/variants.md
//                   "Equivariance").
//
//   all forms      2 T d (h_t d_h + 2 d_h + 2 h_t r)   qkv_proj (T = B * q_tokens)
//                + 2 T h_t d_h d                       out_proj
//   absorbed, rope latent
//                + 2 T h_t d_h r                       absorb    q B^K
//                + 2 A h_t (d_h + r)                   scores    q K_sh^T + (q B^K) R^K^T
//                + 2 A h_t (d_h + r)                   value     a V_sh and a R^V
//                + 2 T h_t r d_h                       unabsorb  (a R^V) B^V^T
//   absorbed, rope materialized
//                + 2 N h_t r d_h                       materialize_k (N = cached rows)
//                + 2 A h_t d_h                         scores on the reconstructed keys
//                + 2 A h_t (d_h + r) + 2 T h_t r d_h   value, unabsorb as above
//   materialized (either reading)
//                + 2 * 2 N h_t r d_h                   materialize_kv
//                + 2 A h_t d_h + 2 A h_t d_h           scores, value (MHA)
//   weights        d h_t d_h + 2 d d_h + 2 d h_t r + 2 h_t d_h r + h_t d_h d
//   comm           1 all-reduce of T*d
// Not modelled: a per-head post-projection RMSNorm on K would also cache h scalars per token
// (docs/variants.md "LRKV", "Open choices").
#include <fmt/format.h>

#include "model/attention_options.h"
#include "model/checked_math.h"
#include "model/config_keys.h"
#include "model/registry.h"
#include "model/variants/dense_projections.h"
#include "model/tp.h"

namespace attnroof::model {
namespace {

struct LrkvConfig {
  int64_t d_model = 0;
  int64_t q_heads = 0;
  int64_t d_head = 0;
  int64_t rank = 0;  // r
  LrkvRope rope = LrkvRope::materialized;
};

class Lrkv final : public AttentionVariant {
 public:
  explicit Lrkv(LrkvConfig c) : c_(c) {}

  VariantId id() const override { return VariantId::lrkv; }
  std::string label() const override { return fmt::format("LRKV r={}", c_.rank); }
  int64_t d_model() const override { return c_.d_model; }
  int64_t q_heads() const override { return c_.q_heads; }
  int64_t d_head() const override { return c_.d_head; }

  std::vector<std::string> check_tp(int64_t tp) const override {
    return check_head_split(c_.q_heads, tp);
  }

  int64_t kv_elems_per_token(int64_t tp) const override {
    constexpr std::string_view what = "cached elements per token (shared heads and latents)";
    const int64_t latents =
        checked_product({{"q_heads on the device", c_.q_heads / tp}, {"rank", c_.rank}}, what);
    const int64_t half = checked_sum({{"d_head", c_.d_head}, {"q_heads x rank", latents}}, what);
    return checked_product({{"", 2}, {"d_head + q_heads x rank", half}}, what);
  }

  double weight_params(int64_t tp) const override {
    const double h_t = double(c_.q_heads / tp), d = double(c_.d_model), dh = double(c_.d_head);
    const double r = double(c_.rank);
    return d * (h_t * dh + 2 * dh + 2 * h_t * r) + 2 * h_t * dh * r + h_t * dh * d;
  }

  Cost decode_cost(const DecodePoint& p) const override {
    const double h_t = double(c_.q_heads / p.tp), d = double(c_.d_model), dh = double(c_.d_head);
    const double r = double(c_.rank);
    const double T = p.tokens(), A = p.attended_keys(), N = p.cached_rows();
    const double wb = bytes_of(p.dtypes.weight), kvb = bytes_of(p.dtypes.kv),
                 ab = bytes_of(p.dtypes.act);
    const double proj_width = h_t * dh + 2 * dh + 2 * h_t * r;
    const double half_row = dh + h_t * r;  // the K (or V) half of a cached row: shared + latents
    Cost cost;
    cost.kv_elems_per_token = double(kv_elems_per_token(p.tp));
    cost.weight_params = weight_params(p.tp);
    add_qkv_projection(cost, p, proj_width, d, "2*T*d*(h_t*d_h+2*d_h+2*h_t*r)");
    if (p.form == Form::materialized) {
      cost.add(Op{.name = "materialize_kv",
                  .formula = "2*2*N*h_t*r*d_h",
                  .stage = Stage::attention,
                  .flops = 4 * N * h_t * r * dh,
                  .weight_bytes = 2 * h_t * dh * r * wb,
                  .kv_read_bytes = N * 2 * half_row * kvb,
                  .act_bytes = N * 2 * h_t * dh * ab});
      cost.add(Op{.name = "scores",
                  .formula = "2*A*h_t*d_h",
                  .stage = Stage::attention,
                  .flops = 2 * A * h_t * dh,
                  .act_bytes = (N + T) * h_t * dh * ab});
      cost.add(Op{.name = "value",
                  .formula = "2*A*h_t*d_h",
                  .stage = Stage::attention,
                  .flops = 2 * A * h_t * dh,
                  .act_bytes = (N + T) * h_t * dh * ab});
    } else {
      if (c_.rope == LrkvRope::latent) {
        cost.add(Op{.name = "absorb",
                    .formula = "2*T*h_t*d_h*r",
                    .stage = Stage::projection,
                    .flops = 2 * T * h_t * dh * r,
                    .weight_bytes = h_t * dh * r * wb,
                    .act_bytes = T * h_t * (dh + r) * ab});
        cost.add(Op{.name = "scores",
                    .formula = "2*A*h_t*(d_h+r)",
                    .stage = Stage::attention,
                    .flops = 2 * A * h_t * (dh + r),
                    .kv_read_bytes = N * half_row * kvb,
                    .act_bytes = T * h_t * (dh + r) * ab});
      } else {
        cost.add(Op{.name = "materialize_k",
                    .formula = "2*N*h_t*r*d_h",
                    .stage = Stage::attention,
                    .flops = 2 * N * h_t * r * dh,
                    .weight_bytes = h_t * dh * r * wb,
                    .kv_read_bytes = N * half_row * kvb,
                    .act_bytes = N * h_t * dh * ab});
        cost.add(Op{.name = "scores",
                    .formula = "2*A*h_t*d_h",
                    .stage = Stage::attention,
                    .flops = 2 * A * h_t * dh,
                    .act_bytes = (N + T) * h_t * dh * ab});
      }
      cost.add(Op{.name = "value",
                  .formula = "2*A*h_t*(d_h+r)",
                  .stage = Stage::attention,
                  .flops = 2 * A * h_t * (dh + r),
                  .kv_read_bytes = N * half_row * kvb,
                  .act_bytes = T * h_t * (dh + r) * ab});
      cost.add(Op{.name = "unabsorb",
                  .formula = "2*T*h_t*r*d_h",
                  .stage = Stage::output,
                  .flops = 2 * T * h_t * r * dh,
                  .weight_bytes = h_t * r * dh * wb,
                  .act_bytes = T * h_t * (r + dh) * ab});
    }
    add_row_parallel_output(cost, p, h_t, dh, d, "2*T*h_t*d_h*d");
    return cost;
  }

  nlohmann::json config_json() const override {
    return {{"d_model", c_.d_model},
            {"q_heads", c_.q_heads},
            {"d_head", c_.d_head},
            {"rank", c_.rank},
            {"rope", std::string(to_string(c_.rope))}};
  }

 private:
  LrkvConfig c_;
};

}  // namespace

namespace {
constexpr ConfigKey kLrkvKeys[] = {
    kKeyDModel, kKeyQHeads, kKeyDHead,
    {"rank", "per-head residual rank r of the K and V latents", "rank", true},
    {"rope", "where RoPE acts: 'materialized' (on the reconstructed key) or 'latent' (on the r-dim latents)", "",
     true}};
}  // namespace

std::span<const ConfigKey> config_keys_lrkv() { return kLrkvKeys; }

VariantPtr make_lrkv(ObjectReader& r) {
  LrkvConfig c;
  c.d_model = r.get_positive_int("d_model");
  c.q_heads = r.get_positive_int("q_heads");
  c.d_head = r.get_positive_int("d_head");
  c.rank = r.get_positive_int("rank");
  const std::string rope = r.get_string("rope");
  if (rope == "materialized") {
    c.rope = LrkvRope::materialized;
  } else if (rope == "latent") {
    c.rope = LrkvRope::latent;
  } else {
    r.fail("rope", fmt::format("rope = '{}' is unknown; valid: 'materialized' (RoPE on the "
                               "reconstructed d_head key, reading a) or 'latent' (RoPE on the "
                               "rank-r latents, reading b)",
                               rope));
  }
  return std::make_shared<Lrkv>(c);
}

}  // namespace attnroof::model

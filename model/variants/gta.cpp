// GTA, grouped-tied attention (docs/variants.md "GTA"; Zadouri, Strauss, Dao 2025, §3.3.1;
// modeling_llama_GTA.py, MLRA repo gta.py). One projection gives h_kv tied heads of width d_h
// used as V in full and, in their first d_h - d_R dims, as the unrotated key half; one RoPE key
// head of width d_R (d_h/2 in the papers) is shared by every head and replicated on every device.
// Tied head j serves query heads [j g, (j+1) g), g = h/h_kv, as in GQA. Absorbed and materialized
// forms coincide.
//
//   KV/device      k_t d_h + d_R                 k_t = tied heads on the worst device (tp.h; 24 q /
//                                                6 tied at t = 4 and 8 gives 2: "TP rules")
//   FLOPs/device   2 T d (h_t d_h + k_t d_h + d_R)  Q, tied KV and RoPE-key projections
//                + 2 A h_t d_h                      scores: (d_h - d_R) NoPE + d_R RoPE dims
//                + 2 A h_t d_h                      value product (V = the tied row)
//                + 2 T h_t d_h d                    output projection
//   weights        d h_t d_h + d k_t d_h + d d_R + h_t d_h d
//   comm           1 all-reduce of T*d
// KV bytes are ideal: the tied row is read once for scores and value (the paper's kernel). On FA3
// the RoPE key must be replicated per KV head (docs/variants.md "GTA"); that is not modelled here.
#include <fmt/format.h>

#include "model/checked_math.h"
#include "model/config_keys.h"
#include "model/registry.h"
#include "model/variants/dense_projections.h"
#include "model/tp.h"

namespace attnroof::model {
namespace {

struct GtaConfig {
  int64_t d_model = 0;
  int64_t q_heads = 0;
  int64_t kv_heads = 0;  // tied K/V heads
  int64_t d_head = 0;
  int64_t d_rope = 0;  // the shared RoPE key width
};

class Gta final : public AttentionVariant {
 public:
  explicit Gta(GtaConfig c) : c_(c) {}

  VariantId id() const override { return VariantId::gta; }
  std::string label() const override {
    return fmt::format("GTA {}q/{}kv", c_.q_heads, c_.kv_heads);
  }
  int64_t d_model() const override { return c_.d_model; }
  int64_t q_heads() const override { return c_.q_heads; }
  int64_t d_head() const override { return c_.d_head; }

  std::vector<std::string> check_tp(int64_t tp) const override {
    return check_head_split(c_.q_heads, tp);
  }

  int64_t tied_heads_on_device(int64_t tp) const {
    return max_units_per_device(c_.q_heads, c_.q_heads / c_.kv_heads, tp);
  }

  int64_t kv_elems_per_token(int64_t tp) const override {
    constexpr std::string_view what = "cached elements per token (tied heads and the RoPE key)";
    const int64_t tied = checked_product(
        {{"kv_heads", tied_heads_on_device(tp)}, {"d_head", c_.d_head}}, what);
    return checked_sum({{"kv_heads x d_head", tied}, {"d_rope", c_.d_rope}}, what);
  }

  double weight_params(int64_t tp) const override {
    const double h_t = double(c_.q_heads / tp), k_t = double(tied_heads_on_device(tp));
    const double d = double(c_.d_model), dh = double(c_.d_head), dr = double(c_.d_rope);
    return d * (h_t * dh + k_t * dh + dr) + h_t * dh * d;
  }

  Cost decode_cost(const DecodePoint& p) const override {
    const double h_t = double(c_.q_heads / p.tp), k_t = double(tied_heads_on_device(p.tp));
    const double d = double(c_.d_model), dh = double(c_.d_head), dr = double(c_.d_rope);
    const double T = p.tokens(), A = p.attended_keys(), N = p.cached_rows();
    const double kvb = bytes_of(p.dtypes.kv),
                 ab = bytes_of(p.dtypes.act);
    const double proj_width = h_t * dh + k_t * dh + dr;
    Cost cost;
    cost.kv_elems_per_token = double(kv_elems_per_token(p.tp));
    cost.weight_params = weight_params(p.tp);
    add_qkv_projection(cost, p, proj_width, d, "2*T*d*(h_t*d_h+k_t*d_h+d_R)");
    cost.add(Op{.name = "scores",
                .formula = "2*A*h_t*d_h",
                .stage = Stage::attention,
                .flops = 2 * A * h_t * dh,
                .kv_read_bytes = N * cost.kv_elems_per_token * kvb,
                .act_bytes = T * h_t * dh * ab});
    cost.add(Op{.name = "value",
                .formula = "2*A*h_t*d_h",
                .stage = Stage::attention,
                .flops = 2 * A * h_t * dh,
                .act_bytes = T * h_t * dh * ab});
    add_row_parallel_output(cost, p, h_t, dh, d, "2*T*h_t*d_h*d");
    return cost;
  }

  nlohmann::json config_json() const override {
    return {{"d_model", c_.d_model},
            {"q_heads", c_.q_heads},
            {"kv_heads", c_.kv_heads},
            {"d_head", c_.d_head},
            {"d_rope", c_.d_rope}};
  }

 private:
  GtaConfig c_;
};

}  // namespace

namespace {
constexpr ConfigKey kGtaKeys[] = {
    kKeyDModel, kKeyQHeads,
    {"kv_heads", "tied K/V heads, each serving q_heads/kv_heads query heads", "heads", true},
    kKeyDHead,
    {"d_rope", "width of the one RoPE key half d_R, shared by every head", "elements", true}};
}  // namespace

std::span<const ConfigKey> config_keys_gta() { return kGtaKeys; }

VariantPtr make_gta(ObjectReader& r) {
  GtaConfig c;
  c.d_model = r.get_positive_int("d_model");
  c.q_heads = r.get_positive_int("q_heads");
  c.kv_heads = r.get_positive_int("kv_heads");
  c.d_head = r.get_positive_int("d_head");
  c.d_rope = r.get_positive_int("d_rope");
  if (c.q_heads % c.kv_heads != 0) {
    r.fail("kv_heads", fmt::format("kv_heads = {} does not divide q_heads = {}: each tied head "
                                   "serves a whole group of query heads",
                                   c.kv_heads, c.q_heads));
  }
  if (c.d_rope >= c.d_head) {
    r.fail("d_rope", fmt::format("d_rope = {} must be < d_head = {}: the key is the tied head's "
                                 "first d_head - d_rope dims plus the RoPE part",
                                 c.d_rope, c.d_head));
  }
  return std::make_shared<Gta>(c);
}

}  // namespace attnroof::model

// MFA, multi-matrix factorization attention (docs/variants.md "MFA"; Hu et al., arXiv 2412.19255;
// Step-3 report arXiv 2507.19427 §2; MLRA repo mfa.py). Low-rank queries
// q = RMSNorm(x W_{Q,down}) W_{Q,up} with rank s and h heads of width d_f; ONE key head and ONE
// value head of width d_f shared by every query head (full RoPE), so the cache is replicated on
// every device like MQA. Absorbed and materialized forms coincide.
//
// MFA-KR (key_reuse = true) re-uses the key cache as the value through a re-parameterized value
// projection (MFA abstract), halving the cache. Assumed here: the value is the cached key row
// itself and any per-head value map is folded into W^O, so KR drops the value projection and the
// value read, and keeps the value product. The paper body (not read) may add a per-token term.
//
//   KV/device      n_kv d_f             n_kv = 2 (MFA) or 1 (MFA-KR), replicated
//   FLOPs/device   2 T d s              q_down_proj
//                + 2 T s h_t d_f        q_up_proj
//                + 2 T d n_kv d_f       kv_proj (computed redundantly on every device)
//                + 2 A h_t d_f          scores
//                + 2 A h_t d_f          value
//                + 2 T h_t d_f d        out_proj
//   weights        d s + s h_t d_f + n_kv d d_f + h_t d_f d
//   comm           1 all-reduce of T*d
#include <fmt/format.h>

#include "model/checked_math.h"
#include "model/config_keys.h"
#include "model/registry.h"
#include "model/variants/dense_projections.h"
#include "model/tp.h"

namespace attnroof::model {
namespace {

struct MfaConfig {
  int64_t d_model = 0;
  int64_t q_heads = 0;
  int64_t d_head = 0;      // d_f, the width of every head (query, the key, the value)
  int64_t d_q_latent = 0;  // s, the query rank
  bool key_reuse = false;  // MFA-KR
};

class Mfa final : public AttentionVariant {
 public:
  explicit Mfa(MfaConfig c) : c_(c) {}

  VariantId id() const override { return VariantId::mfa; }
  std::string label() const override { return c_.key_reuse ? "MFA-KR" : "MFA"; }
  int64_t d_model() const override { return c_.d_model; }
  int64_t q_heads() const override { return c_.q_heads; }
  int64_t d_head() const override { return c_.d_head; }

  std::vector<std::string> check_tp(int64_t tp) const override {
    return check_head_split(c_.q_heads, tp);
  }

  int64_t kv_elems_per_token(int64_t) const override {
    return checked_product({{"", cached_heads()}, {"d_head", c_.d_head}},
                           "cached elements per token (the shared key and value heads)");
  }

  double weight_params(int64_t tp) const override {
    const double h_t = double(c_.q_heads / tp), d = double(c_.d_model), df = double(c_.d_head);
    const double s = double(c_.d_q_latent);
    return d * s + s * h_t * df + double(cached_heads()) * d * df + h_t * df * d;
  }

  Cost decode_cost(const DecodePoint& p) const override {
    const double h_t = double(c_.q_heads / p.tp), d = double(c_.d_model), df = double(c_.d_head);
    const double s = double(c_.d_q_latent), n_kv = double(cached_heads());
    const double T = p.tokens(), A = p.attended_keys(), N = p.cached_rows();
    const double wb = bytes_of(p.dtypes.weight), kvb = bytes_of(p.dtypes.kv),
                 ab = bytes_of(p.dtypes.act);
    Cost cost;
    cost.kv_elems_per_token = double(kv_elems_per_token(p.tp));
    cost.weight_params = weight_params(p.tp);
    cost.add(Op{.name = "q_down_proj",
                .formula = "2*T*d*s",
                .stage = Stage::projection,
                .flops = 2 * T * d * s,
                .weight_bytes = d * s * wb,
                .act_bytes = T * (d + s) * ab});
    cost.add(Op{.name = "q_up_proj",
                .formula = "2*T*s*h_t*d_f",
                .stage = Stage::projection,
                .flops = 2 * T * s * h_t * df,
                .weight_bytes = s * h_t * df * wb,
                .act_bytes = T * (s + h_t * df) * ab});
    cost.add(Op{.name = "kv_proj",
                .formula = c_.key_reuse ? "2*T*d*d_f" : "2*T*d*2*d_f",
                .stage = Stage::projection,
                .flops = 2 * T * d * n_kv * df,
                .weight_bytes = d * n_kv * df * wb,
                .kv_write_bytes = T * cost.kv_elems_per_token * kvb,
                .act_bytes = T * d * ab});
    cost.add(Op{.name = "scores",
                .formula = "2*A*h_t*d_f",
                .stage = Stage::attention,
                .flops = 2 * A * h_t * df,
                .kv_read_bytes = N * df * kvb,
                .act_bytes = T * h_t * df * ab});
    cost.add(Op{.name = "value",
                .formula = "2*A*h_t*d_f",
                .stage = Stage::attention,
                .flops = 2 * A * h_t * df,
                .kv_read_bytes = c_.key_reuse ? 0.0 : N * df * kvb,
                .act_bytes = T * h_t * df * ab});
    add_row_parallel_output(cost, p, h_t, df, d, "2*T*h_t*d_f*d");
    return cost;
  }

  nlohmann::json config_json() const override {
    return {{"d_model", c_.d_model},
            {"q_heads", c_.q_heads},
            {"d_head", c_.d_head},
            {"d_q_latent", c_.d_q_latent},
            {"key_reuse", c_.key_reuse}};
  }

 private:
  MfaConfig c_;
  int64_t cached_heads() const { return c_.key_reuse ? 1 : 2; }
};

}  // namespace

namespace {
constexpr ConfigKey kMfaKeys[] = {
    kKeyDModel, kKeyQHeads,
    {"d_head", "width d_f of each query head and of the one K and V head", "elements", true},
    {"d_q_latent", "query latent rank s", "rank", true},
    {"key_reuse", "false: MFA (separate K and V heads); true: MFA-KR (the key cache doubles as the value)", "",
     true}};
}  // namespace

std::span<const ConfigKey> config_keys_mfa() { return kMfaKeys; }

VariantPtr make_mfa(ObjectReader& r) {
  MfaConfig c;
  c.d_model = r.get_positive_int("d_model");
  c.q_heads = r.get_positive_int("q_heads");
  c.d_head = r.get_positive_int("d_head");
  c.d_q_latent = r.get_positive_int("d_q_latent");
  if (!r.has("key_reuse")) {
    r.fail("key_reuse",
           "required key is missing: false for MFA (separate K and V heads), true "
           "for MFA-KR (the key cache doubles as the value)");
  }
  c.key_reuse = r.get_bool("key_reuse", false);
  return std::make_shared<Mfa>(c);
}

}  // namespace attnroof::model

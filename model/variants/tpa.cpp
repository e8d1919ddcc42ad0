// TPA, tensor product attention (docs/variants.md "TPA"; Zhang et al., arXiv 2501.06425; MLRA repo
// tpa.py CPLinear; tensorgi/TPA decode/flashtpa_decode_torch.py). Each of q, k, v is a rank-R sum
// of outer products of a per-head factor A(x) in R^{h x R} and a head-shared factor
// B(x) in R^{R x d_h}: k_i = sum_r A^K_{i,r} B^K_r. The cache holds the K and V factors, per token
//   (R_K + R_V)(h + d_h) elements; under TP the A factors (per head) shard and the B factors
//   (shared) replicate: (R_K + R_V)(h/t + d_h) per device.
//
// Forms. Form::absorbed means FlashTPA's factorized decode, which never forms q, K or V;
// Form::materialized forms q and reconstructs K and V for every cached token each step.
//   both           2 T d (h_t + d_h)(R_q + R_K + R_V)   factor projections (qkv_proj)
//                + 2 T h_t d_h d                        out_proj
//   materialized   2 T h_t R_q d_h                      q_factor_product
//                + 2 N h_t d_h (R_K + R_V)              materialize_kv (N = cached rows)
//                + 2 A h_t d_h + 2 A h_t d_h            scores, value (A = attended pairs)
//   factorized     2 A (R_q R_K d_h + h_t R_q R_K + h_t R_K)   scores: B_q B_K^T shared by
//                                                      the heads, then A_q, then A_K
//                + 2 A (h_t R_V + h_t R_V d_h)          value: P A_V, then B_V
//   weights        d (h_t + d_h)(R_q + R_K + R_V) + h_t d_h d
//   comm           1 all-reduce of T*d
// The q formation 2 T h_t R_q d_h is paid by the materialized form only: the FlashTPA code
// consumes A_q and B_q directly (score1 = B_q B_K^T) (docs/variants.md "TPA"). The 1/R_q scale
// is elementwise and not counted.
#include <fmt/format.h>

#include "model/checked_math.h"
#include "model/config_keys.h"
#include "model/registry.h"
#include "model/variants/dense_projections.h"
#include "model/tp.h"

namespace attnroof::model {
namespace {

struct TpaConfig {
  int64_t d_model = 0;
  int64_t q_heads = 0;
  int64_t d_head = 0;
  int64_t q_rank = 0;  // R_q
  int64_t k_rank = 0;  // R_K
  int64_t v_rank = 0;  // R_V
};

class Tpa final : public AttentionVariant {
 public:
  explicit Tpa(TpaConfig c) : c_(c) {}

  VariantId id() const override { return VariantId::tpa; }
  std::string label() const override {
    return fmt::format("TPA R_q/R_K/R_V={}/{}/{}", c_.q_rank, c_.k_rank, c_.v_rank);
  }
  int64_t d_model() const override { return c_.d_model; }
  int64_t q_heads() const override { return c_.q_heads; }
  int64_t d_head() const override { return c_.d_head; }

  std::vector<std::string> check_tp(int64_t tp) const override {
    return check_head_split(c_.q_heads, tp);
  }

  int64_t kv_elems_per_token(int64_t tp) const override {
    constexpr std::string_view what = "cached elements per token (key and value factors)";
    const int64_t ranks = checked_sum({{"k_rank", c_.k_rank}, {"v_rank", c_.v_rank}}, what);
    const int64_t width =
        checked_sum({{"q_heads on the device", c_.q_heads / tp}, {"d_head", c_.d_head}}, what);
    return checked_product({{"k_rank + v_rank", ranks}, {"q_heads + d_head", width}}, what);
  }

  double weight_params(int64_t tp) const override {
    const double h_t = double(c_.q_heads / tp), d = double(c_.d_model), dh = double(c_.d_head);
    return d * (h_t + dh) * total_rank() + h_t * dh * d;
  }

  Cost decode_cost(const DecodePoint& p) const override {
    const double h_t = double(c_.q_heads / p.tp), d = double(c_.d_model), dh = double(c_.d_head);
    const double rq = double(c_.q_rank), rk = double(c_.k_rank), rv = double(c_.v_rank);
    const double T = p.tokens(), A = p.attended_keys(), N = p.cached_rows();
    const double kvb = bytes_of(p.dtypes.kv),
                 ab = bytes_of(p.dtypes.act);
    const double factor_width = (h_t + dh) * total_rank();
    Cost cost;
    cost.kv_elems_per_token = double(kv_elems_per_token(p.tp));
    cost.weight_params = weight_params(p.tp);
    add_qkv_projection(cost, p, factor_width, d, "2*T*d*(h_t+d_h)*(R_q+R_K+R_V)");
    if (p.form == Form::absorbed) {
      cost.add(Op{.name = "scores",
                  .formula = "2*A*(R_q*R_K*d_h+h_t*R_q*R_K+h_t*R_K)",
                  .stage = Stage::attention,
                  .flops = 2 * A * (rq * rk * dh + h_t * rq * rk + h_t * rk),
                  .kv_read_bytes = N * rk * (h_t + dh) * kvb,
                  .act_bytes = T * (h_t + dh) * rq * ab});
      cost.add(Op{.name = "value",
                  .formula = "2*A*(h_t*R_V+h_t*R_V*d_h)",
                  .stage = Stage::attention,
                  .flops = 2 * A * (h_t * rv + h_t * rv * dh),
                  .kv_read_bytes = N * rv * (h_t + dh) * kvb,
                  .act_bytes = T * h_t * dh * ab});
    } else {
      cost.add(Op{.name = "q_factor_product",
                  .formula = "2*T*h_t*R_q*d_h",
                  .stage = Stage::projection,
                  .flops = 2 * T * h_t * rq * dh,
                  .act_bytes = T * ((h_t + dh) * rq + h_t * dh) * ab});
      cost.add(Op{.name = "materialize_kv",
                  .formula = "2*N*h_t*d_h*(R_K+R_V)",
                  .stage = Stage::attention,
                  .flops = 2 * N * h_t * dh * (rk + rv),
                  .kv_read_bytes = N * cost.kv_elems_per_token * kvb,
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
    }
    add_row_parallel_output(cost, p, h_t, dh, d, "2*T*h_t*d_h*d");
    return cost;
  }

  nlohmann::json config_json() const override {
    return {{"d_model", c_.d_model}, {"q_heads", c_.q_heads}, {"d_head", c_.d_head},
            {"q_rank", c_.q_rank},   {"k_rank", c_.k_rank},   {"v_rank", c_.v_rank}};
  }

 private:
  TpaConfig c_;
  double total_rank() const { return double(c_.q_rank) + double(c_.k_rank) + double(c_.v_rank); }
};

}  // namespace

namespace {
constexpr ConfigKey kTpaKeys[] = {kKeyDModel, kKeyQHeads, kKeyDHead,
                                  {"q_rank", "query factor rank R_q", "rank", true},
                                  {"k_rank", "key factor rank R_K (cached)", "rank", true},
                                  {"v_rank", "value factor rank R_V (cached)", "rank", true}};
}  // namespace

std::span<const ConfigKey> config_keys_tpa() { return kTpaKeys; }

VariantPtr make_tpa(ObjectReader& r) {
  TpaConfig c;
  c.d_model = r.get_positive_int("d_model");
  c.q_heads = r.get_positive_int("q_heads");
  c.d_head = r.get_positive_int("d_head");
  c.q_rank = r.get_positive_int("q_rank");
  c.k_rank = r.get_positive_int("k_rank");
  c.v_rank = r.get_positive_int("v_rank");
  return std::make_shared<Tpa>(c);
}

}  // namespace attnroof::model

// MHA, MQA and GQA (docs/variants.md "MHA, MQA, GQA"): separate K and V heads of width d_head; KV
// head j serves query heads [j*g, (j+1)*g). MHA is h_kv = h, MQA is h_kv = 1. Absorbed and
// materialized forms coincide.
//
//   KV/device      2 k_t d_h                       k_t = KV heads on the worst device (tp.h)
//   FLOPs/device   2 T d d_h (h_t + 2 k_t)          Q, K, V projections (T = B * q_tokens)
//                + 2 A h_t d_h                      scores   (A = attended (query, key) pairs)
//                + 2 A h_t d_h                      value product
//                + 2 T h_t d_h d                    output projection
//   weights        d d_h (h_t + 2 k_t) + h_t d_h d
//   comm           1 all-reduce of T*d (row-parallel W^O)
#include <fmt/format.h>

#include "model/checked_math.h"
#include "model/config_keys.h"
#include "model/error.h"
#include "model/registry.h"
#include "model/variants/dense_projections.h"
#include "model/tp.h"

namespace attnroof::model {
namespace {

struct GqaConfig {
  int64_t d_model = 0;
  int64_t q_heads = 0;
  int64_t kv_heads = 0;
  int64_t d_head = 0;
};

class GqaFamily final : public AttentionVariant {
 public:
  GqaFamily(VariantId id, GqaConfig c) : id_(id), c_(c) {}

  VariantId id() const override { return id_; }
  std::string label() const override {
    if (id_ == VariantId::gqa) return fmt::format("GQA {}q/{}kv", c_.q_heads, c_.kv_heads);
    return std::string(info(id_).label);
  }
  int64_t d_model() const override { return c_.d_model; }
  int64_t q_heads() const override { return c_.q_heads; }
  int64_t d_head() const override { return c_.d_head; }

  std::vector<std::string> check_tp(int64_t tp) const override {
    return check_head_split(c_.q_heads, tp);
  }

  int64_t kv_heads_on_device(int64_t tp) const {
    return max_units_per_device(c_.q_heads, c_.q_heads / c_.kv_heads, tp);
  }

  int64_t kv_elems_per_token(int64_t tp) const override {
    return checked_product({{"", 2}, {"kv_heads", kv_heads_on_device(tp)}, {"d_head", c_.d_head}},
                           "cached elements per token (a K and a V row per KV head)");
  }

  double weight_params(int64_t tp) const override {
    const double h_t = double(c_.q_heads / tp), k_t = double(kv_heads_on_device(tp));
    const double d = double(c_.d_model), dh = double(c_.d_head);
    return d * dh * (h_t + 2 * k_t) + h_t * dh * d;
  }

  Cost decode_cost(const DecodePoint& p) const override {
    const double h_t = double(c_.q_heads / p.tp), k_t = double(kv_heads_on_device(p.tp));
    const double d = double(c_.d_model), dh = double(c_.d_head);
    const double T = p.tokens(), A = p.attended_keys();
    const double kvb = bytes_of(p.dtypes.kv),
                 ab = bytes_of(p.dtypes.act);
    Cost cost;
    cost.kv_elems_per_token = double(kv_elems_per_token(p.tp));
    cost.weight_params = weight_params(p.tp);
    cost.attention_kernel = {.present = true,
                             .family = KernelFamily::separate_kv,
                             .q_heads = c_.q_heads / p.tp,
                             .kv_heads = kv_heads_on_device(p.tp),
                             .d_qk = c_.d_head,
                             .d_v = c_.d_head};
    add_qkv_projection(cost, p, dh * (h_t + 2 * k_t), d, "2*T*d*d_h*(h_t+2*k_t)");
    cost.add(Op{.name = "scores",
                .formula = "2*A*h_t*d_h",
                .stage = Stage::attention,
                .flops = 2 * A * h_t * dh,
                .kv_read_bytes = p.cached_rows() * k_t * dh * kvb,
                .act_bytes = T * h_t * dh * ab});
    cost.add(Op{.name = "value",
                .formula = "2*A*h_t*d_h",
                .stage = Stage::attention,
                .flops = 2 * A * h_t * dh,
                .kv_read_bytes = p.cached_rows() * k_t * dh * kvb,
                .act_bytes = T * h_t * dh * ab});
    add_row_parallel_output(cost, p, h_t, dh, d, "2*T*h_t*d_h*d");
    return cost;
  }

  nlohmann::json config_json() const override {
    nlohmann::json j = {{"d_model", c_.d_model}, {"q_heads", c_.q_heads}, {"d_head", c_.d_head}};
    if (id_ == VariantId::gqa) j["kv_heads"] = c_.kv_heads;
    return j;
  }

 private:
  VariantId id_;
  GqaConfig c_;
};

GqaConfig read_common(ObjectReader& r) {
  GqaConfig c;
  c.d_model = r.get_positive_int("d_model");
  c.q_heads = r.get_positive_int("q_heads");
  c.d_head = r.get_positive_int("d_head");
  return c;
}

constexpr ConfigKey kMhaKeys[] = {kKeyDModel, kKeyQHeads, kKeyDHead};
constexpr ConfigKey kGqaKeys[] = {
    kKeyDModel, kKeyQHeads,
    {"kv_heads", "KV heads h_kv, each serving q_heads/kv_heads query heads (num_key_value_heads)", "heads", true},
    kKeyDHead};

}  // namespace

std::span<const ConfigKey> config_keys_mha() { return kMhaKeys; }
std::span<const ConfigKey> config_keys_mqa() { return kMhaKeys; }
std::span<const ConfigKey> config_keys_gqa() { return kGqaKeys; }

VariantPtr make_mha(ObjectReader& r) {
  GqaConfig c = read_common(r);
  c.kv_heads = c.q_heads;
  return std::make_shared<GqaFamily>(VariantId::mha, c);
}

VariantPtr make_mqa(ObjectReader& r) {
  GqaConfig c = read_common(r);
  c.kv_heads = 1;
  return std::make_shared<GqaFamily>(VariantId::mqa, c);
}

VariantPtr make_gqa(ObjectReader& r) {
  GqaConfig c = read_common(r);
  c.kv_heads = r.get_positive_int("kv_heads");
  if (c.q_heads % c.kv_heads != 0) {
    r.fail("kv_heads", fmt::format("kv_heads = {} does not divide q_heads = {}: each KV head "
                                   "serves a whole group of query heads",
                                   c.kv_heads, c.q_heads));
  }
  return std::make_shared<GqaFamily>(VariantId::gqa, c);
}

}  // namespace attnroof::model

// GLA, grouped latent attention (docs/variants.md "GLA"; Zadouri, Strauss, Dao 2025, §3.3.2;
// Dao-AILab/grouped-latent-attention modeling_llama_GLA.py). The latent is n_c blocks of d_b;
// block b has its own W^UK/W^UV and serves only its group of g_q = h/n_c consecutive query heads
// [b g_q, (b+1) g_q). One RoPE key of width d_R is shared by all heads and replicated.
//
// The two published "GLA-4" are both expressible, which is why n_blocks and d_block are separate
// keys (docs/variants.md "GLA", "Open choices"): the GLA paper's 4 x 256 (total 8 d_h + d_R)
// and the MLRA repo's 4 x 128 (total 4 d_h + d_R).
//
// The latent family's formulas (latent_family.cpp) with, at TP t (t | h, and t | n_c or n_c | t):
//   n_t = max(n_c/t, 1) (blocks whose head groups meet the device's heads), P = H_q = H_o = h/t
//   KV/device      n_t d_b + d_R                       GLA-2 (2x256): 4.5, 2.5, 2.5, 2.5 d_h
//   weights        d d_q' + d (n_t d_b + d_R) + d_q' h_t (d_n + d_R) + h_t d_b (d_n + d_v) + h_t
//   d_v d FLOPs absorbed 2T d d_q' + 2T d (n_t d_b + d_R) + 2T d_q' h_t (d_n + d_R)
//                + h_t [2T d_n d_b + 2A (d_b + d_R) + 2A d_b + 2T d_b d_v] + 2T h_t d_v d
//   materialized   h_t [2N d_b (d_n + d_v) + 2A (d_n + d_R) + 2A d_v] in place of the bracket
//   comm           1 all-reduce of T*d
// Unaligned degrees (t neither dividing nor a multiple of n_c) would split a block's head group
// over devices unevenly; they are rejected rather than priced at the worst device.
#include <fmt/format.h>

#include "model/divisors.h"
#include "model/registry.h"
#include "model/tp.h"
#include "model/variants/latent_family.h"

namespace attnroof::model {
namespace {

class Gla final : public LatentFamily {
 public:
  explicit Gla(LatentDims dims) : LatentFamily(dims, OutProj::replicated) {}

  VariantId id() const override { return VariantId::gla; }
  std::string label() const override {
    return fmt::format("GLA-{} ({}x{})", dims().n_blocks, dims().n_blocks, dims().d_block);
  }

  std::vector<std::string> check_tp(int64_t tp) const override {
    std::vector<std::string> problems = check_head_split(dims().q_heads, tp);
    if (!problems.empty()) return problems;
    const int64_t h = dims().q_heads, n = dims().n_blocks;
    const auto aligned = [&](int64_t t) { return h % t == 0 && (n % t == 0 || t % n == 0); };
    if (!aligned(tp)) {
      problems.push_back(fmt::format(
          "tp = {} neither divides nor is a multiple of n_blocks = {}: latent blocks must be "
          "split whole over devices or replicated a whole number of times; valid tp: {}",
          tp, n, valid_degrees(aligned, divisors(h))));
    }
    return problems;
  }

  LatentPlacement placement(int64_t tp) const override {
    const int64_t h = dims().q_heads;
    const int64_t heads = h / tp;
    return LatentPlacement{.blocks = max_units_per_device(h, h / dims().n_blocks, tp),
                           .instances = heads,
                           .query_heads = heads};
  }

 protected:
  void add_config_json(nlohmann::json& j) const override {
    j["n_blocks"] = dims().n_blocks;
    j["d_block"] = dims().d_block;
  }
};

}  // namespace

std::span<const ConfigKey> config_keys_gla() {
  static const std::vector<ConfigKey> keys = latent_keys(
      {{"n_blocks", "latent heads n_c, each serving q_heads/n_blocks query heads", "heads", true},
       {"d_block", "width d_b of one cached latent head", "elements", true}});
  return keys;
}

VariantPtr make_gla(ObjectReader& r) {
  LatentDims dims = read_latent_common(r);
  dims.n_blocks = r.get_positive_int("n_blocks");
  dims.d_block = r.get_positive_int("d_block");
  if (dims.q_heads % dims.n_blocks != 0) {
    r.fail("n_blocks", fmt::format("n_blocks = {} does not divide q_heads = {}: each latent "
                                   "block serves a whole group of query heads",
                                   dims.n_blocks, dims.q_heads));
  }
  return std::make_shared<Gla>(dims);
}

}  // namespace attnroof::model

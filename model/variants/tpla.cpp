// TPLA, tensor-parallel latent attention (docs/variants.md "TPLA"; Tang et al., ASPLOS'26, arXiv
// 2508.15881, §4 eq. 7). A pretrained MLA latent d_c (after an orthogonal reparameterization) is
// cut into g slices of d_c/g; every slice is used by all h query heads, device j attends its slice
// and the slice outputs are summed by the all-reduce: O = AllReduce(sum_j O_j W^VO_j). The RoPE
// key is replicated. W^O is therefore replicated across slices (no sharded option: the paper's
// decode ends in the single all-reduce).
//
// The latent family's formulas (latent_family.cpp) with g blocks of d_b = d_c/g, each serving
// every head:
//   t | g            n_t = g/t, P = g h/t, H_q = H_o = h
//   t = k g, k | h   n_t = 1,   P = H_q = H_o = g h/t     (each slice on k devices, h/k heads each)
//   KV/device        n_t d_c/g + d_R                       g = 2: 576, 320, 320, 320
//   weights          d d_q' + d (n_t d_b + d_R) + d_q' H_q (d_n + d_R) + P d_b (d_n + d_v) + H_o
//   d_v d FLOPs            as latent_family.cpp, absorbed and materialized comm             1
//   all-reduce of T*d
// The per-shard logit and RMSNorm rescales (Conditions 1-2) are elementwise and cost nothing here.
// The authors validate g = 2 only (their §6); larger g is accepted as configured
// (docs/variants.md "Open choices").
#include <fmt/format.h>

#include "model/registry.h"
#include "model/tp.h"
#include "model/variants/latent_family.h"

namespace attnroof::model {
namespace {

class Tpla final : public LatentFamily {
 public:
  explicit Tpla(LatentDims dims) : LatentFamily(dims, OutProj::replicated) {}

  VariantId id() const override { return VariantId::tpla; }
  std::string label() const override { return fmt::format("TPLA g={}", dims().n_blocks); }

  std::vector<std::string> check_tp(int64_t tp) const override {
    std::vector<std::string> problems;
    const int64_t h = dims().q_heads, g = dims().n_blocks;
    const auto valid = [&](int64_t t) { return all_heads_blocks_shardable(h, g, t); };
    if (tp <= 0) {
      problems.push_back(fmt::format("tp = {} is invalid: must be >= 1", tp));
    } else if (!valid(tp)) {
      problems.push_back(fmt::format(
          "tp = {} cannot shard TPLA's groups = {} latent slices: tp must divide groups, or be a "
          "multiple of groups whose slice replicas split the query heads evenly (q_heads = {} "
          "divisible by tp/groups); valid tp: {}",
          tp, g, h, valid_degrees(valid, all_heads_blocks_degrees(h, g))));
    }
    return problems;
  }

  LatentPlacement placement(int64_t tp) const override {
    return all_heads_blocks_placement(dims().q_heads, dims().n_blocks, tp);
  }

 protected:
  void add_config_json(nlohmann::json& j) const override {
    j["d_latent"] = dims().n_blocks * dims().d_block;
    j["groups"] = dims().n_blocks;
  }
};

}  // namespace

std::span<const ConfigKey> config_keys_tpla() {
  static const std::vector<ConfigKey> keys =
      latent_keys({{"d_latent", "cached latent width d_c", "elements", true},
                   {"groups", "slices g the latent is cut into (each used by every head)", "slices", true}});
  return keys;
}

VariantPtr make_tpla(ObjectReader& r) {
  LatentDims dims = read_latent_common(r);
  const int64_t d_latent = r.get_positive_int("d_latent");
  dims.n_blocks = r.get_positive_int("groups");
  if (d_latent % dims.n_blocks != 0) {
    r.fail("groups", fmt::format("groups = {} does not divide d_latent = {}: the latent is cut "
                                 "into equal slices",
                                 dims.n_blocks, d_latent));
  }
  dims.d_block = d_latent / dims.n_blocks;
  return std::make_shared<Tpla>(dims);
}

}  // namespace attnroof::model

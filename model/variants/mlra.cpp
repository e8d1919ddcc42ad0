// MLRA-4 and MLRA-2, multi-head low-rank attention (docs/variants.md "MLRA"; SongtaoLiu0823/MLRA
// model/mlra_{4,2}.py and mlra_{4,2}_gen.py; MLRA blog §2-3). The latent d_c is 4 blocks of
// d_b = d_c/4, each with its own RMSNorm (which is what makes block sharding exact), plus one RoPE
// key of width d_R shared by all heads and branches and replicated on every device.
//   MLRA-4: each block b has W^UKV_b for all h heads; o_i = 1/2 sum_b attn_{b,i}.
//   MLRA-2: branch A = blocks 0, 1 and branch B = blocks 2, 3; blocks 0 and 2 serve heads
//           [0, h/2), blocks 1 and 3 serve [h/2, h); o_i = (o^A_i + o^B_i)/sqrt(2).
//
// The latent family's formulas (latent_family.cpp) with these placements (worst device):
//   MLRA-4  t | 4            n_t = 4/t, P = 4h/t, H_q = h
//           t = 4k, k | h    n_t = 1,   P = H_q = 4h/t   (each block on k devices, h/k heads each)
//   MLRA-2  t = 1            n_t = 4,   P = 2h,   H_q = h
//           t = 2            n_t = 2,   P = h,    H_q = h/2  (device j: blocks j, j+2; head half j)
//           t = 4k, k | h/2  n_t = 1,   P = H_q = 2h/t
//   KV/device   n_t d_b + d_R               4.5, 2.5, 1.5, 1.5 d_h for both at t = 1, 2, 4, 8
//   weights     d d_q' + d (n_t d_b + d_R) + d_q' H_q (d_n + d_R) + P d_b (d_n + d_v) + H_o d_v d
//   FLOPs       as latent_family.cpp, absorbed and materialized
//
// The output projection is an explicit option, out_proj (docs/variants.md "MLRA", "Open choices").
// When a head's output is a sum over branches on different devices (MLRA-4 at t > 1, MLRA-2 at t >=
// 4):
//   "replicated" (option A)  W^O rows of every head computed locally, H_o = H_q; the single
//                            all-reduce of T*d sums branches and devices.
//   "sharded" (option B)     reduce-scatter of T*h*d_v sums the branches and lands head slice
//                            h/t on its owner; row-parallel W^O with H_o = h/t; all-reduce of T*d.
//                            Needs t | h.
// Elsewhere (t = 1; MLRA-2 at t = 2, which shards like standard TP) the two coincide.
#include <fmt/format.h>

#include "model/checked_math.h"
#include "model/registry.h"
#include "model/tp.h"
#include "model/variants/latent_family.h"

namespace attnroof::model {
namespace {

constexpr int64_t kMlraBlocks = 4;  // both MLRA variants split the latent into 4 blocks

class Mlra final : public LatentFamily {
 public:
  Mlra(VariantId id, LatentDims dims, OutProj out_proj) : LatentFamily(dims, out_proj), id_(id) {}

  VariantId id() const override { return id_; }
  std::string label() const override { return std::string(info(id_).label); }

  std::vector<std::string> check_tp(int64_t tp) const override {
    std::vector<std::string> problems;
    if (tp <= 0) {
      problems.push_back(fmt::format("tp = {} is invalid: must be >= 1", tp));
      return problems;
    }
    const int64_t h = dims().q_heads;
    const auto valid = [&](int64_t t) { return block_rule_holds(t) && head_rule_holds(t); };
    const auto listed = [&] {
      return valid_degrees(valid, all_heads_blocks_degrees(h, kMlraBlocks));
    };
    if (!block_rule_holds(tp)) {
      problems.push_back(fmt::format("tp = {} cannot shard {}'s {} latent blocks: {}; valid tp: {}",
                                     tp, label(), kMlraBlocks, block_rule(), listed()));
    } else if (!head_rule_holds(tp)) {
      problems.push_back(fmt::format(
          "tp = {} does not divide q_heads = {}: out_proj = 'sharded' splits W^O rows by head; "
          "valid tp: {}",
          tp, h, listed()));
    }
    return problems;
  }

  LatentPlacement placement(int64_t tp) const override {
    const int64_t h = dims().q_heads;
    if (id_ == VariantId::mlra4) return all_heads_blocks_placement(h, kMlraBlocks, tp);
    // MLRA-2: every block serves h/2 heads, so 4 blocks make 2h instances.
    if (tp == 1) {
      return LatentPlacement{
          .blocks = kMlraBlocks,
          .instances = checked_product({{"", 2}, {"q_heads", h}},
                                       "(block, head) attention instances (2 blocks per head)"),
          .query_heads = h};
    }
    if (tp == 2) return LatentPlacement{.blocks = 2, .instances = h, .query_heads = h / 2};
    const int64_t heads = h / (tp / 2);  // tp is a multiple of 4 (check_tp)
    return LatentPlacement{
        .blocks = 1, .instances = heads, .query_heads = heads, .partial_outputs = true};
  }

 protected:
  void add_config_json(nlohmann::json& j) const override {
    j["d_latent"] = kMlraBlocks * dims().d_block;
    j["out_proj"] = std::string(to_string(out_proj()));
  }

 private:
  VariantId id_;

  bool block_rule_holds(int64_t t) const {
    const int64_t h = dims().q_heads;
    if (id_ == VariantId::mlra4) return all_heads_blocks_shardable(h, kMlraBlocks, t);
    return t == 1 || t == 2 || (t % kMlraBlocks == 0 && (h / 2) % (t / kMlraBlocks) == 0);
  }
  std::string block_rule() const {
    if (id_ == VariantId::mlra4) {
      return "tp must divide 4, or be a multiple of 4 whose block replicas split the query heads "
             "evenly (q_heads divisible by tp/4)";
    }
    return "tp must be 1, 2 (one block per branch and head half), or a multiple of 4 whose block "
           "replicas split a block's q_heads/2 heads evenly";
  }
  bool head_rule_holds(int64_t t) const {
    return out_proj() == OutProj::replicated || dims().q_heads % t == 0;
  }
};

VariantPtr make_mlra(VariantId id, ObjectReader& r) {
  LatentDims dims = read_latent_common(r);
  const int64_t d_latent = r.get_positive_int("d_latent");
  if (d_latent % kMlraBlocks != 0) {
    r.fail("d_latent", fmt::format("d_latent = {} is not divisible by {}: MLRA splits the latent "
                                   "into {} equal blocks",
                                   d_latent, kMlraBlocks, kMlraBlocks));
  }
  dims.n_blocks = kMlraBlocks;
  dims.d_block = d_latent / kMlraBlocks;
  if (id == VariantId::mlra2 && dims.q_heads % 2 != 0) {
    r.fail("q_heads", fmt::format("q_heads = {} is odd: each MLRA-2 block serves half the heads",
                                  dims.q_heads));
  }
  const OutProj out_proj = read_out_proj(r);
  return std::make_shared<Mlra>(id, dims, out_proj);
}

}  // namespace

namespace {
const std::vector<ConfigKey>& mlra_keys() {
  static const std::vector<ConfigKey> keys = latent_keys(
      {{"d_latent", "total cached latent width, cut into equal blocks (docs/variants.md \"MLRA\")", "elements", true}, out_proj_key()});
  return keys;
}
}  // namespace

std::span<const ConfigKey> config_keys_mlra4() { return mlra_keys(); }
std::span<const ConfigKey> config_keys_mlra2() { return mlra_keys(); }

VariantPtr make_mlra4(ObjectReader& r) { return make_mlra(VariantId::mlra4, r); }
VariantPtr make_mlra2(ObjectReader& r) { return make_mlra(VariantId::mlra2, r); }

}  // namespace attnroof::model

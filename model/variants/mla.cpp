// MLA, multi-head latent attention (docs/variants.md "MLA"; DeepSeek-V2 §2.1, DeepSeek-V3
// inference/model.py). One latent c^KV of width d_c plus one decoupled RoPE key k^R, both
// replicated on every device under head-parallel TP; each head up-projects the latent with its own
// W^UK (d_c x d_n) and W^UV (d_c x d_v).
//
// The latent family's formulas (latent_family.cpp) with n_c = 1 block of d_b = d_c, at every TP
// degree t | h:
//   n_t = 1, P = H_q = H_o = h/t
//   KV/device      d_c + d_R                                (576 = 4.5 d_h for DeepSeek-V3)
//   weights        d d_q' + d (d_c + d_R) + d_q' h_t (d_n + d_R) + d_c h_t (d_n + d_v) + h_t d_v d
//   FLOPs absorbed 2T d d_q' + 2T d (d_c + d_R) + 2T d_q' h_t (d_n + d_R) + 2T h_t d_n d_c
//                + 2A h_t (d_c + d_R) + 2A h_t d_c + 2T h_t d_c d_v + 2T h_t d_v d
//   materialized   the absorb, scores, P.c and W^UV terms become
//                  2N d_c h_t (d_n + d_v) + 2A h_t (d_n + d_R) + 2A h_t d_v
//   comm           1 all-reduce of T*d (row-parallel W^O)
#include "model/registry.h"
#include "model/tp.h"
#include "model/variants/latent_family.h"

namespace attnroof::model {
namespace {

class Mla final : public LatentFamily {
 public:
  explicit Mla(LatentDims dims) : LatentFamily(dims, OutProj::replicated) {}

  VariantId id() const override { return VariantId::mla; }
  std::string label() const override { return "MLA"; }

  std::vector<std::string> check_tp(int64_t tp) const override {
    return check_head_split(dims().q_heads, tp);
  }

  LatentPlacement placement(int64_t tp) const override {
    const int64_t heads = dims().q_heads / tp;
    return LatentPlacement{.blocks = 1, .instances = heads, .query_heads = heads};
  }

 protected:
  void add_config_json(nlohmann::json& j) const override { j["d_latent"] = dims().d_block; }
};

}  // namespace

std::span<const ConfigKey> config_keys_mla() {
  static const std::vector<ConfigKey> keys =
      latent_keys({{"d_latent", "cached latent width d_c (kv_lora_rank)", "elements", true}});
  return keys;
}

VariantPtr make_mla(ObjectReader& r) {
  LatentDims dims = read_latent_common(r);
  dims.n_blocks = 1;
  dims.d_block = r.get_positive_int("d_latent");
  return std::make_shared<Mla>(dims);
}

}  // namespace attnroof::model

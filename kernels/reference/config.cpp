#include "kernels/reference/config.h"

#include <fmt/format.h>

#include "model/error.h"
#include "model/registry.h"

namespace attnroof::ref {

bool RefConfig::latent_family() const {
  switch (id) {
    case VariantId::mla:
    case VariantId::gla:
    case VariantId::mlra2:
    case VariantId::mlra4:
    case VariantId::tpla: return true;
    default: return false;
  }
}

std::string RefConfig::label() const {
  switch (id) {
    case VariantId::gqa: return fmt::format("GQA {}q/{}kv", q_heads, kv_heads);
    case VariantId::gla: return fmt::format("GLA-{}", n_blocks);
    case VariantId::tpla: return fmt::format("TPLA-{}", n_blocks);
    case VariantId::lrkv:
      return lrkv_rope == LrkvRope::latent ? "LRKV (rope in latent, reading b)"
                                           : "LRKV (rope on materialized key, reading a)";
    case VariantId::mlra2:
    case VariantId::mlra4:
      return fmt::format("{} (out_proj {})", model::info(id).label,
                         model::to_string(out_proj));
    default: return std::string(model::info(id).label);
  }
}

std::string ref_variant_name(const RefConfig& c) {
  std::string name(model::to_string(c.id));
  if (c.id == VariantId::lrkv) name += fmt::format(":{}", model::to_string(c.lrkv_rope));
  if ((c.id == VariantId::mlra2 || c.id == VariantId::mlra4) && c.out_proj == OutProj::sharded) {
    name += ":sharded";
  }
  return name;
}

namespace {

void read_latent(RefConfig& c, model::ObjectReader& r) {
  c.d_q_latent = r.get_positive_int("d_q_latent");
  c.d_rope = r.get_positive_int("d_rope");
  c.d_nope = r.get_positive_int("d_nope");
  c.d_v = r.get_positive_int("d_v");
  // The cost model's keys (model/variants/*.cpp): GLA gives n_blocks x d_block, MLRA d_latent
  // (always 4 blocks), TPLA d_latent and groups, MLA d_latent.
  switch (c.id) {
    case VariantId::mla:
      c.n_blocks = 1;
      c.d_latent = r.get_positive_int("d_latent");
      break;
    case VariantId::gla:
      c.n_blocks = r.get_positive_int("n_blocks");
      c.d_latent = c.n_blocks * r.get_positive_int("d_block");
      break;
    case VariantId::mlra2:
    case VariantId::mlra4:
      c.n_blocks = 4;
      c.d_latent = r.get_positive_int("d_latent");
      break;
    case VariantId::tpla:
      c.d_latent = r.get_positive_int("d_latent");
      c.n_blocks = r.get_positive_int("groups");
      break;
    default: break;
  }
  if (c.d_latent % c.n_blocks != 0) {
    r.fail("d_latent", fmt::format("d_latent = {} is not divisible into {} blocks", c.d_latent,
                                   c.n_blocks));
  }
  if (c.d_rope % 2 != 0) r.fail("d_rope", "must be even (half-split RoPE pairs dims)");
  if (c.id == VariantId::gla && c.q_heads % c.n_blocks != 0) {
    r.fail("n_blocks", fmt::format("n_blocks = {} does not divide q_heads = {}: each latent head "
                                   "serves a whole group of query heads",
                                   c.n_blocks, c.q_heads));
  }
  if (c.id == VariantId::mlra2 && c.q_heads % 2 != 0) {
    r.fail("q_heads", "MLRA-2 splits the heads in halves: must be even");
  }
  if (c.id == VariantId::mlra2 || c.id == VariantId::mlra4) {
    const std::string op = r.get_string("out_proj");
    if (op == "replicated") {
      c.out_proj = OutProj::replicated;
    } else if (op == "sharded") {
      c.out_proj = OutProj::sharded;
    } else {
      r.fail("out_proj", fmt::format("'{}': valid values are replicated, sharded", op));
    }
  }
}

}  // namespace

RefConfig parse_ref_config(VariantId id, const nlohmann::json& config,
                           const model::JsonSource& source) {
  model::ObjectReader r(config, source);
  RefConfig c;
  c.id = id;
  c.json = config;
  c.d_model = r.get_positive_int("d_model");
  c.q_heads = r.get_positive_int("q_heads");
  switch (id) {
    case VariantId::mha:
    case VariantId::mqa:
    case VariantId::gqa:
      c.d_head = r.get_positive_int("d_head");
      c.kv_heads = id == VariantId::mha ? c.q_heads
                   : id == VariantId::mqa ? 1
                                          : r.get_positive_int("kv_heads");
      break;
    case VariantId::gta:
      c.d_head = r.get_positive_int("d_head");
      c.kv_heads = r.get_positive_int("kv_heads");
      c.d_rope = r.get_positive_int("d_rope");
      if (c.d_rope % 2 != 0 || c.d_rope >= c.d_head) {
        r.fail("d_rope", "must be even and smaller than d_head");
      }
      c.d_nope = c.d_head - c.d_rope;
      break;
    case VariantId::mfa:
      c.d_head = r.get_positive_int("d_head");
      c.kv_heads = 1;
      c.d_q_latent = r.get_positive_int("d_q_latent");
      if (!r.has("key_reuse")) r.fail("key_reuse", "required key is missing (false for MFA)");
      if (r.get_bool("key_reuse", false)) {
        r.fail("key_reuse", "MFA-KR is not modelled by the reference: no source read gives its "
                            "value re-parameterization (docs/variants.md \"LRKV\")");
      }
      break;
    case VariantId::tpa:
      c.d_head = r.get_positive_int("d_head");
      c.q_rank = r.get_positive_int("q_rank");
      c.k_rank = r.get_positive_int("k_rank");
      c.v_rank = r.get_positive_int("v_rank");
      break;
    case VariantId::lrkv: {
      c.d_head = r.get_positive_int("d_head");
      c.rank = r.get_positive_int("rank");
      const std::string rope = r.get_string("rope");
      if (rope == "materialized") {
        c.lrkv_rope = LrkvRope::materialized;
      } else if (rope == "latent") {
        c.lrkv_rope = LrkvRope::latent;
        if (c.rank % 2 != 0) r.fail("rank", "must be even when RoPE acts in the latent space");
      } else {
        r.fail("rope", fmt::format("'{}': valid values are materialized, latent", rope));
      }
      break;
    }
    default: read_latent(c, r); break;
  }
  if (c.d_head % 2 != 0 && !c.latent_family()) r.fail("d_head", "must be even (RoPE)");
  if ((id == VariantId::gqa || id == VariantId::gta) && c.q_heads % c.kv_heads != 0) {
    r.fail("kv_heads", fmt::format("kv_heads = {} does not divide q_heads = {}", c.kv_heads,
                                   c.q_heads));
  }
  r.finish();
  return c;
}

nlohmann::json small_config(VariantId id, int64_t h, const std::string& option) {
  const int64_t kv = h % 4 == 0 ? h / 4 : (h % 3 == 0 && h > 3) ? h / 3 : (h % 2 == 0 ? h / 2 : 1);
  nlohmann::json j = {{"d_model", 21}, {"q_heads", h}};
  switch (id) {
    case VariantId::mha:
    case VariantId::mqa: j["d_head"] = 6; break;
    case VariantId::gqa:
      j["d_head"] = 6;
      j["kv_heads"] = kv;
      break;
    case VariantId::mfa:
      j["d_head"] = 8;
      j["d_q_latent"] = 10;
      j["key_reuse"] = false;
      break;
    case VariantId::gta:
      j["d_head"] = 8;
      j["kv_heads"] = kv;
      j["d_rope"] = 4;
      break;
    case VariantId::tpa:
      j["d_head"] = 6;
      j["q_rank"] = 3;
      j["k_rank"] = 2;
      j["v_rank"] = 3;
      break;
    case VariantId::lrkv:
      j["d_head"] = 8;
      j["rank"] = 4;
      j["rope"] = option.empty() ? "materialized" : option;
      break;
    case VariantId::mla:
      j.update({{"d_q_latent", 10}, {"d_latent", 12}, {"d_rope", 4}, {"d_nope", 6}, {"d_v", 5}});
      break;
    case VariantId::gla:
      j.update({{"d_q_latent", 10}, {"n_blocks", h % 2 == 0 ? 2 : h}, {"d_block", 6},
                {"d_rope", 4}, {"d_nope", 6}, {"d_v", 5}});
      break;
    case VariantId::mlra2:
    case VariantId::mlra4:
      j.update({{"d_q_latent", 10}, {"d_latent", 16}, {"d_rope", 4}, {"d_nope", 6}, {"d_v", 6}});
      j["out_proj"] = option.empty() ? "replicated" : option;
      break;
    case VariantId::tpla:
      j.update({{"d_q_latent", 10}, {"d_latent", 12}, {"groups", 2}, {"d_rope", 4},
                {"d_nope", 6}, {"d_v", 5}});
      break;
  }
  return j;
}

nlohmann::json precision_config(VariantId id, const std::string& option) {
  nlohmann::json j = small_config(id, 2, option);
  j["d_model"] = 64;
  switch (id) {
    case VariantId::mha:
    case VariantId::mqa:
    case VariantId::gqa: j["d_head"] = 128; break;
    case VariantId::mfa:
      j["d_head"] = 256;
      j["d_q_latent"] = 64;
      break;
    case VariantId::gta:
      j["d_head"] = 128;
      j["d_rope"] = 64;
      break;
    case VariantId::tpa: j.update({{"d_head", 128}, {"q_rank", 6}, {"k_rank", 2}, {"v_rank", 2}}); break;
    case VariantId::lrkv: j.update({{"d_head", 128}, {"rank", 64}}); break;
    default:
      j.update({{"d_q_latent", 64}, {"d_rope", 64}, {"d_nope", 128}, {"d_v", 128}});
      if (id == VariantId::gla) {
        j["d_block"] = 256;
      } else {
        j["d_latent"] = 512;
      }
      break;
  }
  return j;
}

}  // namespace attnroof::ref

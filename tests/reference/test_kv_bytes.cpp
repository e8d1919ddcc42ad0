// One truth: the elements the reference caches per token per device, against the cost model
// (model::make_variant on the same config JSON) and against the published tables.
#include <catch2/catch.hpp>

#include "helpers.h"
#include "kernels/reference/model.h"
#include "model/registry.h"

using namespace attnroof::ref;
using namespace attnroof::ref::test;

namespace {

// Worst-device cached elements per token after a few appended tokens.
int64_t cached_per_device(const RefConfig& c, int64_t tp) {
  const Weights w = init_weights(c, 1);
  const auto m = make_ref_model<double>(w);
  REQUIRE(m->check_tp(tp).empty());
  const auto devices = m->shard(tp);
  int64_t worst = 0;
  const Mat x = random_tokens(2, c.d_model, 5);
  for (const auto& d : devices) {
    Cache<double> cache = d.model->new_cache();
    for (int64_t t = 0; t < 2; ++t) d.model->append(cache, x.row(t), t, true);
    worst = std::max(worst, cache.cached_elems_per_token());
  }
  return worst;
}

RefConfig parse(VariantId id, const nlohmann::json& j) {
  return parse_ref_config(id, j, attnroof::model::JsonSource{"test"});
}

}  // namespace

TEST_CASE("one truth: reference cache bytes == cost model kv_elems_per_token, every variant and TP",
          "[reference][one_truth]") {
  CheckOptions o;
  for (const VariantCase& vc : all_cases()) {
    const Weights w = weights_for(vc.id, 8, vc.option);
    int64_t applied = 0;
    for (const CheckResult& r : check_one_truth(w, o)) {
      INFO(r.variant << " " << r.check << ": " << r.detail);
      if (!r.applicable) continue;
      ++applied;
      CHECK(r.pass);
    }
    INFO(attnroof::model::to_string(vc.id) << " " << vc.option);
    CHECK(applied > 0);  // every variant's cache bytes are compared at least once
  }
}

TEST_CASE("reference caches the published per-device KV tables (docs/variants.md KV per device)",
          "[reference][one_truth]") {
  // Real cache dimensions with a tiny d_model (the cache width does not depend on it).
  const nlohmann::json latent = {{"d_model", 16}, {"q_heads", 8},  {"d_q_latent", 8},
                                 {"d_latent", 512}, {"d_rope", 64}, {"d_nope", 8}, {"d_v", 8}};
  const int64_t tps[] = {1, 2, 4, 8};
  SECTION("MLA 512 + 64: 576 on every device") {
    for (int64_t tp : tps) CHECK(cached_per_device(parse(VariantId::mla, latent), tp) == 576);
  }
  SECTION("MLRA-4 and MLRA-2, 4 x 128 + 64: 4.5 / 2.5 / 1.5 / 1.5 d_h (MLRA blog §2.3)") {
    nlohmann::json j = latent;
    j["out_proj"] = "replicated";
    const int64_t want[] = {576, 320, 192, 192};
    for (VariantId id : {VariantId::mlra4, VariantId::mlra2}) {
      for (int i = 0; i < 4; ++i) CHECK(cached_per_device(parse(id, j), tps[i]) == want[i]);
    }
  }
  SECTION("GLA-2, 2 x 256 + 64: 576 / 320 / 320 / 320") {
    nlohmann::json j = latent;
    j.erase("d_latent");
    j["n_blocks"] = 2;
    j["d_block"] = 256;
    const int64_t want[] = {576, 320, 320, 320};
    for (int i = 0; i < 4; ++i) CHECK(cached_per_device(parse(VariantId::gla, j), tps[i]) == want[i]);
  }
  SECTION("TPLA g=2: 576 / 320 / 320 / 320 (TPLA §5.4.1: 320 at TP 2)") {
    nlohmann::json j = latent;
    j["groups"] = 2;
    const int64_t want[] = {576, 320, 320, 320};
    for (int i = 0; i < 4; ++i) CHECK(cached_per_device(parse(VariantId::tpla, j), tps[i]) == want[i]);
  }
  SECTION("GQA 64 q / 8 kv, d_head 128: 16 / 8 / 4 / 2 d_h") {
    const nlohmann::json j = {{"d_model", 16}, {"q_heads", 64}, {"kv_heads", 8}, {"d_head", 128}};
    const int64_t want[] = {2048, 1024, 512, 256};
    for (int i = 0; i < 4; ++i) CHECK(cached_per_device(parse(VariantId::gqa, j), tps[i]) == want[i]);
  }
  SECTION("GQA 24 q / 6 kv: 12 / 6 / 4 / 4 d_h (unaligned split, worst device)") {
    const nlohmann::json j = {{"d_model", 16}, {"q_heads", 24}, {"kv_heads", 6}, {"d_head", 128}};
    const int64_t want[] = {1536, 768, 512, 512};
    for (int i = 0; i < 4; ++i) CHECK(cached_per_device(parse(VariantId::gqa, j), tps[i]) == want[i]);
  }
  SECTION("GTA 6 tied heads + 64 RoPE: 6.5 / 3.5 / 2.5 / 2.5 d_h") {
    const nlohmann::json j = {{"d_model", 16}, {"q_heads", 24}, {"kv_heads", 6}, {"d_head", 128},
                              {"d_rope", 64}};
    const int64_t want[] = {832, 448, 320, 320};
    for (int i = 0; i < 4; ++i) CHECK(cached_per_device(parse(VariantId::gta, j), tps[i]) == want[i]);
  }
  SECTION("TPA R=2, h=24, d_h=128: 608 / 560 / 536 / 524") {
    const nlohmann::json j = {{"d_model", 16}, {"q_heads", 24}, {"d_head", 128},
                              {"q_rank", 6},   {"k_rank", 2},   {"v_rank", 2}};
    const int64_t want[] = {608, 560, 536, 524};
    for (int i = 0; i < 4; ++i) CHECK(cached_per_device(parse(VariantId::tpa, j), tps[i]) == want[i]);
  }
  SECTION("MFA d_f = 256: 512 replicated; LRKV 2(d_h + (h/t) r)") {
    const nlohmann::json mfa = {{"d_model", 16}, {"q_heads", 8}, {"d_head", 256}, {"d_q_latent", 8},
                               {"key_reuse", false}};
    const nlohmann::json lrkv = {{"d_model", 16}, {"q_heads", 8}, {"d_head", 128}, {"rank", 64},
                                 {"rope", "latent"}};
    for (int64_t tp : tps) {
      CHECK(cached_per_device(parse(VariantId::mfa, mfa), tp) == 512);
      CHECK(cached_per_device(parse(VariantId::lrkv, lrkv), tp) == 2 * (128 + (8 / tp) * 64));
    }
  }
}

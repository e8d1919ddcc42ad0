#include <catch2/catch.hpp>

#include "helpers.h"
#include "kernels/reference/model.h"

using namespace attnroof::ref;
using namespace attnroof::ref::test;

TEST_CASE("equivalence: materialized == incremental == absorbed, odd head counts, ctx 1/3/129/257",
          "[reference][equivalence]") {
  CheckOptions o;
  o.tps = {1};
  o.ctx_lens = {1, 3, 129, 257};
  for (const VariantCase& vc : all_cases()) {
    for (int64_t h : odd_heads(vc.id)) {
      const Weights w = weights_for(vc.id, h, vc.option);
      const std::vector<CheckResult> r = check_equivalence(w, o);
      INFO(w.config.label() << " with " << h << " heads");
      // incremental and tp1 always apply; absorbed exactly where the variant has a distinct form
      CHECK(require_checks(r) >= 2);
      const bool absorbed = w.config.latent_family() || vc.id == VariantId::tpa ||
                            vc.id == VariantId::gta || vc.option == "latent";
      CHECK(r.at(1).check == "equivalence.absorbed");
      CHECK(r.at(1).applicable == absorbed);
      for (const CheckResult& c : r) {
        if (c.applicable) CHECK(c.max_rel_err <= kEquivalenceTol);
      }
    }
  }
}

TEST_CASE("equivalence: TP-sharded decode at TP 1, 2, 4, 8 equals the single device",
          "[reference][equivalence][tp]") {
  CheckOptions o;
  o.tps = {1, 2, 4, 8};
  o.ctx_lens = {3, 129};
  for (const VariantCase& vc : all_cases()) {
    const Weights w = weights_for(vc.id, 8, vc.option);
    const std::vector<CheckResult> r = check_equivalence(w, o);
    int tp_checks = 0;
    for (const CheckResult& c : r) {
      if (c.check.rfind("equivalence.tp", 0) == 0) {
        INFO(c.variant << " " << c.check << ": " << c.detail);
        CHECK(c.applicable);  // 8 heads shard at every degree for every variant
        ++tp_checks;
      }
    }
    CHECK(tp_checks == 4);
    require_checks(r);
  }
}

TEST_CASE("equivalence: unaligned GQA and GTA head split (12 q / 3 kv heads) at TP 4",
          "[reference][equivalence][tp]") {
  for (VariantId id : {VariantId::gqa, VariantId::gta}) {
    nlohmann::json j = small_config(id, 12);
    j["kv_heads"] = 3;
    const RefConfig c = parse_ref_config(id, j, attnroof::model::JsonSource{"test"});
    const Weights w = init_weights(c, 3);
    CheckOptions o;
    o.tps = {4};
    o.ctx_lens = {3, 129};
    require_checks(check_equivalence(w, o));
    // Device 1 owns q heads 3..5, which span KV groups 0 and 1: it holds 2 KV heads.
    const auto m = make_ref_model<double>(w);
    const auto devices = m->shard(4);
    CHECK(devices[1].model->new_cache().parts[0].cols() == 2 * c.d_head);  // k (GQA) / kv (GTA)
  }
}

TEST_CASE("equivalence: MLRA-4 and TPLA with 3 heads shard by block; heads that cannot split are "
          "reported, not guessed", "[reference][equivalence][tp]") {
  CheckOptions o;
  o.tps = {1, 2, 4, 8};
  o.ctx_lens = {3, 129};
  {
    const std::vector<CheckResult> r = check_equivalence(weights_for(VariantId::mlra4, 3), o);
    require_checks(r);
    CHECK(r[2].applicable);   // tp1
    CHECK(r[3].applicable);   // tp2: 2 blocks per device, all 3 heads
    CHECK(r[4].applicable);   // tp4: 1 block per device
    CHECK_FALSE(r[5].applicable);  // tp8: 3 heads do not split over a block's 2 replicas
    CHECK(r[5].detail.find("replicas") != std::string::npos);
  }
  {
    const std::vector<CheckResult> r = check_equivalence(weights_for(VariantId::tpla, 3), o);
    require_checks(r);
    CHECK(r[3].applicable);        // tp2 = groups
    CHECK_FALSE(r[4].applicable);  // tp4: 3 heads over 2 replicas
  }
}

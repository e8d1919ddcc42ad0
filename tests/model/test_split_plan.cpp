#include <catch2/catch.hpp>

#include "model/split_plan.h"

using namespace attnroof::model;

TEST_CASE("plan_splits: short contexts run as one split", "[model][split]") {
  for (int64_t ctx : {1, 63, 64, 255, 256}) {
    const SplitPlan p = plan_splits(ctx, 1, 1, 132, 1, 64);
    CHECK(p.n_splits == 1);
    CHECK(p.split_len >= ctx);
    CHECK(p.split_len % 64 == 0);
  }
}

TEST_CASE("plan_splits: one wave, never a partial second one", "[model][split]") {
  // batch 8 x 1 work unit on 132 SMs: 16 splits (128 CTAs), not 17 (136 CTAs, a second wave).
  const SplitPlan p8 = plan_splits(1 << 20, 8, 1, 132, 1, 64);
  CHECK(p8.n_splits == 16);
  // batch 1: 132 splits of a 1M context.
  const SplitPlan p1 = plan_splits(1 << 20, 1, 1, 132, 1, 64);
  CHECK(p1.n_splits <= 132);
  CHECK(p1.n_splits >= 120);
  // More work units than slots: no split.
  CHECK(plan_splits(1 << 20, 64, 8, 132, 1, 64).n_splits == 1);
}

TEST_CASE("plan_splits: splits cover the context, are tile multiples and not too short",
          "[model][split]") {
  for (int64_t ctx : {257, 1000, 4097, 65537, 131072, 2000003}) {
    for (int64_t batch : {1, 3, 17, 64}) {
      for (int64_t tile : {32, 64, 128}) {
        const SplitPlan p = plan_splits(ctx, batch, 1, 132, 2, tile);
        INFO("ctx " << ctx << " batch " << batch << " tile " << tile);
        CHECK(p.split_len % tile == 0);
        CHECK(p.n_splits * p.split_len >= ctx);
        CHECK((p.n_splits - 1) * p.split_len < ctx);  // no empty split
        CHECK(batch * p.n_splits <= std::max<int64_t>(264, batch));
        if (p.n_splits > 1) CHECK(p.split_len >= kMinSplitLen - tile);
      }
    }
  }
}

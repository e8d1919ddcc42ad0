// The FFN / MoE part of a decoder layer (model/ffn.h), from first principles: DeepSeek-V3's
// published parameter counts, Llama-3-70B's dense FFN bytes, and the distinct-expert
// expectation against a Monte Carlo count.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "model/ffn.h"
#include "model/hf_import.h"

using namespace attnroof::model;

namespace {

// DeepSeek-V3 (tests/model/data/hf/deepseek_v3.json): hidden 7168, 61 layers, the first 3 dense
// (intermediate 18432), then 256 routed experts (moe_intermediate 2048), 1 shared, top 8.
FfnShape deepseek_v3_ffn() {
  return FfnShape{.d_model = 7168,
                  .n_layers = 61,
                  .dense = {.d_ff = 18432, .kind = MlpKind::gated},
                  .moe = MoeShape{.n_routed = 256, .top_k = 8, .n_shared = 1, .d_expert = 2048,
                                  .kind = MlpKind::gated},
                  .first_dense_layers = 3};
}

}  // namespace

TEST_CASE("expected distinct experts: the uniform-routing formula against a Monte Carlo count",
          "[model][ffn]") {
  std::mt19937_64 rng(20261201);
  for (const auto& [n, k] : {std::pair<int64_t, int64_t>{256, 8}, {64, 6}, {8, 2}, {160, 6}}) {
    std::vector<int64_t> experts(static_cast<std::size_t>(n));
    std::iota(experts.begin(), experts.end(), 0);
    for (const int64_t tokens : {1, 3, 16, 64, 512}) {
      constexpr int kTrials = 2000;
      double sum = 0, sum_sq = 0;
      for (int trial = 0; trial < kTrials; ++trial) {
        std::vector<char> hit(std::size_t(n), 0);
        for (int64_t t = 0; t < tokens; ++t) {
          // k distinct experts: the first k of a partial shuffle.
          for (int64_t i = 0; i < k; ++i) {
            std::uniform_int_distribution<int64_t> pick(i, n - 1);
            std::swap(experts[std::size_t(i)], experts[std::size_t(pick(rng))]);
            hit[std::size_t(experts[std::size_t(i)])] = 1;
          }
        }
        const double distinct = double(std::count(hit.begin(), hit.end(), 1));
        sum += distinct;
        sum_sq += distinct * distinct;
      }
      const double mean = sum / kTrials;
      const double sd = std::sqrt(std::max(sum_sq / kTrials - mean * mean, 0.0));
      const double expected = expected_distinct_experts(n, k, double(tokens));
      INFO("n " << n << " k " << k << " tokens " << tokens << ": Monte Carlo " << mean << " +- "
                << sd / std::sqrt(double(kTrials)) << ", formula " << expected);
      // + 1e-3: where every trial touches every expert, sd is 0 and the formula 1e-7 short.
      CHECK(std::abs(mean - expected) <= 4 * sd / std::sqrt(double(kTrials)) + 1e-3);
    }
  }
  CHECK(expected_distinct_experts(256, 8, 1) == Approx(8));      // one token: its k experts
  CHECK(expected_distinct_experts(256, 8, 0) == 0);
  CHECK(expected_distinct_experts(256, 8, 1e6) == Approx(256));  // a big batch touches all
  CHECK(expected_distinct_experts(8, 8, 5) == Approx(8));        // top_k = n: every expert
}

TEST_CASE("DeepSeek-V3: 671B parameters, 37B activated, from the published config", "[model][ffn]") {
  const FfnShape ffn = deepseek_v3_ffn();
  // By hand: dense 3 x 3 x 7168 x 18432 = 1.189e9; per MoE layer 257 experts x 3 x 7168 x 2048
  // + router 7168 x 256 = 1.1320e10, x 58 = 6.5655e11.
  CHECK(ffn_params(ffn) == Approx(3.0 * 3 * 7168 * 18432 + 58.0 * (257.0 * 3 * 7168 * 2048 + 7168.0 * 256)));
  // The rest from the attention layers of the imported config and the untied embeddings.
  const HfImport hf = import_hf_file(std::string(ATTNROOF_SOURCE_DIR) + "/tests/model/data/hf/deepseek_v3.json",
                                     "2026-12-01");
  const double attention = hf.preset.variant->weight_params(1) * double(hf.preset.n_layers);
  const double embeddings = 2.0 * 129280 * 7168;
  const double total = ffn_params(ffn) + attention + embeddings;
  const double active = ffn_active_params(ffn) + attention + embeddings;
  INFO("total " << total / 1e9 << "B, activated " << active / 1e9 << "B");
  // The model card: 671B total (685B with the 14B multi-token-prediction module), 37B activated.
  CHECK(total == Approx(671e9).epsilon(0.005));
  CHECK(active == Approx(37e9).epsilon(0.03));
}

TEST_CASE("Llama-3-70B: dense FFN weight bytes per decode step, over TP", "[model][ffn]") {
  const FfnShape llama{.d_model = 8192, .n_layers = 80, .dense = {.d_ff = 28672, .kind = MlpKind::gated}};
  for (const int64_t tp : {1, 2, 4, 8}) {
    const FfnLayerStep s = ffn_layer_step(llama, false, 16, FfnLayout{.tp = tp});
    // 3 x 8192 x 28672 parameters per layer, bf16, split over TP: 112.7 GB per step at TP 1.
    CHECK(s.weight_params * 2 * 80 == Approx(3.0 * 8192 * 28672 * 2 * 80 / double(tp)));
    CHECK(s.flops == Approx(2.0 * 16 * 3 * 8192 * 28672 / double(tp)));
    CHECK(s.experts_touched == 0);
  }
  CHECK(ffn_params(llama) * 2 == Approx(112.74e9).epsilon(1e-3));
}

TEST_CASE("an MoE layer reads the experts its tokens touch, spread over EP", "[model][ffn]") {
  const FfnShape ffn = deepseek_v3_ffn();
  const double expert = 3.0 * 7168 * 2048;
  // EP 8: 32 local experts. One token touches 8 of 256, so 1 local one on average.
  const FfnLayerStep one = ffn_layer_step(ffn, true, 1, FfnLayout{.tp = 1, .ep = 8});
  CHECK(one.experts_touched == Approx(1.0));
  CHECK(one.weight_params == Approx(1.0 * expert + expert + 7168.0 * 256));
  // A batch of 256 tokens: 1 - (1 - 8/256)^256 = 99.97% of the experts.
  const FfnLayerStep big = ffn_layer_step(ffn, true, 256, FfnLayout{.tp = 1, .ep = 8});
  CHECK(big.experts_touched == Approx(32 * (1 - std::pow(1 - 8.0 / 256, 256))));
  // FLOPs per device: its share of the token-expert pairs, the shared expert and the router.
  CHECK(big.flops == Approx(2.0 * (256.0 * 8 / 8 * expert + 256 * expert + 256 * 7168.0 * 256)));
  // A measured skew replaces the uniform expectation.
  const FfnLayerStep hot = ffn_layer_step(ffn, true, 256, FfnLayout{.tp = 1, .ep = 8, .touched_fraction = 0.5});
  CHECK(hot.experts_touched == Approx(16));
  // The dense leading layers of an MoE model are dense.
  CHECK(ffn_layer_step(ffn, false, 4, FfnLayout{}).weight_params == Approx(3.0 * 7168 * 18432));
}

// Integer overflow and loops bounded by input values: products and
// sums of input sizes either compute exactly or are an InputError naming every operand; TP
// degree lists and the worst device's units come from closed forms and factoring, not from
// counting to an input value; the calibrated time model never lays out more than its cap.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "model/checked_math.h"
#include "model/divisors.h"
#include "model/error.h"
#include "model/presets.h"
#include "model/roofline.h"
#include "model/time_model.h"
#include "model/tp.h"
#include "tests/model/model_test_util.h"

using namespace attnroof::model;
using attnroof::InputError;
using attnroof::model::test::variant_from_json;
using Catch::Matchers::Contains;

namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
// 2^63 - 1 = 7^2 x 73 x 127 x 337 x 92737 x 649657: 7 x kSeventh is exactly the int64 maximum.
constexpr int64_t kSeventh = kInt64Max / 7;

std::string joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const std::string& p : problems) out += p + "\n";
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string gqa_config(int64_t q_heads, int64_t kv_heads, int64_t d_head) {
  return "{\"d_model\": 8192, \"q_heads\": " + std::to_string(q_heads) +
         ", \"kv_heads\": " + std::to_string(kv_heads) + ", \"d_head\": " + std::to_string(d_head) +
         "}";
}

}  // namespace

TEST_CASE("checked_product and checked_sum name every operand past int64", "[model][overflow]") {
  CHECK(checked_product({{"a", 7}, {"b", kSeventh}}, "x") == kInt64Max);
  REQUIRE_THROWS_AS(checked_product({{"a", 8}, {"b", kSeventh}}, "x"), InputError);
  REQUIRE_THROWS_WITH(checked_product({{"", 2}, {"kv_heads", 8}, {"d_head", int64_t(1) << 62}},
                                      "cached elements per token"),
                      Contains("2 x kv_heads = 8 x d_head = 4611686018427387904 overflows "
                               "64-bit integers (at most 9223372036854775807): cached elements "
                               "per token"));
  CHECK(checked_sum({{"a", kInt64Max - 1}, {"b", 1}}, "x") == kInt64Max);
  REQUIRE_THROWS_WITH(checked_sum({{"a", kInt64Max}, {"b", 1}}, "total"),
                      Contains("a = 9223372036854775807 + b = 1 overflows"));
  CHECK(saturating_mul(int64_t(1) << 40, int64_t(1) << 40) == kInt64Max);
  CHECK(ceil_div(kInt64Max, 2) == int64_t(1) << 62);  // (a + b - 1) / b would wrap here
}

TEST_CASE("A decode point's total context is exact up to int64 and an error past it",
          "[model][overflow]") {
  // The issue's case: 2^32 x 2^32 wrapped to 0 cached tokens.
  REQUIRE_THROWS_WITH(DecodePoint::uniform(1, int64_t(1) << 32, int64_t(1) << 32),
                      Contains("batch = 4294967296 x ctx_len = 4294967296 overflows 64-bit "
                               "integers") &&
                          Contains("ctx_len_sum"));
  REQUIRE_THROWS_AS(DecodePoint::uniform(1, 8, kSeventh), InputError);
  CHECK(DecodePoint::uniform(1, 7, kSeventh).ctx_len_sum == kInt64Max);
  CHECK(DecodePoint::uniform(1, 3037000499, 3037000499).ctx_len_sum == 9223372030926249001);
  // A point that check() rejects has no total to overflow.
  CHECK(DecodePoint::uniform(1, -(int64_t(1) << 40), int64_t(1) << 40).check().size() == 1);

  const std::vector<int64_t> fits = {kInt64Max - 1, 1};
  CHECK(DecodePoint::ragged(1, fits).ctx_len_sum == kInt64Max);
  const std::vector<int64_t> wraps = {kInt64Max, 1};
  REQUIRE_THROWS_WITH(DecodePoint::ragged(1, wraps),
                      Contains("2 sequence lengths") && Contains("overflows 64-bit integers") &&
                          Contains("ctx_len_sum"));
}

TEST_CASE("Huge batches give exact, positive FLOPs and bytes and do not fit",
          "[model][overflow]") {
  const Preset& llama = find_preset("llama3_70b", "test");
  const Hardware& h100 = find_hardware("h100_sxm", "test");
  // batch = 2^63 - 1 used to give negative FLOPs (batch x ctx_len wrapped).
  const DecodePoint p = DecodePoint::uniform(1, kInt64Max, 1);
  const Cost cost = llama.variant->decode_cost(p);
  CHECK(cost.flops() > 0);
  CHECK(std::isfinite(cost.flops()));
  // 8 KV heads x 128 x bf16, read by scores and by value: 4096 bytes per cached token.
  CHECK(cost.kv_read_bytes() == double(kInt64Max) * 4096.0);
  const Capacity cap = capacity(*llama.variant, llama.n_layers, llama.other_params, p, h100);
  CHECK_FALSE(cap.fits);
  // 2 x 8 x 128 elements x 80 layers x 2 bytes per cached token.
  CHECK(cap.kv_bytes == double(kInt64Max) * 4096.0 * 80.0);
  CHECK(cap.max_batch >= 0);
}

TEST_CASE("Config dimensions whose cache size passes int64 are errors naming them",
          "[model][overflow]") {
  // The issue's case: d_head = 2^62 gave a negative KV per token that "fit".
  REQUIRE_THROWS_WITH(variant_from_json("gqa", gqa_config(64, 8, int64_t(1) << 62)),
                      Contains("test config: GQA config: 2 x kv_heads = 8 x d_head = "
                               "4611686018427387904 overflows 64-bit integers"));
  // Just below: 2 x 8 x 2^58 = 2^62 elements, exact.
  const VariantPtr wide = variant_from_json("gqa", gqa_config(64, 8, int64_t(1) << 58));
  CHECK(wide->kv_elems_per_token(1) == int64_t(1) << 62);
  CHECK(wide->kv_elems_per_token(8) == int64_t(1) << 59);
  const Hardware& h100 = find_hardware("h100_sxm", "test");
  CHECK_FALSE(capacity(*wide, 1, 0, DecodePoint::uniform(1, 1, 1), h100).fits);

  REQUIRE_THROWS_WITH(
      variant_from_json("mha", R"({"d_model": 64, "q_heads": 4, "d_head": 2305843009213693952})"),
      Contains("kv_heads = 4 x d_head = 2305843009213693952 overflows"));
  REQUIRE_THROWS_WITH(
      variant_from_json("gta", R"({"d_model": 64, "q_heads": 8, "kv_heads": 1,
                                   "d_head": 9223372036854775807, "d_rope": 1})"),
      Contains("kv_heads x d_head = 9223372036854775807 + d_rope = 1 overflows"));
  REQUIRE_THROWS_WITH(
      variant_from_json("lrkv", R"({"d_model": 64, "q_heads": 4, "d_head": 64,
                                    "rank": 4611686018427387904, "rope": "latent"})"),
      Contains("q_heads on the device = 4 x rank = 4611686018427387904 overflows"));
  REQUIRE_THROWS_WITH(
      variant_from_json("tpa", R"({"d_model": 64, "q_heads": 4, "d_head": 64, "q_rank": 1,
                                   "k_rank": 9223372036854775807, "v_rank": 1})"),
      Contains("k_rank = 9223372036854775807 + v_rank = 1 overflows"));
  REQUIRE_THROWS_WITH(
      variant_from_json("mfa", R"({"d_model": 64, "q_heads": 4, "d_head": 4611686018427387904,
                                   "d_q_latent": 8, "key_reuse": false})"),
      Contains("2 x d_head = 4611686018427387904 overflows"));
  const std::string latent = R"("d_model": 64, "q_heads": 4, "d_q_latent": 8, "d_nope": 8,
                                "d_v": 8, )";
  REQUIRE_THROWS_WITH(
      variant_from_json("gla", "{" + latent + R"("d_rope": 8, "n_blocks": 4,
                                                 "d_block": 4611686018427387904})"),
      Contains("latent blocks on the device = 4 x d_block = 4611686018427387904 overflows"));
  // MLRA-2 runs 2 (block, head) instances per head; MLRA-4 and TPLA one per block and head.
  REQUIRE_THROWS_WITH(
      variant_from_json("mlra2", R"({"d_model": 64, "q_heads": 4611686018427387904,
                                     "d_q_latent": 8, "d_nope": 8, "d_v": 8, "d_rope": 8,
                                     "d_latent": 512, "out_proj": "replicated"})"),
      Contains("2 x q_heads = 4611686018427387904 overflows") && Contains("instances"));
  REQUIRE_THROWS_WITH(
      variant_from_json("tpla", R"({"d_model": 64, "q_heads": 4611686018427387904,
                                    "d_q_latent": 8, "d_nope": 8, "d_v": 8, "d_rope": 8,
                                    "d_latent": 512, "groups": 4})"),
      Contains("latent blocks on the device = 4 x q_heads = 4611686018427387904 overflows"));
}

TEST_CASE("divisors factors its argument: exact lists, fast for any 64-bit value",
          "[model][overflow][tp]") {
  for (int64_t n = 1; n <= 2000; ++n) {
    std::vector<int64_t> expected;
    for (int64_t d = 1; d <= n; ++d)
      if (n % d == 0) expected.push_back(d);
    REQUIRE(divisors(n) == expected);
  }
  CHECK(divisors(0).empty());
  const auto start = std::chrono::steady_clock::now();
  CHECK(divisors(int64_t(1) << 62).size() == 63);
  CHECK(divisors(kInt64Max).size() == 3 * 2 * 2 * 2 * 2 * 2);
  CHECK(divisors(2305843009213693951) == std::vector<int64_t>{1, 2305843009213693951});  // 2^61-1
  // Two primes near 2^31: counting to sqrt(n) would take 2^31 steps.
  CHECK(divisors(4611685975477714963) ==
        std::vector<int64_t>{1, 2147483629, 2147483647, 4611685975477714963});
  CHECK(divisors(897612484786617600).size() == 103680);  // the most divisors below 2^63
  CHECK(seconds_since(start) < 5.0);
}

TEST_CASE("max_units_per_device's closed form matches walking every device",
          "[model][overflow][tp]") {
  for (int64_t h = 1; h <= 96; ++h) {
    for (int64_t units = 1; units <= h; ++units) {
      if (h % units != 0) continue;
      const int64_t g = h / units;
      for (int64_t tp = 1; tp <= h; ++tp) {
        if (h % tp != 0) continue;
        const int64_t per_device = h / tp;
        int64_t walked = 0;
        for (int64_t r = 0; r < tp; ++r) {
          const int64_t first = r * per_device, last = first + per_device - 1;
          walked = std::max(walked, last / g - first / g + 1);
        }
        INFO("q_heads " << h << ", units " << units << ", tp " << tp);
        REQUIRE(max_units_per_device(h, g, tp) == walked);
      }
    }
  }
  // tp = 2^62 devices, one head each: answered without visiting them.
  CHECK(max_units_per_device(int64_t(1) << 62, int64_t(1) << 59, int64_t(1) << 62) == 1);
  CHECK(max_units_per_device(24, 4, 8) == 2);  // "TP rules": 3 heads straddle 2 units
}

TEST_CASE("Valid TP degrees come from the divisors, at most kMaxListedDegrees of them",
          "[model][overflow][tp]") {
  const auto start = std::chrono::steady_clock::now();
  // The issue's case: q_heads = 2^62 at TP 3 counted to 2^62.
  const VariantPtr huge = variant_from_json("gqa", gqa_config(int64_t(1) << 62, 1, 1));
  CHECK(huge->check_tp(2).empty());
  CHECK_THAT(joined(huge->check_tp(3)),
             Contains("tp = 3 does not divide q_heads = 4611686018427387904") &&
                 Contains("valid tp: 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, "
                          "8192, 16384, 32768, ... (63 in all)\n"));
  const VariantPtr prime = variant_from_json("gqa", gqa_config(2305843009213693951, 1, 1));
  CHECK_THAT(joined(prime->check_tp(2)), Contains("valid tp: 1, 2305843009213693951\n"));
  const VariantPtr gla =
      variant_from_json("gla", R"({"d_model": 64, "q_heads": 4611686018427387904,
                                   "d_q_latent": 8, "d_nope": 8, "d_v": 8, "d_rope": 8,
                                   "n_blocks": 2, "d_block": 64})");
  CHECK_THAT(joined(gla->check_tp(3)),
             Contains("valid tp: 1, 2, 4, 8,") && Contains("(63 in all)"));
  // TPLA's degrees run to groups x q_heads = 2^62.
  const VariantPtr tpla =
      variant_from_json("tpla", R"({"d_model": 64, "q_heads": 1152921504606846976,
                                    "d_q_latent": 8, "d_nope": 8, "d_v": 8, "d_rope": 8,
                                    "d_latent": 512, "groups": 4})");
  CHECK_THAT(joined(tpla->check_tp(3)),
             Contains("valid tp: 1, 2, 4, 8,") && Contains("(63 in all)"));
  CHECK(seconds_since(start) < 5.0);
}

TEST_CASE("The calibrated time model leaves launches past its CTA cap to the roofline",
          "[model][overflow][calibration]") {
  const Preset& llama = find_preset("llama3_70b", "test");
  const Hardware& h200 = find_hardware("h200_sxm", "test");
  REQUIRE(h200.calibration != nullptr);
  const auto attention_calibration = [&](const DecodePoint& p) {
    return std::string(estimate(llama.variant->decode_cost(p), p, h200).stages[1].calibration);
  };
  CHECK_FALSE(attention_calibration(DecodePoint::uniform(8, 64, 8192)).empty());
  CHECK_FALSE(attention_calibration(DecodePoint::uniform(1, 64, 8192)).empty());
  // 10^12 sequences: one entry and at least one CTA each would be terabytes.
  const auto start = std::chrono::steady_clock::now();
  CHECK(attention_calibration(DecodePoint::uniform(8, 1000000000000, 1)).empty());
  // Past the batch cap; then within it but past the CTA cap (8 KV heads x 2^20 sequences).
  CHECK(attention_calibration(DecodePoint::uniform(8, kMaxScheduledCtas + 1, 1)).empty());
  CHECK(attention_calibration(DecodePoint::uniform(1, int64_t(1) << 20, 1)).empty());
  CHECK(seconds_since(start) < 5.0);

  // Measured work past the cap is refused with the count.
  DecodeWork w;
  w.q_heads = w.kv_heads = 1 << 20;
  w.d_qk = w.d_v = 128;
  w.ctx_lens.assign(8, 1024);
  w.read_ceiling_Bps = 4e12;
  w.plan = KernelPlan{.tile_m = 16, .tile_n = 64, .stages = 2, .ctas_per_sm = 2, .sm_count = 132,
                      .n_splits = 1, .split_len = 1024};
  REQUIRE_THROWS_WITH(work_features(w), Contains("the launch has 8388608 CTAs") &&
                                            Contains("at most 4194304 are scheduled"));
  w.ctx_lens.assign(1, int64_t(1) << 40);
  REQUIRE_THROWS_WITH(work_features(w), Contains("ctx_len 1099511627776 is past 2147483647"));
}

TEST_CASE("Capacity counts saturate instead of converting past int64", "[model][overflow]") {
  const Preset& llama = find_preset("llama3_70b", "test");
  Hardware vast = find_hardware("h100_sxm", "test");
  vast.hbm_capacity_bytes = 1e300;
  const Capacity cap = capacity(*llama.variant, llama.n_layers, llama.other_params,
                                DecodePoint::uniform(8, 1, 1), vast);
  CHECK(cap.fits);
  CHECK(cap.max_batch == kInt64Max);
  CHECK(cap.max_ctx_len == kInt64Max);
}

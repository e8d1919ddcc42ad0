// The host side of `validate-kernels --stress` (kernels/stress/stress_case.h): the rounds a seed
// draws are valid decode problems, replayable, and their poison ranges, offsets and checked
// slice agree with the layout the kernels read (DecodeParams::physical_row). The GPU side runs on
// the device machine (kernels/harness/stress_check.h).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "kernels/reference/numerics.h"
#include "kernels/stress/stress_case.h"
#include "kernels/stress/stress_values.h"
#include "tests/sanitized.h"

namespace {

using namespace attnroof::kernels;
using namespace attnroof::kernels::stress;

// The shapes compiled today (supported_decode_shapes() needs the CUDA library).
const std::vector<DecodeShape> kShapes = {
    {KernelFamily::separate_kv, 64, 64},     {KernelFamily::separate_kv, 128, 128},
    {KernelFamily::separate_kv, 256, 256},   {KernelFamily::shared_latent, 576, 512},
    {KernelFamily::shared_latent, 320, 256}, {KernelFamily::shared_latent, 192, 128},
};

}  // namespace

TEST_CASE("stress values are finite bf16 of magnitude 0.125 to 2 and both signs and repeat by index",
          "[stress]") {
  int negative = 0;
  std::set<uint16_t> seen;
  int64_t outside = 0, unstable = 0;
  for (uint64_t i = 0; i < 100000; ++i) {
    const uint16_t bits = stress_value_bits(42, StressBuffer::k, i);
    const float x = attnroof::ref::bf16_bits_to_float(bits);
    outside += !(std::isfinite(x) && std::abs(x) >= 0.125f && std::abs(x) < 2.0f);
    negative += x < 0;
    seen.insert(bits);
    unstable += stress_value_bits(42, StressBuffer::k, i) != bits;
  }
  CHECK(outside == 0);
  CHECK(unstable == 0);
  CHECK(negative > 45000);
  CHECK(negative < 55000);
  CHECK(seen.size() == 1024);  // 2 signs x 4 exponents x 128 mantissas: every value occurs
  // Buffers and seeds are independent streams.
  int same = 0;
  for (uint64_t i = 0; i < 1000; ++i)
    same += stress_value_bits(42, StressBuffer::k, i) == stress_value_bits(42, StressBuffer::v, i);
  CHECK(same < 20);
}

TEST_CASE("a stress seed names one round: the same seed draws the same case", "[stress]") {
  const StressLimits limits;
  for (uint64_t seed : {0ull, 1ull, 977ull, 0xFFFFFFFFFFFFFFFFull}) {
    const StressCase a = draw_stress_case(seed, kShapes, limits);
    const StressCase b = draw_stress_case(seed, kShapes, limits);
    CHECK(describe(a) == describe(b));
    CHECK(a.lens == b.lens);
    CHECK(a.page_table == b.page_table);
    CHECK(a.checked_seqs == b.checked_seqs);
    CHECK(a.check_head0 == b.check_head0);
  }
  CHECK(describe(draw_stress_case(5, kShapes, limits)) !=
        describe(draw_stress_case(6, kShapes, limits)));
}

TEST_CASE("stress rounds are valid problems within the limits and cover the hard cases",
          "[stress]") {
  StressLimits limits;
  limits.max_cache_bytes = 40e9;
  // 1500 rounds; under the sanitizers, where walking their page tables (up to 2^25 entries)
  // unoptimized took two minutes, the first 375. Every round's checks are the same, and the
  // coverage bounds are fractions of the count: the 375 meet them too (big 22 > 18, wide 14 > 5).
  const int rounds = attnroof::test::kSanitized ? 375 : 1500;
  int paged = 0, contiguous = 0, ragged = 0, empty_seq = 0, big = 0, past_2_32 = 0, unchecked = 0,
      wide_table = 0, multi_token = 0;
  std::set<int32_t> q_tokens_seen;
  std::set<int32_t> d_qk_seen;
  for (uint64_t seed = 0; seed < uint64_t(rounds); ++seed) {
    const StressCase c = draw_stress_case(seed, kShapes, limits);
    INFO(describe(c) << " seed " << seed);
    const DecodeParams p = c.layout();
    REQUIRE(c.cache_bytes() <= limits.max_cache_bytes);
    REQUIRE(c.q_heads >= 1);
    REQUIRE(c.q_heads <= limits.max_q_heads);
    REQUIRE(c.q_heads % c.kv_heads == 0);
    REQUIRE(int64_t(c.batch) * c.kv_heads <= 65535);
    REQUIRE(c.lens.size() == std::size_t(c.batch));
    REQUIRE(std::count(c.lens.begin(), c.lens.end(), int32_t(c.ctx_max)) >= 1);
    CHECK(std::all_of(c.lens.begin(), c.lens.end(),
                      [&](int32_t len) { return len >= 0 && len <= c.ctx_max; }));
    REQUIRE(c.softmax_scale > 0.f);
    // New tokens: within the limit and the longest context; every non-empty sequence holds them.
    REQUIRE(c.q_tokens >= 1);
    REQUIRE(c.q_tokens <= limits.max_q_tokens);
    REQUIRE((c.q_tokens == 1 || c.q_tokens <= c.ctx_max));  // ctx_max 0: a batch of empty slots
    CHECK(std::all_of(c.lens.begin(), c.lens.end(),
                      [&](int32_t len) { return len == 0 || len >= c.q_tokens; }));
    multi_token += c.q_tokens > 1;
    q_tokens_seen.insert(c.q_tokens);
    REQUIRE(c.k_elems() > 0);  // launch_decode needs a cache, even for a batch of empty sequences
    d_qk_seen.insert(c.shape.d_qk);
    (c.paged ? paged : contiguous)++;
    ragged += std::set<int32_t>(c.lens.begin(), c.lens.end()).size() > 1;
    empty_seq += std::count(c.lens.begin(), c.lens.end(), 0) > 0;
    big += c.cache_bytes() > 10e9;
    wide_table += c.page_table.size() > (std::size_t(1) << 24);

    if (c.paged) {
      REQUIRE((c.page_size == 64 || c.page_size == 128));
      REQUIRE(c.page_table.size() == std::size_t(c.batch) * std::size_t(c.max_pages_per_seq));
      REQUIRE(c.cache_rows == c.pool_pages * c.page_size);
      // Every entry in the pool; a page of a length is never the poison page nor shared; an
      // entry past the length is the poison page. (Counted, not asserted per entry: tables reach
      // 2^24 entries.)
      std::vector<char> used(std::size_t(c.pool_pages), 0);
      int64_t out_of_pool = 0, poison_in_use = 0, shared = 0, past_not_poison = 0;
      for (int32_t b = 0; b < c.batch; ++b)
        for (int32_t j = 0; j < c.max_pages_per_seq; ++j) {
          const int32_t page = c.page_table[std::size_t(b) * std::size_t(c.max_pages_per_seq) + std::size_t(j)];
          if (page < 0 || page >= c.pool_pages) {
            ++out_of_pool;
          } else if (int64_t(j) * c.page_size < c.lens[std::size_t(b)]) {
            poison_in_use += page == c.poison_page;
            shared += used[std::size_t(page)] != 0;
            used[std::size_t(page)] = 1;
          } else {
            past_not_poison += page != c.poison_page;
          }
        }
      CHECK(out_of_pool == 0);
      CHECK(poison_in_use == 0);
      CHECK(shared == 0);
      CHECK(past_not_poison == 0);
    } else {
      REQUIRE(c.max_ctx_len >= c.ctx_max);
      REQUIRE(c.cache_rows == int64_t(c.batch) * c.max_ctx_len);
    }

    // The last valid element's offset, in int64 as the kernels compute it: past 2^32 elements
    // (the 32-bit offset overflow the race investigation ruled out: reports/kernels/h200/issue16/)
    // in the large rounds.
    int64_t last = -1;
    for (int32_t b = 0; b < c.batch; ++b)
      if (c.lens[std::size_t(b)] > 0)
        last = std::max(last, p.physical_row(b, c.lens[std::size_t(b)] - 1));
    if (last >= 0) {
      REQUIRE(last < c.cache_rows);
      const int64_t elem = (last + 1) * p.k_row_elems();
      REQUIRE(elem <= c.k_elems());
      past_2_32 += elem > (int64_t(1) << 32);
    }

    // The checked slice: inside one KV head's group, within the budgets; empty only when no
    // sequence fits the per-task one.
    if (c.checked_seqs.empty()) {
      ++unchecked;
      for (int32_t len : c.lens)
        CHECK(double(len) * (c.shape.d_qk + c.shape.d_v) * c.q_tokens > limits.max_task_macs);
    }
    for (int32_t b : c.checked_seqs)
      CHECK(double(c.lens[std::size_t(b)]) * (c.shape.d_qk + c.shape.d_v) * c.q_tokens <=
            limits.max_task_macs);
    REQUIRE(c.check_heads >= 1);
    const int32_t group = c.q_heads / c.kv_heads;
    REQUIRE(c.check_head0 >= c.check_kv_head * group);
    REQUIRE(c.check_head0 + c.check_heads <= (c.check_kv_head + 1) * group);
    REQUIRE(c.check_macs() <= limits.max_check_macs);
    for (int32_t b : c.checked_seqs) REQUIRE((b >= 0 && b < c.batch));
  }
  INFO(rounds << " rounds");
  CHECK(d_qk_seen.size() == kShapes.size());
  CHECK(paged > rounds / 2);
  CHECK(contiguous > rounds * 3 / 10);
  CHECK(ragged > rounds / 2);
  CHECK(empty_seq > rounds / 10);
  CHECK(big > rounds / 20);
  CHECK(past_2_32 > rounds / 75);
  CHECK(wide_table > rounds / 75);  // page tables past 2^24 entries
  CHECK(unchecked < rounds / 20);  // nearly every round checks some sequence against the reference
  CHECK(multi_token > rounds / 3);  // about half the rounds decode several new tokens
  CHECK(q_tokens_seen.size() == std::size_t(attnroof::kernels::kMaxQTokens));  // 1..8
}

TEST_CASE("a stress round drawn with max_q_tokens 1 is the round drawn before q_tokens existed",
          "[stress]") {
  // q_tokens comes from a stream of its own after the rest of the round: the layout, heads,
  // batch and page table do not depend on it, and with a limit of 1 nothing changes at all.
  StressLimits one;
  one.max_q_tokens = 1;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const StressCase a = draw_stress_case(seed, kShapes, one);
    const StressCase b = draw_stress_case(seed, kShapes, StressLimits{});
    INFO("seed " << seed << ": " << describe(b));
    CHECK(a.q_tokens == 1);
    CHECK(a.shape.d_qk == b.shape.d_qk);
    CHECK(a.q_heads == b.q_heads);
    CHECK(a.batch == b.batch);
    CHECK(a.ctx_max == b.ctx_max);
    CHECK(a.page_table == b.page_table);
    CHECK(a.cache_rows == b.cache_rows);
    for (std::size_t i = 0; i < a.lens.size(); ++i)
      CHECK(b.lens[i] == (a.lens[i] == 0 ? 0 : std::max(a.lens[i], b.q_tokens)));
  }
}

TEST_CASE("the poisoned rows are exactly the rows no valid position maps to", "[stress]") {
  StressLimits limits;
  limits.max_cache_bytes = 2e8;  // small enough for a row bitmap
  for (uint64_t seed = 100; seed < 400; ++seed) {
    const StressCase c = draw_stress_case(seed, kShapes, limits);
    INFO(describe(c) << " seed " << seed);
    const DecodeParams p = c.layout();
    std::vector<char> valid(std::size_t(c.cache_rows), 0);
    int64_t outside = 0, shared = 0;
    for (int32_t b = 0; b < c.batch; ++b)
      for (int64_t pos = 0; pos < c.lens[std::size_t(b)]; ++pos) {
        const int64_t row = p.physical_row(b, pos);
        if (row < 0 || row >= c.cache_rows) {
          ++outside;
          continue;
        }
        shared += valid[std::size_t(row)] != 0;  // no two positions share a row
        valid[std::size_t(row)] = 1;
      }
    CHECK(outside == 0);
    CHECK(shared == 0);
    std::vector<char> poisoned(std::size_t(c.cache_rows), 0);
    int64_t prev_end = -1;
    for (const auto& [first, last] : c.poisoned_rows()) {
      REQUIRE(first > prev_end);  // sorted, disjoint, adjacent ones merged
      REQUIRE(last > first);
      REQUIRE(last <= c.cache_rows);
      prev_end = last;
      for (int64_t r = first; r < last; ++r) poisoned[std::size_t(r)] = 1;
    }
    int64_t wrong = 0;  // a row both valid and poisoned, or neither
    for (std::size_t r = 0; r < valid.size(); ++r) wrong += valid[r] + poisoned[r] != 1;
    CHECK(wrong == 0);
  }
}

TEST_CASE("the checked slice holds the values the GPU fill writes at the round's rows",
          "[stress]") {
  StressLimits limits;
  limits.max_cache_bytes = 5e7;
  for (uint64_t seed = 7; seed < 60; ++seed) {
    const StressCase c = draw_stress_case(seed, kShapes, limits);
    INFO(describe(c) << " seed " << seed);
    const DecodeParams p = c.layout();
    const CheckedSlice s = build_checked_slice(c, 2);
    const int64_t d_qk = c.shape.d_qk, d_v = c.shape.d_v;
    const bool separate = c.shape.family == KernelFamily::separate_kv;
    REQUIRE(s.lens.size() == c.checked_seqs.size());
    REQUIRE(s.k.size() == s.lens.size() * std::size_t(s.rows_per_seq) * std::size_t(d_qk));
    REQUIRE(s.v.size() == (separate ? s.lens.size() * std::size_t(s.rows_per_seq) * std::size_t(d_v) : 0));
    const std::vector<uint16_t> q = stress_query(c);
    for (std::size_t i = 0; i < s.lens.size(); ++i) {
      const int32_t b = c.checked_seqs[i];
      REQUIRE(s.lens[i] == c.lens[std::size_t(b)]);
      // q [seqs, q_tokens, check_heads, d_qk] of the slice, [batch, q_tokens, q_heads, d_qk] whole.
      for (int32_t t = 0; t < c.q_tokens; ++t)
        for (int32_t h = 0; h < c.check_heads; ++h)
          for (int64_t e = 0; e < d_qk; e += 37) {
            const std::size_t at = (i * std::size_t(c.q_tokens) + std::size_t(t)) * std::size_t(c.check_heads) + std::size_t(h);
            const int64_t from = (int64_t(b) * c.q_tokens + t) * c.q_heads + c.check_head0 + h;
            REQUIRE(s.q[at * std::size_t(d_qk) + std::size_t(e)] == q[std::size_t(from * d_qk + e)]);
          }
      int64_t k_wrong = 0, v_wrong = 0;
      for (int64_t pos = 0; pos < s.lens[i]; pos += 1 + pos / 3) {
        const int64_t row = p.physical_row(b, pos);
        const std::size_t at = i * std::size_t(s.rows_per_seq) + std::size_t(pos);
        for (int64_t e = 0; e < d_qk; e += 11)
          k_wrong += s.k[at * std::size_t(d_qk) + std::size_t(e)] !=
                     stress_value_bits(c.seed, StressBuffer::k,
                                       uint64_t(row * p.k_row_elems() + c.check_kv_head * d_qk + e));
        if (separate)
          for (int64_t e = 0; e < d_v; e += 13)
            v_wrong += s.v[at * std::size_t(d_v) + std::size_t(e)] !=
                       stress_value_bits(c.seed, StressBuffer::v,
                                         uint64_t(row * p.v_row_elems() + c.check_kv_head * d_v + e));
      }
      CHECK(k_wrong == 0);
      CHECK(v_wrong == 0);
    }
  }
}

TEST_CASE("draw_stress_case refuses limits that leave nothing to draw", "[stress]") {
  StressLimits limits;
  CHECK_THROWS_WITH(draw_stress_case(1, {}, limits), Catch::Contains("no kernel shape"));
  limits.max_cache_bytes = 1000;
  CHECK_THROWS_WITH(draw_stress_case(1, kShapes, limits), Catch::Contains("below 20 MB"));
}

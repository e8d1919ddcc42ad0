// The kernel-facing reference: flat buffers as the CUDA kernels take them (bf16 bit patterns,
// contiguous or paged, ragged ctx_lens), checked against a naive per-element loop written here
// from the layout comment in decode_params.h, plus the split-KV mirror and its merge.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "kernels/decode_params.h"
#include "kernels/reference/decode_reference.h"
#include "model/split_plan.h"
#include "kernels/reference/numerics.h"

using namespace attnroof;
using namespace attnroof::ref;
using kernels::DecodeParams;
using kernels::KernelFamily;

namespace {

constexpr uint16_t kNanBits = 0x7FC0;

struct Problem {
  KernelFamily family;
  int32_t batch, q_heads, kv_heads, d_qk, d_v;
  std::vector<int32_t> ctx;
  int64_t max_ctx;
  std::vector<uint16_t> q, k, v;  // q [batch, q_tokens, q_heads, d_qk]; cache row b * max_ctx + t
  float scale;
  int32_t q_tokens = 1;
};

std::vector<uint16_t> random_bf16(std::size_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<uint16_t> out(n);
  for (uint16_t& x : out) x = float_to_bf16_bits(normal(rng));
  return out;
}

Problem make_problem(KernelFamily family, int32_t q_heads, int32_t kv_heads, int32_t d_qk, int32_t d_v,
                     std::vector<int32_t> ctx, int32_t q_tokens = 1) {
  std::mt19937 rng(1234);
  Problem p{family, int32_t(ctx.size()), q_heads, kv_heads, d_qk, d_v, ctx, 0, {}, {}, {}, 0, q_tokens};
  p.max_ctx = *std::max_element(ctx.begin(), ctx.end()) + 5;
  p.q = random_bf16(std::size_t(p.batch) * q_tokens * q_heads * d_qk, rng);
  p.k = random_bf16(std::size_t(p.batch * p.max_ctx) * kv_heads * d_qk, rng);
  if (family == KernelFamily::separate_kv) p.v = random_bf16(std::size_t(p.batch * p.max_ctx) * kv_heads * d_v, rng);
  // Poison every row at or past ctx_len: a read of it would turn the output into NaN.
  for (int32_t b = 0; b < p.batch; ++b) {
    for (int64_t t = ctx[std::size_t(b)]; t < p.max_ctx; ++t) {
      const int64_t row = b * p.max_ctx + t;
      std::fill_n(p.k.begin() + row * kv_heads * d_qk, kv_heads * d_qk, kNanBits);
      if (!p.v.empty()) std::fill_n(p.v.begin() + row * kv_heads * d_v, kv_heads * d_v, kNanBits);
    }
  }
  p.scale = 1.0f / std::sqrt(float(d_qk));
  return p;
}

DecodeParams contiguous_params(const Problem& pr) {
  DecodeParams p;
  p.family = pr.family;
  p.batch = pr.batch;
  p.q_heads = pr.q_heads;
  p.kv_heads = pr.kv_heads;
  p.d_qk = pr.d_qk;
  p.d_v = pr.d_v;
  p.softmax_scale = pr.scale;
  p.q = pr.q.data();
  p.k_cache = pr.k.data();
  p.v_cache = pr.v.empty() ? nullptr : pr.v.data();
  p.ctx_lens = pr.ctx.data();
  p.max_ctx_len = pr.max_ctx;
  p.q_tokens = pr.q_tokens;
  return p;
}

double f(uint16_t bits) { return double(bf16_bits_to_float(bits)); }

// Naive: one (b, query token, head) at a time, element loops, from the header's layout
// description, over keys [k0, k1).
void naive(const Problem& pr, int64_t b, int64_t h, int64_t k0, int64_t k1, std::vector<double>& o,
           double& lse, int64_t token = 0) {
  const int64_t j = h / (pr.q_heads / pr.kv_heads);
  const int64_t q_row = (b * pr.q_tokens + token) * pr.q_heads + h;
  std::vector<double> s;
  for (int64_t t = k0; t < k1; ++t) {
    const int64_t row = b * pr.max_ctx + t;
    double dot = 0;
    for (int64_t e = 0; e < pr.d_qk; ++e) {
      dot += f(pr.q[std::size_t(q_row * pr.d_qk + e)]) *
             f(pr.k[std::size_t((row * pr.kv_heads + j) * pr.d_qk + e)]);
    }
    s.push_back(double(pr.scale) * dot);
  }
  o.assign(std::size_t(pr.d_v), 0.0);
  lse = -std::numeric_limits<double>::infinity();
  if (s.empty()) return;
  const double m = *std::max_element(s.begin(), s.end());
  double sum = 0;
  for (double& x : s) sum += (x = std::exp(x - m));
  for (int64_t t = k0; t < k1; ++t) {
    const int64_t row = b * pr.max_ctx + t;
    for (int64_t e = 0; e < pr.d_v; ++e) {
      const double v = pr.family == KernelFamily::shared_latent
                           ? f(pr.k[std::size_t((row * pr.kv_heads + j) * pr.d_qk + e)])
                           : f(pr.v[std::size_t((row * pr.kv_heads + j) * pr.d_v + e)]);
      o[std::size_t(e)] += s[std::size_t(t - k0)] / sum * v;
    }
  }
  lse = m + std::log(sum);
}

// Which keys query token `token` of q_tokens sees in a sequence of ctx keys: [0, result).
enum class Mask { causal, every_key, one_short };
int64_t keys_seen(int64_t ctx, int64_t q_tokens, int64_t token, Mask mask) {
  if (ctx == 0) return 0;  // an empty slot
  switch (mask) {
    case Mask::causal: return ctx - q_tokens + 1 + token;  // the new tokens are causal
    case Mask::every_key: return ctx;                      // wrong: sees the tokens after it
    case Mask::one_short: return ctx - q_tokens + token;   // wrong: misses itself
  }
  return 0;
}

// The largest difference between the output and the naive loop under `mask` (o and lse; +inf
// where one side is -inf and the other not, or the output is not finite).
double worst_error(const Problem& pr, const DecodeOutput& out, Mask mask) {
  double worst = 0;
  for (int64_t b = 0; b < pr.batch; ++b) {
    for (int64_t token = 0; token < pr.q_tokens; ++token) {
      for (int64_t h = 0; h < pr.q_heads; ++h) {
        std::vector<double> o;
        double lse = 0;
        naive(pr, b, h, 0, keys_seen(pr.ctx[std::size_t(b)], pr.q_tokens, token, mask), o, lse, token);
        const int64_t row = (b * pr.q_tokens + token) * pr.q_heads + h;
        const double got_lse = out.lse[std::size_t(row)];
        if (std::isinf(lse) || std::isinf(got_lse)) {
          if (!(std::isinf(lse) && std::isinf(got_lse) && got_lse < 0)) worst = INFINITY;
        } else {
          worst = std::max(worst, std::abs(got_lse - lse) / std::max(1.0, std::abs(lse)));
        }
        for (int64_t e = 0; e < pr.d_v; ++e) {
          const double got = out.o[std::size_t(row * pr.d_v + e)];
          worst = std::isfinite(got) ? std::max(worst, std::abs(got - o[std::size_t(e)])) : INFINITY;
        }
      }
    }
  }
  return worst;
}

void check_against_naive(const Problem& pr, const DecodeOutput& out) {
  CHECK(out.o.size() == std::size_t(pr.batch) * pr.q_tokens * pr.q_heads * pr.d_v);
  CHECK(out.lse.size() == std::size_t(pr.batch) * pr.q_tokens * pr.q_heads);
  CHECK(worst_error(pr, out, Mask::causal) <= 1e-12);
}

}  // namespace

TEST_CASE("decode_reference: separate K/V, group 3, ragged ctx 0/1/3/129/257, poisoned tail",
          "[reference][decode_reference]") {
  const Problem pr = make_problem(KernelFamily::separate_kv, 6, 2, 8, 8, {0, 1, 3, 129, 257});
  const DecodeOutput out = decode_reference(contiguous_params(pr));
  check_against_naive(pr, out);
  CHECK(out.o[0] == 0.0);  // ctx 0: o = 0, lse = -inf
  CHECK(std::isinf(out.lse[0]));
}

TEST_CASE("decode_reference: shared latent row (V = first d_v of K), 7 heads", "[reference][decode_reference]") {
  const Problem pr = make_problem(KernelFamily::shared_latent, 7, 1, 12, 8, {1, 3, 129, 257});
  check_against_naive(pr, decode_reference(contiguous_params(pr)));
}

TEST_CASE("decode_reference: a paged cache gives the same result as the contiguous one",
          "[reference][decode_reference]") {
  for (KernelFamily fam : {KernelFamily::separate_kv, KernelFamily::shared_latent}) {
    const Problem pr = make_problem(fam, 3, fam == KernelFamily::separate_kv ? 3 : 1, 8, 8, {3, 129, 257, 64});
    const int32_t page = 16;
    const int32_t pages_per_seq = int32_t((pr.max_ctx + page - 1) / page);
    const int32_t n_pages = pr.batch * pages_per_seq;
    // Pages dealt in a shuffled order so logical and physical rows differ.
    std::vector<int32_t> table(static_cast<std::size_t>(n_pages));
    std::iota(table.begin(), table.end(), 0);
    std::shuffle(table.begin(), table.end(), std::mt19937(9));
    const int64_t k_row = int64_t(pr.kv_heads) * pr.d_qk, v_row = int64_t(pr.kv_heads) * pr.d_v;
    std::vector<uint16_t> k(std::size_t(n_pages) * page * k_row, kNanBits), v;
    if (!pr.v.empty()) v.assign(std::size_t(n_pages) * page * v_row, kNanBits);
    for (int32_t b = 0; b < pr.batch; ++b) {
      for (int64_t t = 0; t < pr.ctx[std::size_t(b)]; ++t) {
        const int64_t phys = int64_t(table[std::size_t(b * pages_per_seq + t / page)]) * page + t % page;
        std::copy_n(pr.k.begin() + (b * pr.max_ctx + t) * k_row, k_row, k.begin() + phys * k_row);
        if (!v.empty()) std::copy_n(pr.v.begin() + (b * pr.max_ctx + t) * v_row, v_row, v.begin() + phys * v_row);
      }
    }
    DecodeParams p = contiguous_params(pr);
    const DecodeOutput want = decode_reference(p);
    p.k_cache = k.data();
    p.v_cache = v.empty() ? nullptr : v.data();
    p.page_table = table.data();
    p.page_size = page;
    p.max_pages_per_seq = pages_per_seq;
    p.max_ctx_len = 0;
    const DecodeOutput got = decode_reference(p);
    CHECK(got.o == want.o);
    CHECK(got.lse == want.lse);
  }
}

TEST_CASE("decode_reference split mirror: per-split (o, lse), merge == unsplit",
          "[reference][decode_reference][split]") {
  const Problem pr = make_problem(KernelFamily::shared_latent, 7, 1, 12, 8, {0, 3, 300, 1000, 257});
  DecodeParams p = contiguous_params(pr);
  // 8 splits of 128 keys over the longest sequence: the shorter ones leave some splits empty.
  const attnroof::model::SplitPlan plan = attnroof::model::split_evenly(1000, 8, 64);
  REQUIRE(plan.n_splits == 8);
  p.n_splits = int32_t(plan.n_splits);
  p.split_len = int32_t(plan.split_len);
  const SplitOutput split = decode_reference_split(p);
  const DecodeOutput whole = decode_reference(p);
  for (std::size_t i = 0; i < whole.o.size(); ++i) CHECK(std::abs(split.merged.o[i] - whole.o[i]) <= 1e-12);
  for (std::size_t i = 0; i < whole.lse.size(); ++i) {
    if (std::isinf(whole.lse[i])) {
      CHECK(std::isinf(split.merged.lse[i]));
    } else {
      CHECK(std::abs(split.merged.lse[i] - whole.lse[i]) <= 1e-12);
    }
  }
  // Each partial is the naive attention over its own key range; splits past the end are empty.
  for (int64_t b = 0; b < pr.batch; ++b) {
    for (int64_t s = 0; s < plan.n_splits; ++s) {
      const int64_t k0 = s * plan.split_len, k1 = std::min<int64_t>(k0 + plan.split_len, pr.ctx[std::size_t(b)]);
      for (int64_t h = 0; h < pr.q_heads; h += 3) {
        std::vector<double> o;
        double lse = 0;
        naive(pr, b, h, k0, std::max(k0, k1), o, lse);
        const std::size_t slot = std::size_t((b * plan.n_splits + s) * pr.q_heads + h);
        INFO("b " << b << " split " << s << " head " << h);
        if (k1 <= k0) {
          CHECK(std::isinf(split.lse_partial[slot]));
          continue;
        }
        CHECK(std::abs(split.lse_partial[slot] - lse) <= 1e-12 * std::max(1.0, std::abs(lse)));
        for (int64_t e = 0; e < pr.d_v; ++e) {
          CHECK(std::abs(split.o_partial[slot * std::size_t(pr.d_v) + std::size_t(e)] - o[std::size_t(e)]) <= 1e-12);
        }
      }
    }
  }
  // A wrong merge (plain average of the partials) is caught by the same comparison.
  std::vector<double> bad = split.merged.o;
  for (std::size_t i = 0; i < bad.size(); ++i) {
    double sum = 0;
    const std::size_t per = std::size_t(pr.q_heads * pr.d_v), b = i / per, rest = i % per;
    for (int64_t s = 0; s < plan.n_splits; ++s) sum += split.o_partial[(b * std::size_t(plan.n_splits) + std::size_t(s)) * per + rest];
    bad[i] = sum / double(plan.n_splits);
  }
  double worst = 0;
  for (std::size_t i = 0; i < bad.size(); ++i) worst = std::max(worst, std::abs(bad[i] - whole.o[i]));
  CHECK(worst > 1e-3);
}

TEST_CASE("decode_reference: outputs written in the kernels' formats; bad params are refused",
          "[reference][decode_reference]") {
  const Problem pr = make_problem(KernelFamily::separate_kv, 4, 2, 8, 8, {5, 9});
  DecodeParams p = contiguous_params(pr);
  std::vector<uint16_t> o(std::size_t(pr.batch * pr.q_heads * pr.d_v));
  std::vector<float> lse(std::size_t(pr.batch * pr.q_heads));
  p.o = o.data();
  p.lse = lse.data();
  const DecodeOutput out = decode_reference(p);
  write_outputs(out, p);
  for (std::size_t i = 0; i < o.size(); ++i) CHECK(o[i] == float_to_bf16_bits(float(out.o[i])));
  for (std::size_t i = 0; i < lse.size(); ++i) CHECK(lse[i] == float(out.lse[i]));
  CHECK(bf16_bits_to_float(float_to_bf16_bits(1.00390625f)) == 1.0f);  // ties round to even
  CHECK(std::isnan(bf16_bits_to_float(float_to_bf16_bits(std::nanf("")))));
  DecodeParams bad = p;
  bad.kv_heads = 3;
  CHECK_THROWS_AS(decode_reference(bad), std::invalid_argument);
  bad = p;
  bad.family = KernelFamily::shared_latent;  // v_cache set and d_v == d_qk: v_cache must be null
  CHECK_THROWS_AS(decode_reference(bad), std::invalid_argument);
}

TEST_CASE("decode_reference with q_tokens > 1: each new token attends the keys up to itself",
          "[reference][decode_reference][q_tokens]") {
  // Both families, GQA groups of 3 and a latent row, ragged lengths from exactly q_tokens up.
  for (const int32_t q_tokens : {2, 3, 4, 8}) {
    for (const KernelFamily fam : {KernelFamily::separate_kv, KernelFamily::shared_latent}) {
      const Problem pr = make_problem(fam, 6, fam == KernelFamily::separate_kv ? 2 : 1, 16, 8,
                                      {0, q_tokens, q_tokens + 1, 67, 300}, q_tokens);
      INFO("q_tokens " << q_tokens << (fam == KernelFamily::separate_kv ? " separate" : " latent"));
      const DecodeOutput out = decode_reference(contiguous_params(pr));
      CHECK(out.q_rows == int64_t(q_tokens) * pr.q_heads);
      check_against_naive(pr, out);
      // Deliberately wrong masks must fail the same comparison: every token seeing the whole
      // sequence (the new tokens after it too), or missing its own key.
      CHECK(worst_error(pr, out, Mask::every_key) > 1e-3);
      CHECK(worst_error(pr, out, Mask::one_short) > 1e-3);
      // The last token sees every key: it is the q_tokens = 1 decode of the same sequence.
      Problem last = pr;
      last.q_tokens = 1;
      last.q.clear();
      for (int32_t b = 0; b < pr.batch; ++b) {
        const auto first = pr.q.begin() + std::ptrdiff_t((int64_t(b) * q_tokens + q_tokens - 1) * pr.q_heads * pr.d_qk);
        last.q.insert(last.q.end(), first, first + pr.q_heads * pr.d_qk);
      }
      const DecodeOutput one = decode_reference(contiguous_params(last));
      for (int32_t b = 0; b < pr.batch; ++b)
        for (int64_t i = 0; i < int64_t(pr.q_heads) * pr.d_v; ++i)
          CHECK(one.o[std::size_t(b * pr.q_heads * pr.d_v + i)] ==
                out.o[std::size_t((int64_t(b) * q_tokens + q_tokens - 1) * pr.q_heads * pr.d_v + i)]);
    }
  }
}

TEST_CASE("decode_reference split mirror with q_tokens > 1 merges to the unsplit output",
          "[reference][decode_reference][q_tokens][split]") {
  // Splits of 64 keys: the causal limits of the 4 new tokens fall inside the last split, and
  // the sequence of exactly 4 keys leaves early tokens with one key in split 0 only.
  const Problem pr = make_problem(KernelFamily::shared_latent, 5, 1, 16, 8, {4, 64, 65, 130, 0}, 4);
  DecodeParams p = contiguous_params(pr);
  const attnroof::model::SplitPlan plan = attnroof::model::split_evenly(130, 3, 64);
  REQUIRE(plan.n_splits == 3);
  p.n_splits = int32_t(plan.n_splits);
  p.split_len = int32_t(plan.split_len);
  const SplitOutput split = decode_reference_split(p);
  CHECK(split.o_partial.size() == std::size_t(pr.batch) * 3 * 4 * pr.q_heads * pr.d_v);
  CHECK(worst_error(pr, split.merged, Mask::causal) <= 1e-12);
  // Sequence 2 (65 keys), token 0 sees 62 keys: split 1 ([64, 128)) is empty for it, and token
  // 3 sees key 64 there.
  const auto lse_at = [&](int64_t b, int64_t s, int64_t token, int64_t h) {
    return split.lse_partial[std::size_t(((b * 3 + s) * 4 + token) * pr.q_heads + h)];
  };
  CHECK(std::isinf(lse_at(2, 1, 0, 0)));
  CHECK(std::isfinite(lse_at(2, 1, 3, 0)));
}

TEST_CASE("decode_reference refuses a sequence shorter than its new tokens", "[reference][decode_reference][q_tokens]") {
  const Problem pr = make_problem(KernelFamily::separate_kv, 2, 1, 8, 8, {5, 2}, 3);
  try {
    decode_reference(contiguous_params(pr));
    FAIL("no error");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::Contains("ctx_lens[1] = 2 < q_tokens = 3"));
  }
  DecodeParams p = contiguous_params(pr);
  p.q_tokens = 0;
  CHECK_THROWS_AS(decode_reference(p), std::invalid_argument);
}

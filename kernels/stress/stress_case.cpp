#include "kernels/stress/stress_case.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

#include "kernels/stress/stress_values.h"
#include "model/error.h"

namespace attnroof::kernels::stress {

namespace {

// The round's own generator: splitmix64 over a counter, with helpers whose results do not depend
// on the standard library (std::uniform_int_distribution and std::shuffle are not portable), so
// a seed names the same round on every machine.
class Draw {
 public:
  explicit Draw(uint64_t seed) : state_(seed) {}
  uint64_t next() { return stress_bits(state_, StressBuffer::q, counter_++) ^ 0x5bd1e995u; }
  int64_t below(int64_t n) { return n <= 1 ? 0 : int64_t(next() % uint64_t(n)); }
  bool chance(int percent) { return below(100) < percent; }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  // Log-uniform integer in [lo, hi].
  int64_t log_uniform(int64_t lo, int64_t hi) {
    if (hi <= lo) return lo;
    const double x = std::exp(std::log(double(lo)) + uniform() * (std::log(double(hi) + 1) - std::log(double(lo))));
    return std::clamp<int64_t>(int64_t(x), lo, hi);
  }
  template <class T>
  T pick(std::span<const T> items) { return items[std::size_t(below(int64_t(items.size())))]; }

 private:
  uint64_t state_;
  uint64_t counter_ = 0;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

constexpr int64_t kMaxTableEntries = int64_t(1) << 25;  // 128 MB of int32 on host and device

// Head counts and group sizes: the edges tiles meet (1, odd, 64 +- 1, 128) half the time.
int32_t draw_count(Draw& d, int32_t most) {
  static constexpr int32_t kEdges[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128};
  if (d.chance(50)) {
    std::vector<int32_t> fit;
    for (int32_t e : kEdges)
      if (e <= most) fit.push_back(e);
    return d.pick(std::span<const int32_t>(fit));
  }
  return int32_t(d.log_uniform(1, most));
}

// Batch, lengths and cache layout for a pool of about `tokens` rows; returns the cache bytes
// and sets `longest` to the sequence holding exactly ctx_max keys.
double draw_layout(Draw& d, StressCase& c, const StressLimits& limits, int64_t tokens,
                   int64_t& longest) {
  const int32_t batch_most = std::min<int32_t>(limits.max_batch, 65535 / c.kv_heads);
  c.batch = int32_t(d.log_uniform(1, std::min<int64_t>(batch_most, tokens)));
  const int64_t ctx_cap = std::max<int64_t>(
      std::min({limits.max_ctx, tokens / c.batch,
                int64_t(std::numeric_limits<int32_t>::max()) - 1024}),
      1);
  if (d.chance(10)) {
    static constexpr int64_t kSmall[] = {0, 1, 2, 63, 64, 65, 127, 128, 129, 255, 256, 257};
    c.ctx_max = std::min(d.pick(std::span<const int64_t>(kSmall)), ctx_cap);
  } else {
    c.ctx_max = d.chance(25) ? ctx_cap : d.log_uniform(1, ctx_cap);
  }

  // Ragged lengths: empty, full, just under the full length (tile edges), or uniform.
  c.lens.assign(std::size_t(c.batch), 0);
  for (int32_t& len : c.lens) {
    const int64_t mode = d.below(100);
    int64_t l;
    if (mode < 10) l = 0;
    else if (mode < 30) l = c.ctx_max;
    else if (mode < 55) l = c.ctx_max - d.below(std::min<int64_t>(c.ctx_max, 130) + 1);
    else l = d.below(c.ctx_max + 1);
    len = int32_t(l);
  }
  longest = d.below(c.batch);
  c.lens[std::size_t(longest)] = int32_t(c.ctx_max);

  c.paged = d.chance(60);
  c.page_table.clear();
  if (c.paged) {
    c.page_size = d.chance(50) ? 64 : 128;
    const int64_t slack_rows = d.below(3 * int64_t(c.page_size));
    c.max_pages_per_seq =
        int32_t(std::max<int64_t>(ceil_div(c.ctx_max + slack_rows, c.page_size), 1));
    // A table sized for the engine's longest allowed sequence rather than this batch's (vLLM
    // sizes block tables by max_model_len): up to kMaxTableEntries entries, past 2^24, all but
    // the used ones pointing at the poison page.
    if (d.chance(15)) {
      const int64_t widest = std::max<int64_t>(kMaxTableEntries / c.batch, c.max_pages_per_seq);
      c.max_pages_per_seq =
          int32_t(d.chance(50) ? widest : d.log_uniform(c.max_pages_per_seq, widest));
    }
    int64_t used = 0;
    for (int32_t len : c.lens) used += ceil_div(len, c.page_size);
    c.pool_pages = used + 1 + d.below(used / 8 + 2);
    // A shuffled pool (Fisher-Yates): entry 0 is the all-NaN poison page every table entry past
    // a length points at, then the used pages, then spares nothing points at.
    std::vector<int32_t> pool(std::size_t(c.pool_pages));
    for (std::size_t i = 0; i < pool.size(); ++i) pool[i] = int32_t(i);
    for (std::size_t i = pool.size(); i > 1; --i)
      std::swap(pool[i - 1], pool[std::size_t(d.below(int64_t(i)))]);
    c.poison_page = pool[0];
    c.page_table.assign(std::size_t(c.batch) * std::size_t(c.max_pages_per_seq), c.poison_page);
    std::size_t next = 1;
    for (int32_t b = 0; b < c.batch; ++b)
      for (int64_t j = 0; j < ceil_div(c.lens[std::size_t(b)], c.page_size); ++j)
        c.page_table[std::size_t(b) * std::size_t(c.max_pages_per_seq) + std::size_t(j)] =
            pool[next++];
    c.cache_rows = c.pool_pages * c.page_size;
  } else {
    c.page_size = 0;
    c.max_pages_per_seq = 0;
    c.pool_pages = 0;
    c.poison_page = -1;
    // At least one row: launch_decode wants a cache even when every sequence is empty.
    c.max_ctx_len = std::max<int64_t>(c.ctx_max + d.below(4) + (d.chance(50) ? d.below(64) : 0), 1);
    c.cache_rows = int64_t(c.batch) * c.max_ctx_len;
  }
  return c.cache_bytes();
}

}  // namespace

DecodeParams StressCase::layout() const {
  DecodeParams p;
  p.family = shape.family;
  p.batch = batch;
  p.q_heads = q_heads;
  p.kv_heads = kv_heads;
  p.q_tokens = q_tokens;
  p.d_qk = shape.d_qk;
  p.d_v = shape.d_v;
  p.softmax_scale = softmax_scale;
  p.ctx_lens = lens.data();
  if (paged) {
    p.page_table = page_table.data();
    p.page_size = page_size;
    p.max_pages_per_seq = max_pages_per_seq;
  } else {
    p.max_ctx_len = max_ctx_len;
  }
  return p;
}

int64_t StressCase::k_elems() const { return cache_rows * layout().k_row_elems(); }

int64_t StressCase::v_elems() const {
  return shape.family == KernelFamily::separate_kv ? cache_rows * layout().v_row_elems() : 0;
}

double StressCase::check_macs() const {
  double macs = 0;
  for (int32_t b : checked_seqs)
    macs += double(lens[std::size_t(b)]) * check_heads * q_tokens * (shape.d_qk + shape.d_v);
  return macs;
}

std::vector<std::pair<int64_t, int64_t>> StressCase::poisoned_rows() const {
  std::vector<std::pair<int64_t, int64_t>> out;
  auto add = [&](int64_t first, int64_t last) {
    if (last <= first) return;
    if (!out.empty() && out.back().second == first) out.back().second = last;
    else out.emplace_back(first, last);
  };
  if (!paged) {
    for (int32_t b = 0; b < batch; ++b)
      add(int64_t(b) * max_ctx_len + lens[std::size_t(b)], int64_t(b + 1) * max_ctx_len);
    return out;
  }
  // Valid rows of each physical page (0 for the poison page and spares).
  std::vector<int32_t> valid(std::size_t(pool_pages), 0);
  for (int32_t b = 0; b < batch; ++b) {
    const int64_t len = lens[std::size_t(b)];
    for (int64_t j = 0; j * page_size < len; ++j) {
      const int32_t page = page_table[std::size_t(b) * std::size_t(max_pages_per_seq) + std::size_t(j)];
      valid[std::size_t(page)] = int32_t(std::min<int64_t>(page_size, len - j * page_size));
    }
  }
  for (int64_t page = 0; page < pool_pages; ++page)
    add(page * page_size + valid[std::size_t(page)], (page + 1) * page_size);
  return out;
}

StressCase draw_stress_case(uint64_t seed, std::span<const DecodeShape> shapes,
                            const StressLimits& limits) {
  if (shapes.empty()) throw InputError("stress: no kernel shape to draw from");
  // The smallest round of the widest row (separate K/V, 32 heads of d 256: 32 KB a row) is three
  // pages of 128 rows (the used page, the poison page, a spare): 12.6 MB.
  if (!(limits.max_cache_bytes >= 2e7))
    throw InputError(fmt::format("stress: a cache limit of {:.3g} bytes is below 20 MB",
                                 limits.max_cache_bytes));
  Draw d(seed);
  StressCase c;
  c.seed = seed;
  c.shape = d.pick(shapes);
  const bool latent = c.shape.family == KernelFamily::shared_latent;
  if (latent) {
    c.kv_heads = 1;
    c.q_heads = draw_count(d, limits.max_q_heads);
  } else {
    const int32_t group = draw_count(d, limits.max_q_heads);
    c.kv_heads = int32_t(1 + d.below(std::min(limits.max_kv_heads, limits.max_q_heads / group)));
    c.q_heads = group * c.kv_heads;
  }
  c.softmax_scale =
      float((0.5 + 1.5 * d.uniform()) / std::sqrt(double(latent ? 192 : c.shape.d_qk)));
  const double row_bytes = 2.0 * double(c.kv_heads) * (c.shape.d_qk + (latent ? 0 : c.shape.d_v));

  // The cache size first (a third of the rounds near the limit, the rest log-uniform from
  // 1 MB), then the batch; the longest context follows from both. 0.85: page rounding, slack
  // rows and spare pages stay inside the limit; where they do not (small pools of many short
  // sequences), the round is drawn again from half the tokens.
  const double target = d.chance(35) ? limits.max_cache_bytes * (0.25 + 0.75 * d.uniform())
                                      : std::exp(std::log(1e6) + d.uniform() *
                                                 std::log(limits.max_cache_bytes / 1e6));
  int64_t longest = 0;
  for (double tokens_scale = 0.85;; tokens_scale /= 2) {
    const int64_t tokens = std::max<int64_t>(int64_t(tokens_scale * target / row_bytes), 1);
    if (draw_layout(d, c, limits, tokens, longest) <= limits.max_cache_bytes) break;
    if (tokens == 1)  // the 20 MB floor above makes this impossible
      throw std::logic_error(fmt::format("stress: no round fits a {:.3g} B cache limit",
                                         limits.max_cache_bytes));
  }

  // New tokens: half the rounds 1, the others 2..max_q_tokens (at most the longest context), from
  // a stream of their own. Shorter non-empty sequences grow to q_tokens keys: <= 8 rows, inside
  // the first page or row block they already hold.
  {
    Draw dq(seed ^ 0x71746f6b656e73ull);
    const int64_t most = std::min<int64_t>(limits.max_q_tokens, c.ctx_max);
    if (most > 1 && dq.chance(50)) c.q_tokens = int32_t(2 + dq.below(most - 1));
    for (int32_t& len : c.lens)
      if (len > 0) len = std::max(len, c.q_tokens);
  }

  // The checked slice: a range of query heads inside one KV head's group, over the longest
  // sequence, the last one (the highest offsets of a contiguous cache), a random one and an
  // empty one: those within the per-task budget, as many as the total budget takes.
  const int32_t group = c.q_heads / c.kv_heads;
  // Per (sequence, head): every new token's row (the reference runs them on one thread).
  const double row_macs = double(c.shape.d_qk + c.shape.d_v) * c.q_tokens;
  c.check_kv_head = int32_t(d.below(c.kv_heads));
  c.check_heads = int32_t(std::min<int64_t>(group, 1 + d.below(8)));
  c.check_head0 = c.check_kv_head * group + int32_t(d.below(group - c.check_heads + 1));
  std::vector<int32_t> candidates = {int32_t(longest), c.batch - 1, int32_t(d.below(c.batch))};
  for (int32_t b = 0; b < c.batch; ++b)
    if (c.lens[std::size_t(b)] == 0) {
      candidates.push_back(b);
      break;
    }
  double macs = 0;
  for (int32_t b : candidates) {
    const double per_head = double(c.lens[std::size_t(b)]) * row_macs;
    const double cost = per_head * c.check_heads;
    const bool seen =
        std::find(c.checked_seqs.begin(), c.checked_seqs.end(), b) != c.checked_seqs.end();
    if (seen || per_head > limits.max_task_macs || macs + cost > limits.max_check_macs) continue;
    c.checked_seqs.push_back(b);
    macs += cost;
  }
  if (c.checked_seqs.empty()) {  // none of those fits: the longest sequence that does
    int32_t best = -1;
    for (int32_t b = 0; b < c.batch; ++b)
      if (double(c.lens[std::size_t(b)]) * row_macs <= limits.max_task_macs &&
          (best < 0 || c.lens[std::size_t(b)] > c.lens[std::size_t(best)]))
        best = b;
    if (best >= 0) {
      const double per_head = std::max(double(c.lens[std::size_t(best)]) * row_macs, 1.0);
      c.check_heads = int32_t(std::clamp<double>(limits.max_check_macs / per_head, 1, c.check_heads));
      c.checked_seqs.push_back(best);
    }
  }
  return c;
}

std::vector<uint16_t> stress_query(const StressCase& c) {
  std::vector<uint16_t> q(std::size_t(c.batch) * std::size_t(c.q_tokens) * std::size_t(c.q_heads) *
                          std::size_t(c.shape.d_qk));
  for (std::size_t i = 0; i < q.size(); ++i) q[i] = stress_value_bits(c.seed, StressBuffer::q, i);
  return q;
}

CheckedSlice build_checked_slice(const StressCase& c, int threads) {
  const DecodeParams p = c.layout();
  const int64_t d_qk = c.shape.d_qk, d_v = c.shape.d_v;
  const bool separate = c.shape.family == KernelFamily::separate_kv;
  const std::size_t n_seqs = c.checked_seqs.size();
  CheckedSlice s;
  for (int32_t b : c.checked_seqs)
    s.rows_per_seq = std::max<int64_t>(s.rows_per_seq, c.lens[std::size_t(b)]);
  s.rows_per_seq = std::max<int64_t>(s.rows_per_seq, 1);
  constexpr uint16_t kNaN = 0x7FC0;  // slice rows past a length: never read by the reference
  s.q.resize(n_seqs * std::size_t(c.q_tokens) * std::size_t(c.check_heads) * std::size_t(d_qk));
  s.k.assign(n_seqs * std::size_t(s.rows_per_seq) * std::size_t(d_qk), kNaN);
  if (separate) s.v.assign(n_seqs * std::size_t(s.rows_per_seq) * std::size_t(d_v), kNaN);
  for (std::size_t i = 0; i < n_seqs; ++i) {
    const int32_t b = c.checked_seqs[i];
    s.lens.push_back(c.lens[std::size_t(b)]);
    for (int32_t t = 0; t < c.q_tokens; ++t)
      for (int32_t h = 0; h < c.check_heads; ++h) {
        const std::size_t at = (i * std::size_t(c.q_tokens) + std::size_t(t)) * std::size_t(c.check_heads) + std::size_t(h);
        const int64_t from = (int64_t(b) * c.q_tokens + t) * c.q_heads + c.check_head0 + h;
        for (int64_t e = 0; e < d_qk; ++e)
          s.q[at * std::size_t(d_qk) + std::size_t(e)] =
              stress_value_bits(c.seed, StressBuffer::q, uint64_t(from * d_qk + e));
      }
  }
  // Rows over threads: row r of the slice is (sequence r / rows_per_seq, position r % ...).
  const int64_t total_rows = int64_t(n_seqs) * s.rows_per_seq;
  auto copy_rows = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const std::size_t i = std::size_t(r / s.rows_per_seq);
      const int64_t pos = r % s.rows_per_seq;
      const int32_t b = c.checked_seqs[i];
      if (pos >= c.lens[std::size_t(b)]) continue;
      const int64_t row = p.physical_row(b, pos);
      const uint64_t k0 = uint64_t(row * p.k_row_elems() + int64_t(c.check_kv_head) * d_qk);
      for (int64_t e = 0; e < d_qk; ++e)
        s.k[std::size_t(r * d_qk + e)] = stress_value_bits(c.seed, StressBuffer::k, k0 + uint64_t(e));
      if (!separate) continue;
      const uint64_t v0 = uint64_t(row * p.v_row_elems() + int64_t(c.check_kv_head) * d_v);
      for (int64_t e = 0; e < d_v; ++e)
        s.v[std::size_t(r * d_v + e)] = stress_value_bits(c.seed, StressBuffer::v, v0 + uint64_t(e));
    }
  };
  const int n_threads = int(std::clamp<int64_t>(total_rows / 4096, 1, std::max(threads, 1)));
  std::vector<std::thread> pool;
  for (int t = 1; t < n_threads; ++t)
    pool.emplace_back(copy_rows, total_rows * t / n_threads, total_rows * (t + 1) / n_threads);
  copy_rows(0, total_rows / n_threads);
  for (auto& t : pool) t.join();
  return s;
}

std::string describe(const StressCase& c) {
  const bool latent = c.shape.family == KernelFamily::shared_latent;
  return fmt::format("{} d{}/{} hq={} hkv={} batch={} ctx={}{} {} cache {:.2f} GB",
                     latent ? "latent" : "separate", c.shape.d_qk, c.shape.d_v, c.q_heads,
                     c.kv_heads, c.batch, c.ctx_max,
                     c.q_tokens > 1 ? fmt::format(" q_tokens={}", c.q_tokens) : "",
                     c.paged ? fmt::format("paged{}", c.page_size) : "contiguous",
                     c.cache_bytes() / 1e9);
}

}  // namespace attnroof::kernels::stress

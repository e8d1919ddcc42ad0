#include "kernels/reference/decode_reference.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/reference/numerics.h"

namespace attnroof::ref {
namespace {

using kernels::DecodeParams;
using kernels::KernelFamily;
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

void validate(const DecodeParams& p) {
  std::vector<std::string> bad;
  if (p.batch < 0) bad.push_back(fmt::format("batch = {} < 0", p.batch));
  if (p.q_heads <= 0 || p.kv_heads <= 0 || p.q_heads % p.kv_heads != 0) {
    bad.push_back(fmt::format("q_heads = {} must be a positive multiple of kv_heads = {}", p.q_heads,
                              p.kv_heads));
  }
  if (p.d_qk <= 0 || p.d_v <= 0) bad.push_back("d_qk and d_v must be positive");
  if (p.q_tokens < 1) bad.push_back(fmt::format("q_tokens = {} < 1", p.q_tokens));
  if (p.family == KernelFamily::shared_latent) {
    if (p.d_v > p.d_qk) bad.push_back("shared_latent: d_v must not exceed d_qk (V is the row's prefix)");
    if (p.v_cache != nullptr) bad.push_back("shared_latent: v_cache must be null");
  } else if (p.v_cache == nullptr && p.batch > 0) {
    bad.push_back("separate_kv: v_cache is null");
  }
  if (p.batch > 0 && (p.q == nullptr || p.k_cache == nullptr || p.ctx_lens == nullptr)) {
    bad.push_back("q, k_cache and ctx_lens must be set");
  }
  if (p.page_table != nullptr && (p.page_size <= 0 || p.max_pages_per_seq <= 0)) {
    bad.push_back("paged: page_size and max_pages_per_seq must be positive");
  }
  for (int32_t b = 0; b < p.batch && p.ctx_lens != nullptr; ++b) {
    const int64_t len = p.ctx_lens[b];
    const int64_t cap = p.page_table != nullptr ? int64_t(p.max_pages_per_seq) * p.page_size : p.max_ctx_len;
    if (len < 0 || len > cap) bad.push_back(fmt::format("ctx_lens[{}] = {} outside [0, {}]", b, len, cap));
    if (len > 0 && len < p.q_tokens)
      bad.push_back(fmt::format("ctx_lens[{}] = {} < q_tokens = {}: the new tokens are keys too (0 is "
                                "an empty slot)", b, len, p.q_tokens));
  }
  if (!bad.empty()) {
    std::string msg = "decode_reference: invalid DecodeParams:";
    for (const std::string& s : bad) msg += "\n  - " + s;
    throw std::invalid_argument(msg);
  }
}

const uint16_t* bf16_ptr(const void* p) { return static_cast<const uint16_t*>(p); }

// Row of the cache holding (sequence b, position t), computed from the layout in
// decode_params.h's header comment (deliberately not DecodeParams::physical_row).
int64_t cache_row(const DecodeParams& p, int64_t b, int64_t t) {
  if (p.page_table == nullptr) return b * p.max_ctx_len + t;
  const int64_t page = p.page_table[b * int64_t(p.max_pages_per_seq) + t / p.page_size];
  return page * p.page_size + t % p.page_size;
}

Row bf16_row(const uint16_t* src, int64_t n) {
  Row r(n);
  for (int64_t i = 0; i < n; ++i) r(i) = double(bf16_bits_to_float(src[i]));
  return r;
}

// Attention of KV head j of sequence b over keys [k0, k1), each query token t (of q_tokens)
// further limited to the keys it may see, [0, ctx_len - q_tokens + 1 + t): o [q_tokens * group,
// d_v] and lse [q_tokens * group], row t * group + i for query head i of the group.
void attend(const DecodeParams& p, int64_t b, int64_t j, int64_t k0, int64_t k1, Mat& o,
            std::vector<double>& lse) {
  const int64_t g = p.q_heads / p.kv_heads, n = std::max<int64_t>(k1 - k0, 0);
  const int64_t rows = int64_t(p.q_tokens) * g;
  Mat q(rows, p.d_qk), k(n, p.d_qk), v(n, p.d_v);
  for (int64_t t = 0; t < p.q_tokens; ++t)
    for (int64_t i = 0; i < g; ++i)
      q.row(t * g + i) = bf16_row(
          bf16_ptr(p.q) + ((b * p.q_tokens + t) * p.q_heads + j * g + i) * int64_t(p.d_qk), p.d_qk);
  const int64_t k_row = int64_t(p.kv_heads) * p.d_qk, v_row = int64_t(p.kv_heads) * p.d_v;
  for (int64_t t = 0; t < n; ++t) {
    const int64_t row = cache_row(p, b, k0 + t);
    k.row(t) = bf16_row(bf16_ptr(p.k_cache) + row * k_row + j * p.d_qk, p.d_qk);
    v.row(t) = p.family == KernelFamily::shared_latent
                   ? Row(k.row(t).head(p.d_v))
                   : bf16_row(bf16_ptr(p.v_cache) + row * v_row + j * p.d_v, p.d_v);
  }
  o = Mat::Zero(rows, p.d_v);
  lse.assign(std::size_t(rows), kNegInf);
  const Mat s = double(p.softmax_scale) * (q * k.transpose());
  for (int64_t t = 0; t < p.q_tokens; ++t) {
    // Keys of [k0, k1) that token t sees: the prefix below its causal limit.
    const int64_t limit = int64_t(p.ctx_lens[b]) - p.q_tokens + 1 + t;
    const int64_t seen = std::clamp<int64_t>(limit - k0, 0, n);
    if (seen == 0) continue;
    std::vector<char> valid(std::size_t(n), 0);
    std::fill(valid.begin(), valid.begin() + seen, 1);
    std::vector<double> token_lse;
    const Mat s_t = s.middleRows(t * g, g);
    o.middleRows(t * g, g) = softmax_keys<double>(s_t, valid, &token_lse) * v;
    std::copy(token_lse.begin(), token_lse.end(), lse.begin() + t * g);
  }
}

// Output row of (sequence b, query token t, query head h) in [batch, q_tokens, q_heads].
int64_t out_row(const DecodeParams& p, int64_t b, int64_t t, int64_t h) {
  return (b * p.q_tokens + t) * p.q_heads + h;
}

}  // namespace

DecodeOutput decode_reference(const DecodeParams& p) {
  validate(p);
  DecodeOutput out{p.batch, p.q_rows(), p.d_v, {}, {}};
  out.o.assign(std::size_t(p.batch * p.q_rows() * p.d_v), 0.0);
  out.lse.assign(std::size_t(p.batch * p.q_rows()), kNegInf);
  const int64_t g = p.q_heads / p.kv_heads;
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t j = 0; j < p.kv_heads; ++j) {
      Mat o;
      std::vector<double> lse;
      attend(p, b, j, 0, p.ctx_lens[b], o, lse);
      for (int64_t t = 0; t < p.q_tokens; ++t)
        for (int64_t i = 0; i < g; ++i) {
          const int64_t row = out_row(p, b, t, j * g + i);
          Eigen::Map<Row>(out.o.data() + row * p.d_v, p.d_v) = o.row(t * g + i);
          out.lse[std::size_t(row)] = lse[std::size_t(t * g + i)];
        }
    }
  }
  return out;
}

SplitOutput decode_reference_split(const DecodeParams& p) {
  validate(p);
  if (p.n_splits < 1 || p.split_len < 1) {
    throw std::invalid_argument(fmt::format("decode_reference_split: n_splits = {}, split_len = {} "
                                            "(plan them with plan_splits)", p.n_splits, p.split_len));
  }
  SplitOutput out;
  out.n_splits = p.n_splits;
  out.split_len = p.split_len;
  const int64_t g = p.q_heads / p.kv_heads, ns = p.n_splits, rows = p.q_rows();
  out.o_partial.assign(std::size_t(p.batch * ns * rows * p.d_v), 0.0);
  out.lse_partial.assign(std::size_t(p.batch * ns * rows), kNegInf);
  for (int64_t b = 0; b < p.batch; ++b) {
    if (p.ctx_lens[b] > ns * int64_t(p.split_len)) {
      throw std::invalid_argument(fmt::format("decode_reference_split: ctx_lens[{}] = {} exceeds "
                                              "n_splits * split_len = {}", b, p.ctx_lens[b], ns * p.split_len));
    }
    for (int64_t s = 0; s < ns; ++s) {
      const int64_t k0 = s * p.split_len, k1 = std::min<int64_t>(k0 + p.split_len, p.ctx_lens[b]);
      for (int64_t j = 0; j < p.kv_heads; ++j) {
        Mat o;
        std::vector<double> lse;
        attend(p, b, j, k0, k1, o, lse);
        for (int64_t t = 0; t < p.q_tokens; ++t)
          for (int64_t i = 0; i < g; ++i) {
            const int64_t slot = (b * ns + s) * rows + t * p.q_heads + j * g + i;
            Eigen::Map<Row>(out.o_partial.data() + slot * p.d_v, p.d_v) = o.row(t * g + i);
            out.lse_partial[std::size_t(slot)] = lse[std::size_t(t * g + i)];
          }
      }
    }
  }
  out.merged = merge_splits(out.o_partial, out.lse_partial, p.batch, ns, rows, p.d_v);
  return out;
}

DecodeOutput merge_splits(const std::vector<double>& o_partial, const std::vector<double>& lse_partial,
                          int64_t batch, int64_t n_splits, int64_t q_rows, int64_t d_v) {
  DecodeOutput out{batch, q_rows, d_v, {}, {}};
  out.o.assign(std::size_t(batch * q_rows * d_v), 0.0);
  out.lse.assign(std::size_t(batch * q_rows), kNegInf);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < q_rows; ++h) {
      double m = kNegInf;
      for (int64_t s = 0; s < n_splits; ++s) m = std::max(m, lse_partial[std::size_t((b * n_splits + s) * q_rows + h)]);
      if (m == kNegInf) continue;  // no key at all: o = 0, lse = -inf
      double sum = 0;
      Row acc = Row::Zero(d_v);
      for (int64_t s = 0; s < n_splits; ++s) {
        const int64_t slot = (b * n_splits + s) * q_rows + h;
        const double l = lse_partial[std::size_t(slot)];
        if (l == kNegInf) continue;
        const double wgt = std::exp(l - m);
        sum += wgt;
        acc += wgt * Eigen::Map<const Row>(o_partial.data() + slot * d_v, d_v);
      }
      Eigen::Map<Row>(out.o.data() + (b * q_rows + h) * d_v, d_v) = acc / sum;
      out.lse[std::size_t(b * q_rows + h)] = m + std::log(sum);
    }
  }
  return out;
}

void write_outputs(const DecodeOutput& out, const DecodeParams& p) {
  auto* o = static_cast<uint16_t*>(p.o);
  for (std::size_t i = 0; i < out.o.size() && o != nullptr; ++i) o[i] = float_to_bf16_bits(float(out.o[i]));
  for (std::size_t i = 0; i < out.lse.size() && p.lse != nullptr; ++i) p.lse[i] = float(out.lse[i]);
}

void write_partials(const SplitOutput& out, const DecodeParams& p) {
  for (std::size_t i = 0; i < out.o_partial.size() && p.o_partial != nullptr; ++i) p.o_partial[i] = float(out.o_partial[i]);
  for (std::size_t i = 0; i < out.lse_partial.size() && p.lse_partial != nullptr; ++i) {
    p.lse_partial[i] = float(out.lse_partial[i]);
  }
}

}  // namespace attnroof::ref

// TPA (docs/variants.md "TPA"; MLRA repo model/tpa.py,
// tensorgi/TPA decode/flashtpa_decode_torch.py):
//   q_i = (1/R_q) sum_r A^q_{i,r}(x) RoPE(B^q_r(x), m),  k_i = (1/R) sum_r A^k_{i,r} RoPE(B^k_r, n),
//   v_i = (1/R_V) sum_r A^v_{i,r} B^v_r;   A(x) = x W_A [h, R],  B(x) = x W_B [R, d_head]
//   o_i = softmax(q_i.k_i / sqrt(d_head)) V_i,  out = [o] W^O.   (k_i: 1/R_K, R = R_K)
// Cache per token: a_k [h R_K], a_v [h R_V], b_k [R_K d_head] (rotated), b_v [R_V d_head].
// Absorbed = factorized (FlashTPA): scores (1/R) sum_r A^k_{:,r} (B^k_r q_i), values
// (1/R) sum_r (p_i * A^v_{:,r}) B^v_r; neither K nor V is formed.
// TP: A-factor projections split by head (a_k, a_v shard), B factors replicated.
#include <fmt/format.h>

#include <array>

#include "kernels/reference/variants.h"

namespace attnroof::ref {
namespace {

template <class T>
struct TpaParams {
  int64_t d_head = 0, k_rank = 0, v_rank = 0, q_rank = 0;
  MatT<T> w_aq, w_bq, w_ak, w_bk, w_av, w_bv;
};

// Row-wise combination: out (L x d_head) = scale * sum_r a[:, head*R + r] .* b[:, r*d_head ..]
template <class T>
MatT<T> combine(const MatT<T>& a, const MatT<T>& b, int64_t head, int64_t R, int64_t dh) {
  MatT<T> out = MatT<T>::Zero(a.rows(), dh);
  for (int64_t r = 0; r < R; ++r) {
    out.array() += b.middleCols(r * dh, dh).array().colwise() * a.col(head * R + r).array();
  }
  return out / T(R);
}

template <class T>
class TpaModel final : public RefModel<T> {
 public:
  TpaModel(const RefConfig& c, const Numerics& n, std::vector<int64_t> heads, MatT<T> wo,
           TpaParams<T> p)
      : RefModel<T>(c, n, std::move(heads), p.d_head, std::move(wo)),
        p_(std::move(p)),
        tau_(T(1.0 / std::sqrt(double(p_.d_head)))) {}

  bool has_absorbed() const override { return true; }
  std::string absorbed_note() const override {
    return "factorized (FlashTPA): scores and values from the rank factors, K and V never formed";
  }

  MatT<T> forward_y(const MatT<T>& x, std::span<const int64_t> pos, std::span<const char> valid,
                    ScoreRecord<T>* rec) const override {
    const int64_t dh = p_.d_head, R = p_.k_rank, RV = p_.v_rank;
    const MatT<T> aq = x * p_.w_aq, ak = x * p_.w_ak, av = x * p_.w_av, bv = x * p_.w_bv;
    MatT<T> bq = x * p_.w_bq, bk = x * p_.w_bk;
    apply_rope(bq, pos, 0, dh, p_.q_rank, dh, this->numerics_.rope);
    apply_rope(bk, pos, 0, dh, R, dh, this->numerics_.rope);
    const CharMat allowed = causal_mask(valid);
    MatT<T> y(x.rows(), heads() * dh);
    for (int64_t i = 0; i < heads(); ++i) {
      const MatT<T> q = combine<T>(aq, bq, i, p_.q_rank, dh);
      const MatT<T> k = combine<T>(ak, bk, i, R, dh);
      const MatT<T> s = tau_ * (q * k.transpose());
      if (rec) rec->add(fmt::format("h{}", this->head_ids_[std::size_t(i)]), s);
      y.middleCols(i * dh, dh) = masked_softmax_rows<T>(s, allowed) * combine<T>(av, bv, i, RV, dh);
    }
    return y;
  }

  Cache<T> new_cache() const override {
    Cache<T> c;
    c.add_part("a_k", heads() * p_.k_rank);
    c.add_part("a_v", heads() * p_.v_rank);
    c.add_part("b_k", p_.k_rank * p_.d_head);
    c.add_part("b_v", p_.v_rank * p_.d_head);
    return c;
  }

  void append(Cache<T>& cache, const RowT<T>& x, int64_t pos, bool valid) const override {
    const std::array<int64_t, 1> at = {pos};
    MatT<T> bk = x * p_.w_bk;
    apply_rope(bk, at, 0, p_.d_head, p_.k_rank, p_.d_head, this->numerics_.rope);
    const std::array<RowT<T>, 4> rows = {RowT<T>(x * p_.w_ak), RowT<T>(x * p_.w_av), RowT<T>(bk),
                                         RowT<T>(x * p_.w_bv)};
    cache.append(rows, pos, valid);
  }

  RowT<T> decode_y(const Cache<T>& cache, const RowT<T>& x, int64_t pos, Form form) const override {
    const int64_t dh = p_.d_head, R = p_.k_rank, RV = p_.v_rank, hl = heads();
    const std::array<int64_t, 1> at = {pos};
    const MatT<T> xm = x;
    MatT<T> bq = xm * p_.w_bq;
    apply_rope(bq, at, 0, dh, p_.q_rank, dh, this->numerics_.rope);
    const MatT<T> aq = xm * p_.w_aq;
    MatT<T> q(hl, dh);
    for (int64_t i = 0; i < hl; ++i) q.row(i) = combine<T>(aq, bq, i, p_.q_rank, dh);
    const MatT<T> a_k = cache.part(0), a_v = cache.part(1), b_k = cache.part(2), b_v = cache.part(3);
    const std::span<const char> valid(cache.key_valid);
    const Eigen::Index L = cache.len;
    RowT<T> y(hl * dh);
    if (form == Form::materialized) {
      for (int64_t i = 0; i < hl; ++i) {
        const MatT<T> k = combine<T>(a_k, b_k, i, R, dh);  // K_i rebuilt for every cached token
        const MatT<T> v = combine<T>(a_v, b_v, i, RV, dh);
        y.segment(i * dh, dh) = softmax_keys<T>(tau_ * (q.row(i) * k.transpose()), valid) * v;
      }
      return y;
    }
    MatT<T> s_t = MatT<T>::Zero(L, hl);  // scores transposed: [keys, heads]
    for (int64_t r = 0; r < R; ++r) {
      const MatT<T> m = b_k.middleCols(r * dh, dh) * q.transpose();  // B^k_r q_i for all heads
      MatT<T> a(L, hl);
      for (int64_t i = 0; i < hl; ++i) a.col(i) = a_k.col(i * R + r);
      s_t.array() += a.array() * m.array();
    }
    const MatT<T> p = softmax_keys<T>(MatT<T>((tau_ / T(R)) * s_t.transpose()), valid);  // [heads, keys]
    MatT<T> o = MatT<T>::Zero(hl, dh);
    for (int64_t r = 0; r < RV; ++r) {
      MatT<T> a(hl, L);
      for (int64_t i = 0; i < hl; ++i) a.row(i) = a_v.col(i * RV + r).transpose();
      o += (p.array() * a.array()).matrix() * b_v.middleCols(r * dh, dh);
    }
    o /= T(RV);
    for (int64_t i = 0; i < hl; ++i) y.segment(i * dh, dh) = o.row(i);
    return y;
  }

  std::vector<std::string> check_tp(int64_t tp) const override {
    return check_head_split_ref(this->config_.q_heads, tp);
  }

  std::vector<Device<T>> shard(int64_t tp) const override {
    return shard_heads(*this, tp, [&](int64_t lo, int64_t hi, const std::vector<int64_t>& heads,
                                      const MatT<T>& wo) {
      TpaParams<T> s = p_;  // B-factor projections replicated
      s.w_aq = take_segments(p_.w_aq, lo, hi, p_.q_rank);
      s.w_ak = take_segments(p_.w_ak, lo, hi, p_.k_rank);
      s.w_av = take_segments(p_.w_av, lo, hi, p_.v_rank);
      return std::make_unique<TpaModel>(this->config_, this->numerics_, heads, wo, std::move(s));
    });
  }

 private:
  int64_t heads() const { return int64_t(this->head_ids_.size()); }
  TpaParams<T> p_;
  T tau_;
};

}  // namespace

template <class T>
std::unique_ptr<RefModel<T>> make_tpa_model(const Weights& w, const Numerics& n) {
  const RefConfig& c = w.config;
  TpaParams<T> p;
  p.d_head = c.d_head;
  p.k_rank = c.k_rank;
  p.v_rank = c.v_rank;
  p.q_rank = c.q_rank;
  p.w_aq = cast_weight<T>(w.at("w_aq"), n);
  p.w_bq = cast_weight<T>(w.at("w_bq"), n);
  p.w_ak = cast_weight<T>(w.at("w_ak"), n);
  p.w_bk = cast_weight<T>(w.at("w_bk"), n);
  p.w_av = cast_weight<T>(w.at("w_av"), n);
  p.w_bv = cast_weight<T>(w.at("w_bv"), n);
  return std::make_unique<TpaModel<T>>(c, n, consecutive_heads(0, c.q_heads),
                                       cast_weight<T>(w.at("wo"), n), std::move(p));
}

template std::unique_ptr<RefModel<double>> make_tpa_model<double>(const Weights&, const Numerics&);
template std::unique_ptr<RefModel<float>> make_tpa_model<float>(const Weights&, const Numerics&);

}  // namespace attnroof::ref

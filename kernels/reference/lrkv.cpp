// LRKV (docs/variants.md "LRKV"; LRKV §3 eqs. 6-8):
//   W^K_h = W^K_shared + U^K_h B^K_h^T (same for V).
//   cache: K_sh = x W^K_shared, V_sh [d_head] once; R^K_h = x U^K_h, R^V_h [r] per head.
//   v_h = V_sh + R^V_h B^V_h^T;  q_h = RoPE_d(x W^Q_h, m);  scale 1/sqrt(d_head).
// The two RoPE readings (the paper does not resolve them; both are modelled):
//   (a) rope = "materialized": k_h(n) = RoPE_d(K_sh + R^K_h B^K_h^T, n). Scores are relative,
//       but the rotation sits between q and B_h: the factorized decode (eq. 6) does not exist;
//       the cached form rebuilds each key and rotates it at its own position.
//   (b) rope = "latent": k_h(n) = RoPE_d(K_sh, n) + RoPE_r(R^K_h, n) B^K_h^T. Factorizes exactly
//       (q_h B_h^K) . RoPE_r(R^K_h), but the residual score term is not a function of n - m.
// Post-projection RMSNorm (LRKV §4) is not modelled (it would add h scalars per token).
// TP: per-head latents and projections shard by head, the shared K/V head is replicated.
#include <fmt/format.h>

#include <array>

#include "kernels/reference/variants.h"

namespace attnroof::ref {
namespace {

template <class T>
struct LrkvParams {
  int64_t d_head = 0, rank = 0;
  bool latent_rope = false;
  MatT<T> wq, wk_sh, wv_sh, u_k, u_v, bt_k, bt_v;  // bt_*: row block i is B_i^T [r, d_head]
};

template <class T>
class LrkvModel final : public RefModel<T> {
 public:
  LrkvModel(const RefConfig& c, const Numerics& n, std::vector<int64_t> heads, MatT<T> wo,
            LrkvParams<T> p)
      : RefModel<T>(c, n, std::move(heads), p.d_head, std::move(wo)),
        p_(std::move(p)),
        tau_(T(1.0 / std::sqrt(double(p_.d_head)))) {}

  bool has_absorbed() const override { return p_.latent_rope; }
  std::string absorbed_note() const override {
    return p_.latent_rope
               ? "factorized (LRKV eqs. 6-7): (q B^K) . R^K and (p R^V) B^V^T, no per-head K/V"
               : "none: under reading (a) the rotation sits between q and B^K, so eq. 6 does not "
                 "factorize; the cached form rebuilds and rotates each key";
  }

  MatT<T> forward_y(const MatT<T>& x, std::span<const int64_t> pos, std::span<const char> valid,
                    ScoreRecord<T>* rec) const override {
    const int64_t dh = p_.d_head, r = p_.rank;
    MatT<T> q = x * p_.wq;
    apply_rope(q, pos, 0, dh, heads(), dh, this->numerics_.rope);
    MatT<T> k_sh = x * p_.wk_sh;
    apply_rope(k_sh, pos, 0, dh, 1, dh, this->numerics_.rope);
    const MatT<T> v_sh = x * p_.wv_sh, r_v = x * p_.u_v;
    MatT<T> r_k = x * p_.u_k;
    if (p_.latent_rope) apply_rope(r_k, pos, 0, r, heads(), r, this->numerics_.rope);
    const CharMat allowed = causal_mask(valid);
    MatT<T> y(x.rows(), heads() * dh);
    for (int64_t i = 0; i < heads(); ++i) {
      MatT<T> k_res = r_k.middleCols(i * r, r) * p_.bt_k.middleRows(i * r, r);
      if (!p_.latent_rope) apply_rope(k_res, pos, 0, dh, 1, dh, this->numerics_.rope);
      const MatT<T> qi = q.middleCols(i * dh, dh);
      const MatT<T> s_shared = tau_ * (qi * k_sh.transpose());
      const MatT<T> s_res = tau_ * (qi * k_res.transpose());
      if (rec) {
        const std::string name = fmt::format("h{}", this->head_ids_[std::size_t(i)]);
        rec->add(name + ".shared", s_shared);
        rec->add(name + ".residual", s_res);
      }
      const MatT<T> v = v_sh + r_v.middleCols(i * r, r) * p_.bt_v.middleRows(i * r, r);
      y.middleCols(i * dh, dh) = masked_softmax_rows<T>(s_shared + s_res, allowed) * v;
    }
    return y;
  }

  Cache<T> new_cache() const override {
    Cache<T> c;
    c.add_part("k_shared", p_.d_head);
    c.add_part("v_shared", p_.d_head);
    c.add_part("r_k", heads() * p_.rank);
    c.add_part("r_v", heads() * p_.rank);
    return c;
  }

  void append(Cache<T>& cache, const RowT<T>& x, int64_t pos, bool valid) const override {
    const std::array<int64_t, 1> at = {pos};
    MatT<T> k_sh = x * p_.wk_sh;
    apply_rope(k_sh, at, 0, p_.d_head, 1, p_.d_head, this->numerics_.rope);
    MatT<T> r_k = x * p_.u_k;
    if (p_.latent_rope) apply_rope(r_k, at, 0, p_.rank, heads(), p_.rank, this->numerics_.rope);
    const std::array<RowT<T>, 4> rows = {RowT<T>(k_sh), RowT<T>(x * p_.wv_sh), RowT<T>(r_k),
                                         RowT<T>(x * p_.u_v)};
    cache.append(rows, pos, valid);
  }

  RowT<T> decode_y(const Cache<T>& cache, const RowT<T>& x, int64_t pos, Form form) const override {
    const int64_t dh = p_.d_head, r = p_.rank, hl = heads();
    const std::array<int64_t, 1> at = {pos};
    MatT<T> q_row = MatT<T>(x) * p_.wq;
    apply_rope(q_row, at, 0, dh, hl, dh, this->numerics_.rope);
    const MatT<T> q = Eigen::Map<const MatT<T>>(q_row.data(), hl, dh);  // head i's query is row i
    const auto k_sh = cache.part(0), v_sh = cache.part(1), r_k = cache.part(2), r_v = cache.part(3);
    const std::span<const char> valid(cache.key_valid);
    RowT<T> y(hl * dh);
    if (form == Form::absorbed && p_.latent_rope) {
      MatT<T> s = q * k_sh.transpose();  // shared term for every head: [heads, keys]
      for (int64_t i = 0; i < hl; ++i) {
        const RowT<T> q_lat = q.row(i) * p_.bt_k.middleRows(i * r, r).transpose();  // q B^K_i
        s.row(i) += q_lat * r_k.middleCols(i * r, r).transpose();
      }
      const MatT<T> p = softmax_keys<T>(MatT<T>(tau_ * s), valid);
      const MatT<T> o_sh = p * v_sh;
      for (int64_t i = 0; i < hl; ++i) {
        const RowT<T> w_lat = p.row(i) * r_v.middleCols(i * r, r);  // (p R^V_i) B^V_i^T
        y.segment(i * dh, dh) = o_sh.row(i) + w_lat * p_.bt_v.middleRows(i * r, r);
      }
      return y;
    }
    for (int64_t i = 0; i < hl; ++i) {
      MatT<T> k = r_k.middleCols(i * r, r) * p_.bt_k.middleRows(i * r, r);
      if (!p_.latent_rope) {
        apply_rope(k, std::span<const int64_t>(cache.positions), 0, dh, 1, dh, this->numerics_.rope);
      }
      k += k_sh;
      const MatT<T> v = v_sh + r_v.middleCols(i * r, r) * p_.bt_v.middleRows(i * r, r);
      y.segment(i * dh, dh) = softmax_keys<T>(MatT<T>(tau_ * (q.row(i) * k.transpose())), valid) * v;
    }
    return y;
  }

  std::vector<std::string> check_tp(int64_t tp) const override {
    return check_head_split_ref(this->config_.q_heads, tp);
  }

  std::vector<Device<T>> shard(int64_t tp) const override {
    const int64_t dh = p_.d_head, r = p_.rank;
    return shard_heads(*this, tp, [&](int64_t lo, int64_t hi, const std::vector<int64_t>& heads,
                                      const MatT<T>& wo) {
      LrkvParams<T> s = p_;  // shared K/V projections replicated
      s.wq = take_segments(p_.wq, lo, hi, dh);
      s.u_k = take_segments(p_.u_k, lo, hi, r);
      s.u_v = take_segments(p_.u_v, lo, hi, r);
      s.bt_k = p_.bt_k.middleRows(lo * r, (hi - lo) * r);
      s.bt_v = p_.bt_v.middleRows(lo * r, (hi - lo) * r);
      return std::make_unique<LrkvModel>(this->config_, this->numerics_, heads, wo, std::move(s));
    });
  }

 private:
  int64_t heads() const { return int64_t(this->head_ids_.size()); }
  LrkvParams<T> p_;
  T tau_;
};

}  // namespace

template <class T>
std::unique_ptr<RefModel<T>> make_lrkv_model(const Weights& w, const Numerics& n) {
  const RefConfig& c = w.config;
  LrkvParams<T> p;
  p.d_head = c.d_head;
  p.rank = c.rank;
  p.latent_rope = c.lrkv_rope == LrkvRope::latent;
  p.wq = cast_weight<T>(w.at("wq"), n);
  p.wk_sh = cast_weight<T>(w.at("wk_shared"), n);
  p.wv_sh = cast_weight<T>(w.at("wv_shared"), n);
  p.u_k = cast_weight<T>(w.at("u_k"), n);
  p.u_v = cast_weight<T>(w.at("u_v"), n);
  p.bt_k = cast_weight<T>(w.at("bt_k"), n);
  p.bt_v = cast_weight<T>(w.at("bt_v"), n);
  return std::make_unique<LrkvModel<T>>(c, n, consecutive_heads(0, c.q_heads),
                                        cast_weight<T>(w.at("wo"), n), std::move(p));
}

template std::unique_ptr<RefModel<double>> make_lrkv_model<double>(const Weights&, const Numerics&);
template std::unique_ptr<RefModel<float>> make_lrkv_model<float>(const Weights&, const Numerics&);

}  // namespace attnroof::ref

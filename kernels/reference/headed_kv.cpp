// MHA, MQA, GQA, MFA and GTA (docs/variants.md "MHA, MQA, GQA", "GTA", "MFA"): query heads over
// K/V heads.
//   q_i = RoPE(x W^Q_i, m)            (MFA: q = RMSNorm(x W_Qdown) W_Qup, no alpha scale)
//   k_j = RoPE(x W^K_j, n), v_j = x W^V_j; query head i uses KV head j = i / (h / h_kv)
//   GTA: kv_j = x W^KV_j is both V and (its first d_nope dims) the NoPE key; the RoPE key
//        k^R = RoPE(x W^KR, n) is one d_rope-wide head shared by every KV head; the query's last
//        d_rope dims are rotated.
//   o_i = softmax(q_i k^T / sqrt(d_head)) V,  out = [o_1 .. o_h] W^O
// Cache: k and v rows [kv_heads * d_head] each (GTA: kv [kv_heads * d_head] and k_rope [d_rope]).
// TP: query heads split contiguously; a device holds every KV head its heads use (the worst
// device of an unaligned split holds more, docs/variants.md "TP rules"); W^O is row-parallel.
#include <fmt/format.h>

#include <array>

#include "kernels/reference/variants.h"

namespace attnroof::ref {
namespace {

template <class T>
struct HeadedKvParams {
  bool tied = false;        // GTA
  bool low_rank_q = false;  // MFA
  int64_t d_head = 0, d_rope = 0, d_nope = 0;
  std::vector<int64_t> kv_of;  // local KV head of each local query head
  int64_t kv_local = 0;
  MatT<T> wq, w_dq, w_uq, wk, wv, w_kv, w_kr;
  RowT<T> q_norm;
};

template <class T>
class HeadedKvModel final : public RefModel<T> {
 public:
  HeadedKvModel(const RefConfig& c, const Numerics& n, std::vector<int64_t> heads, MatT<T> wo,
                HeadedKvParams<T> p)
      : RefModel<T>(c, n, std::move(heads), p.d_head, std::move(wo)),
        p_(std::move(p)),
        tau_(T(1.0 / std::sqrt(double(p_.d_head)))) {}

  bool has_absorbed() const override { return p_.tied; }
  std::string absorbed_note() const override {
    return p_.tied ? "FA3 qv trick: q^R.k^R + [q^N | 0].kv, no K materialized (docs/variants.md \"GTA\")"
                   : "absorbed and materialized decode coincide: K and V are cached as used";
  }

  MatT<T> forward_y(const MatT<T>& x, std::span<const int64_t> pos, std::span<const char> valid,
                    ScoreRecord<T>* rec) const override {
    const int64_t dh = p_.d_head, dn = p_.d_nope, dr = p_.d_rope;
    const MatT<T> q = queries(x, pos);
    MatT<T> k, v, kr;
    if (!p_.tied) {
      k = x * p_.wk;
      apply_rope(k, pos, 0, dh, p_.kv_local, dh, this->numerics_.rope);
      v = x * p_.wv;
    } else {
      v = x * p_.w_kv;
      kr = x * p_.w_kr;
      apply_rope(kr, pos, 0, dr, 1, dr, this->numerics_.rope);
    }
    const CharMat allowed = causal_mask(valid);
    MatT<T> y(x.rows(), heads() * dh);
    for (int64_t i = 0; i < heads(); ++i) {
      const int64_t j = p_.kv_of[std::size_t(i)];
      const std::string name = fmt::format("h{}", this->head_ids_[std::size_t(i)]);
      MatT<T> s;
      if (!p_.tied) {
        s = tau_ * (q.middleCols(i * dh, dh) * k.middleCols(j * dh, dh).transpose());
        if (rec) rec->add(name, s);
      } else {
        const MatT<T> s_nope = tau_ * (q.middleCols(i * dh, dn) * v.middleCols(j * dh, dn).transpose());
        const MatT<T> s_rope = tau_ * (q.middleCols(i * dh + dn, dr) * kr.transpose());
        if (rec) {
          rec->add(name + ".nope", s_nope);
          rec->add(name + ".rope", s_rope);
        }
        s = s_nope + s_rope;
      }
      y.middleCols(i * dh, dh) = masked_softmax_rows<T>(s, allowed) * v.middleCols(j * dh, dh);
    }
    return y;
  }

  Cache<T> new_cache() const override {
    Cache<T> c;
    if (!p_.tied) {
      c.add_part("k", p_.kv_local * p_.d_head);
      c.add_part("v", p_.kv_local * p_.d_head);
    } else {
      c.add_part("kv", p_.kv_local * p_.d_head);
      c.add_part("k_rope", p_.d_rope);
    }
    return c;
  }

  void append(Cache<T>& cache, const RowT<T>& x, int64_t pos, bool valid) const override {
    const std::array<int64_t, 1> at = {pos};
    std::array<RowT<T>, 2> rows;
    if (!p_.tied) {
      MatT<T> k = x * p_.wk;
      apply_rope(k, at, 0, p_.d_head, p_.kv_local, p_.d_head, this->numerics_.rope);
      rows = {RowT<T>(k), RowT<T>(x * p_.wv)};
    } else {
      MatT<T> kr = x * p_.w_kr;
      apply_rope(kr, at, 0, p_.d_rope, 1, p_.d_rope, this->numerics_.rope);
      rows = {RowT<T>(x * p_.w_kv), RowT<T>(kr)};
    }
    cache.append(rows, pos, valid);
  }

  RowT<T> decode_y(const Cache<T>& cache, const RowT<T>& x, int64_t pos, Form form) const override {
    const int64_t dh = p_.d_head, dn = p_.d_nope, dr = p_.d_rope;
    const std::array<int64_t, 1> at = {pos};
    const MatT<T> q = queries(MatT<T>(x), at);
    const std::span<const char> valid(cache.key_valid);
    RowT<T> y = RowT<T>::Zero(heads() * dh);
    for (int64_t j = 0; j < p_.kv_local; ++j) {
      std::vector<int64_t> group;
      for (int64_t i = 0; i < heads(); ++i) {
        if (p_.kv_of[std::size_t(i)] == j) group.push_back(i);
      }
      if (group.empty()) continue;
      MatT<T> qg(Eigen::Index(group.size()), dh);
      for (std::size_t g = 0; g < group.size(); ++g) qg.row(Eigen::Index(g)) = q.middleCols(group[g] * dh, dh);
      MatT<T> s, vj;
      if (!p_.tied) {
        s = tau_ * (qg * cache.part(0).middleCols(j * dh, dh).transpose());
        vj = cache.part(1).middleCols(j * dh, dh);
      } else {
        vj = cache.part(0).middleCols(j * dh, dh);
        if (form == Form::materialized) {
          MatT<T> kj(cache.len, dh);  // K = [kv_j[:, :d_nope] | k^R]
          kj << vj.leftCols(dn), cache.part(1);
          s = tau_ * (qg * kj.transpose());
        } else {
          MatT<T> qv = MatT<T>::Zero(qg.rows(), dh);  // qv = [q^N | 0] against kv_j
          qv.leftCols(dn) = qg.leftCols(dn);
          s = tau_ * (qg.rightCols(dr) * cache.part(1).transpose() + qv * vj.transpose());
        }
      }
      const MatT<T> o = softmax_keys<T>(s, valid) * vj;
      for (std::size_t g = 0; g < group.size(); ++g) y.segment(group[g] * dh, dh) = o.row(Eigen::Index(g));
    }
    return y;
  }

  std::vector<std::string> check_tp(int64_t tp) const override {
    return check_head_split_ref(this->config_.q_heads, tp);
  }

  std::vector<Device<T>> shard(int64_t tp) const override {
    const int64_t dh = p_.d_head;
    return shard_heads(*this, tp, [&](int64_t lo, int64_t hi, const std::vector<int64_t>& heads,
                                      const MatT<T>& wo) {
      const int64_t kv_lo = p_.kv_of[std::size_t(lo)], kv_hi = p_.kv_of[std::size_t(hi - 1)] + 1;
      HeadedKvParams<T> s = p_;
      s.kv_local = kv_hi - kv_lo;
      s.kv_of.clear();
      for (int64_t i = lo; i < hi; ++i) s.kv_of.push_back(p_.kv_of[std::size_t(i)] - kv_lo);
      if (p_.low_rank_q) {
        s.w_uq = take_segments(p_.w_uq, lo, hi, dh);  // w_dq and q_norm replicated
      } else {
        s.wq = take_segments(p_.wq, lo, hi, dh);
      }
      if (!p_.tied) {
        s.wk = take_segments(p_.wk, kv_lo, kv_hi, dh);
        s.wv = take_segments(p_.wv, kv_lo, kv_hi, dh);
      } else {
        s.w_kv = take_segments(p_.w_kv, kv_lo, kv_hi, dh);  // w_kr replicated
      }
      return std::make_unique<HeadedKvModel>(this->config_, this->numerics_, heads, wo, std::move(s));
    });
  }

 private:
  int64_t heads() const { return int64_t(this->head_ids_.size()); }

  MatT<T> queries(const MatT<T>& x, std::span<const int64_t> pos) const {
    MatT<T> q = p_.low_rank_q ? MatT<T>(rms_norm_rows<T>(x * p_.w_dq, p_.q_norm) * p_.w_uq)
                              : MatT<T>(x * p_.wq);
    if (p_.tied) {
      apply_rope(q, pos, p_.d_nope, p_.d_rope, heads(), p_.d_head, this->numerics_.rope);
    } else {
      apply_rope(q, pos, 0, p_.d_head, heads(), p_.d_head, this->numerics_.rope);
    }
    return q;
  }

  HeadedKvParams<T> p_;
  T tau_;
};

}  // namespace

template <class T>
std::unique_ptr<RefModel<T>> make_headed_kv_model(const Weights& w, const Numerics& n) {
  const RefConfig& c = w.config;
  HeadedKvParams<T> p;
  p.tied = c.id == VariantId::gta;
  p.low_rank_q = c.id == VariantId::mfa;
  p.d_head = c.d_head;
  p.d_rope = p.tied ? c.d_rope : c.d_head;
  p.d_nope = p.tied ? c.d_nope : 0;
  p.kv_local = c.kv_heads;
  for (int64_t i = 0; i < c.q_heads; ++i) p.kv_of.push_back(i / (c.q_heads / c.kv_heads));
  if (p.low_rank_q) {
    p.w_dq = cast_weight<T>(w.at("w_dq"), n);
    p.q_norm = RowT<T>(cast_weight<T>(w.at("q_norm"), n));
    p.w_uq = cast_weight<T>(w.at("w_uq"), n);
  } else {
    p.wq = cast_weight<T>(w.at("wq"), n);
  }
  if (p.tied) {
    p.w_kv = cast_weight<T>(w.at("w_kv"), n);
    p.w_kr = cast_weight<T>(w.at("w_kr"), n);
  } else {
    p.wk = cast_weight<T>(w.at("wk"), n);
    p.wv = cast_weight<T>(w.at("wv"), n);
  }
  return std::make_unique<HeadedKvModel<T>>(c, n, consecutive_heads(0, c.q_heads),
                                            cast_weight<T>(w.at("wo"), n), std::move(p));
}

template std::unique_ptr<RefModel<double>> make_headed_kv_model<double>(const Weights&, const Numerics&);
template std::unique_ptr<RefModel<float>> make_headed_kv_model<float>(const Weights&, const Numerics&);

}  // namespace attnroof::ref

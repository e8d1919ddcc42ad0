// MLA, GLA-n, MLRA-2, MLRA-4, TPLA-g (docs/variants.md "MLA", "Latent family", "GLA", "MLRA",
// "TPLA"), as the MLRA repo computes them (model/mla.py, gla_2.py, mlra_2.py, mlra_4.py,
// mlra_{2,4}_gen.py):
//   c^Q   = alpha_q RMSNorm(x W^DQ);  [q^N_i ; q^R_i] = c^Q W^UQ_i;  q^R_i <- RoPE(q^R_i, m)
//   [c ; k^R] = x W^DKV;  c = [c_0 .. c_{n-1}];  ĉ_b = alpha_kv RMSNorm_b(c_b)   (per-block norm)
//   k^R <- RoPE(k^R, n): ONE d_rope-wide key shared by every head and every block
//   k^N_{b,i} = ĉ_b W^UK_{b,i},  v_{b,i} = ĉ_b W^UV_{b,i}        (w_ukv.<b>, per head [k | v])
//   o_{b,i} = softmax_n( tau [ mu_b q^N_i.k^N_{b,i}(n) + q^R_i.k^R(n) ] ) v_{b,i}
//   y_i = out_scale * sum_{b serving i} o_{b,i};   out = [y_1 .. y_h] W^O
//   tau = 1/sqrt(d_nope + d_rope) in every form (the FA3 default differs for absorbed shapes);
//   mu_b = TPLA's per-slice logit scale (1 otherwise). latent_layout.h gives the head map,
//   out_scale and alphas.
// Cache per token: ĉ_b for each resident block (already scaled by alpha_kv, as mlra_4_gen.py)
// and k^R: nothing else.
// Absorbed decode (mlra_4_gen.py): q̃_{b,i} = q^N_i W^UK_{b,i}^T; scores = tau(mu q̃ ĉ^T +
// q^R k^R^T); z = p ĉ; y_i += out_scale z W^UV_{b,i}.
// TP (docs/variants.md "Latent family"): blocks are dealt to devices in device_order; at
// tp <= n each device gets n/tp whole blocks with all the heads they serve; at tp > n each block is
// replicated on tp/n devices that split its heads. k^R and W^DQ are replicated.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <utility>

#include "kernels/reference/latent_layout.h"
#include "kernels/reference/variants.h"

namespace attnroof::ref {
namespace {

template <class T>
struct LatentBlock {
  int64_t id = 0;                   // global block id
  std::vector<int64_t> head_local;  // the model's local index of each head this block serves here
  std::vector<MatT<T>> w_uk, w_uv;  // per served head: [d_block, d_nope], [d_block, d_v]
  MatT<T> w_dkv;                    // [d_model, d_block]: this block's latent columns of W^DKV
  RowT<T> norm;                     // this block's RMSNorm gain
  T logit_scale = 1;
};

template <class T>
struct LatentParams {
  int64_t d_block = 0, d_rope = 0, d_nope = 0, d_v = 0;
  T alpha_q = 1, alpha_kv = 1, out_scale = 1, tau = 1;
  MatT<T> w_dq, w_uq, w_kr;  // w_uq: local heads only
  RowT<T> q_norm;
  std::vector<LatentBlock<T>> blocks;
};

template <class T>
class LatentModel final : public RefModel<T> {
 public:
  LatentModel(const RefConfig& c, const Numerics& n, std::vector<int64_t> heads, MatT<T> wo,
              LatentParams<T> p)
      : RefModel<T>(c, n, std::move(heads), p.d_v, std::move(wo)), p_(std::move(p)) {}

  bool has_absorbed() const override { return true; }
  std::string absorbed_note() const override {
    return "q^N absorbed into W^UK, attention over the latent cache, W^UV after attention";
  }

  MatT<T> forward_y(const MatT<T>& x, std::span<const int64_t> pos, std::span<const char> valid,
                    ScoreRecord<T>* rec) const override {
    const int64_t dn = p_.d_nope, dr = p_.d_rope, dv = p_.d_v, dq = dn + dr;
    const MatT<T> q = queries(x, pos);
    MatT<T> kr = x * p_.w_kr;
    apply_rope(kr, pos, 0, dr, 1, dr, this->numerics_.rope);
    const CharMat allowed = causal_mask(valid);
    MatT<T> y = MatT<T>::Zero(x.rows(), heads() * dv);
    for (const LatentBlock<T>& b : p_.blocks) {
      const MatT<T> c = latent(x, b);
      for (std::size_t k = 0; k < b.head_local.size(); ++k) {
        const int64_t i = b.head_local[k];
        const MatT<T> k_nope = c * b.w_uk[k];  // K and V materialized, as trained
        const MatT<T> v = c * b.w_uv[k];
        const MatT<T> s_nope = (p_.tau * b.logit_scale) * (q.middleCols(i * dq, dn) * k_nope.transpose());
        const MatT<T> s_rope = p_.tau * (q.middleCols(i * dq + dn, dr) * kr.transpose());
        if (rec) {
          const std::string name = fmt::format("b{}.h{}", b.id, this->head_ids_[std::size_t(i)]);
          rec->add(name + ".nope", s_nope);
          rec->add(name + ".rope", s_rope);
        }
        y.middleCols(i * dv, dv) += p_.out_scale * (masked_softmax_rows<T>(s_nope + s_rope, allowed) * v);
      }
    }
    return y;
  }

  Cache<T> new_cache() const override {
    Cache<T> c;
    for (const LatentBlock<T>& b : p_.blocks) c.add_part(fmt::format("latent.{}", b.id), p_.d_block);
    c.add_part("k_rope", p_.d_rope);
    return c;
  }

  void append(Cache<T>& cache, const RowT<T>& x, int64_t pos, bool valid) const override {
    const std::array<int64_t, 1> at = {pos};
    std::vector<RowT<T>> rows;
    const MatT<T> xm = x;
    for (const LatentBlock<T>& b : p_.blocks) rows.emplace_back(latent(xm, b));
    MatT<T> kr = xm * p_.w_kr;
    apply_rope(kr, at, 0, p_.d_rope, 1, p_.d_rope, this->numerics_.rope);
    rows.emplace_back(kr);
    cache.append(rows, pos, valid);
  }

  RowT<T> decode_y(const Cache<T>& cache, const RowT<T>& x, int64_t pos, Form form) const override {
    const int64_t dn = p_.d_nope, dr = p_.d_rope, dv = p_.d_v, dq = dn + dr;
    const std::array<int64_t, 1> at = {pos};
    const MatT<T> q = queries(MatT<T>(x), at);
    const std::span<const char> valid(cache.key_valid);
    const auto kr = cache.part(p_.blocks.size());
    RowT<T> y = RowT<T>::Zero(heads() * dv);
    // The RoPE key is shared by every block: blocks serving the same heads (MLRA-4's 4 blocks,
    // MLRA-2's two branches) share tau q^R k^R^T, computed once per head set.
    std::vector<std::pair<std::vector<int64_t>, MatT<T>>> rope_scores;
    for (std::size_t bi = 0; bi < p_.blocks.size(); ++bi) {
      const LatentBlock<T>& b = p_.blocks[bi];
      const auto c = cache.part(bi);
      const auto nh = Eigen::Index(b.head_local.size());
      MatT<T> q_rope(nh, dr);
      for (Eigen::Index k = 0; k < nh; ++k) q_rope.row(k) = q.middleCols(b.head_local[std::size_t(k)] * dq + dn, dr);
      if (form == Form::absorbed) {
        auto shared = std::find_if(rope_scores.begin(), rope_scores.end(),
                                   [&](const auto& e) { return e.first == b.head_local; });
        if (shared == rope_scores.end()) {
          rope_scores.emplace_back(b.head_local, p_.tau * (q_rope * kr.transpose()));
          shared = std::prev(rope_scores.end());
        }
        MatT<T> q_abs(nh, p_.d_block);  // q̃_k = q^N_k W^UK_k^T
        for (Eigen::Index k = 0; k < nh; ++k) {
          q_abs.row(k) = q.middleCols(b.head_local[std::size_t(k)] * dq, dn) * b.w_uk[std::size_t(k)].transpose();
        }
        MatT<T> s = (p_.tau * b.logit_scale) * (q_abs * c.transpose());
        s += shared->second;
        const MatT<T> z = softmax_keys<T>(s, valid) * c;  // [heads, d_block]
        for (Eigen::Index k = 0; k < nh; ++k) {
          y.segment(b.head_local[std::size_t(k)] * dv, dv) += p_.out_scale * (z.row(k) * b.w_uv[std::size_t(k)]);
        }
      } else {
        for (Eigen::Index k = 0; k < nh; ++k) {
          const int64_t i = b.head_local[std::size_t(k)];
          const MatT<T> k_nope = c * b.w_uk[std::size_t(k)];  // rebuilt from the cache
          const MatT<T> v = c * b.w_uv[std::size_t(k)];
          const MatT<T> s = (p_.tau * b.logit_scale) * (q.middleCols(i * dq, dn) * k_nope.transpose()) +
                            p_.tau * (q_rope.row(k) * kr.transpose());
          y.segment(i * dv, dv) += p_.out_scale * (softmax_keys<T>(s, valid) * v);
        }
      }
    }
    return y;
  }

  std::vector<std::string> check_tp(int64_t tp) const override {
    std::vector<std::string> problems;
    const int64_t n = this->config_.n_blocks;
    if (tp < 1) return {fmt::format("tp = {} must be >= 1", tp)};
    if (tp <= n) {
      if (n % tp != 0) {
        problems.push_back(fmt::format("tp = {} must divide the {} latent blocks or be a multiple "
                                       "of them", tp, n));
      }
    } else if (tp % n != 0) {
      problems.push_back(fmt::format("tp = {} is neither a divisor nor a multiple of the {} latent "
                                     "blocks", tp, n));
    } else {
      const LatentLayout l = latent_layout(this->config_);
      for (int64_t b = 0; b < n; ++b) {
        if (l.block_heads[std::size_t(b)].size() % (tp / n) != 0) {
          problems.push_back(fmt::format("block {} serves {} heads, which do not split over its {} "
                                         "replicas at tp = {}", b, l.block_heads[std::size_t(b)].size(),
                                         tp / n, tp));
          break;
        }
      }
    }
    if (this->config_.out_proj == OutProj::sharded && this->config_.q_heads % tp != 0) {
      problems.push_back(fmt::format("out_proj = sharded needs tp = {} to divide q_heads = {}", tp,
                                     this->config_.q_heads));
    }
    return problems;
  }

  std::vector<Device<T>> shard(int64_t tp) const override {
    const RefConfig& cfg = this->config_;
    const LatentLayout l = latent_layout(cfg);
    const int64_t n = cfg.n_blocks, h = cfg.q_heads, dv = p_.d_v, dq = p_.d_nope + p_.d_rope;
    std::vector<Device<T>> out;
    for (int64_t r = 0; r < tp; ++r) {
      // (block, served heads) on device r
      std::vector<std::pair<int64_t, HeadRange>> mine;
      if (tp <= n) {
        for (int64_t k = r * (n / tp); k < (r + 1) * (n / tp); ++k) {
          const int64_t b = l.device_order[std::size_t(k)];
          mine.emplace_back(b, l.block_heads[std::size_t(b)]);
        }
      } else {
        const int64_t rep = tp / n, b = l.device_order[std::size_t(r / rep)];
        const HeadRange all = l.block_heads[std::size_t(b)];
        const int64_t sub = all.size() / rep;
        mine.emplace_back(b, HeadRange{all.lo + (r % rep) * sub, all.lo + (r % rep + 1) * sub});
      }
      std::vector<int64_t> heads;
      for (const auto& [b, hr] : mine) {
        for (int64_t i = hr.lo; i < hr.hi; ++i) heads.push_back(i);
      }
      std::sort(heads.begin(), heads.end());
      heads.erase(std::unique(heads.begin(), heads.end()), heads.end());
      auto local_of = [&](int64_t g) {
        return int64_t(std::lower_bound(heads.begin(), heads.end(), g) - heads.begin());
      };
      LatentParams<T> s = p_;  // w_dq, q_norm, w_kr replicated
      s.blocks.clear();
      s.w_uq.resize(p_.w_uq.rows(), Eigen::Index(heads.size()) * dq);
      MatT<T> wo(Eigen::Index(heads.size()) * dv, this->wo_.cols());
      for (std::size_t k = 0; k < heads.size(); ++k) {
        s.w_uq.middleCols(Eigen::Index(k) * dq, dq) = p_.w_uq.middleCols(heads[k] * dq, dq);
        wo.middleRows(Eigen::Index(k) * dv, dv) = this->wo_.middleRows(heads[k] * dv, dv);
      }
      for (const auto& [b, hr] : mine) {
        const LatentBlock<T>& full = p_.blocks[std::size_t(b)];
        LatentBlock<T> nb;
        nb.id = b;
        nb.w_dkv = full.w_dkv;
        nb.norm = full.norm;
        nb.logit_scale = full.logit_scale;
        const HeadRange served = l.block_heads[std::size_t(b)];
        for (int64_t g = hr.lo; g < hr.hi; ++g) {
          nb.head_local.push_back(local_of(g));
          nb.w_uk.push_back(full.w_uk[std::size_t(g - served.lo)]);
          nb.w_uv.push_back(full.w_uv[std::size_t(g - served.lo)]);
        }
        s.blocks.push_back(std::move(nb));
      }
      Device<T> d;
      const int64_t per = h / tp;
      if (cfg.out_proj == OutProj::sharded) {
        for (int64_t i = r * per; i < (r + 1) * per; ++i) d.owned_heads.push_back(i);
        d.wo_owned = this->wo_.middleRows(r * per * dv, per * dv);
      }
      d.model = std::make_unique<LatentModel>(cfg, this->numerics_, heads, std::move(wo), std::move(s));
      out.push_back(std::move(d));
    }
    return out;
  }

 private:
  int64_t heads() const { return int64_t(this->head_ids_.size()); }

  MatT<T> queries(const MatT<T>& x, std::span<const int64_t> pos) const {
    MatT<T> q = (p_.alpha_q * rms_norm_rows<T>(x * p_.w_dq, p_.q_norm)) * p_.w_uq;
    apply_rope(q, pos, p_.d_nope, p_.d_rope, heads(), p_.d_nope + p_.d_rope, this->numerics_.rope);
    return q;
  }
  MatT<T> latent(const MatT<T>& x, const LatentBlock<T>& b) const {
    return p_.alpha_kv * rms_norm_rows<T>(x * b.w_dkv, b.norm);
  }

  LatentParams<T> p_;
};

}  // namespace

template <class T>
std::unique_ptr<RefModel<T>> make_latent_model(const Weights& w, const Numerics& n) {
  const RefConfig& c = w.config;
  const LatentLayout l = latent_layout(c);
  LatentParams<T> p;
  p.d_block = c.d_block();
  p.d_rope = c.d_rope;
  p.d_nope = c.d_nope;
  p.d_v = c.d_v;
  p.alpha_q = T(l.alpha_q);
  p.alpha_kv = T(l.alpha_kv);
  p.out_scale = T(l.out_scale);
  p.tau = T(1.0 / std::sqrt(double(c.d_nope + c.d_rope)));
  p.w_dq = cast_weight<T>(w.at("w_dq"), n);
  p.q_norm = RowT<T>(cast_weight<T>(w.at("q_norm"), n));
  p.w_uq = cast_weight<T>(w.at("w_uq"), n);
  const MatT<T> w_dkv = cast_weight<T>(w.at("w_dkv"), n);
  const MatT<T> kv_norm = cast_weight<T>(w.at("kv_norm"), n);
  p.w_kr = w_dkv.rightCols(c.d_rope);
  const int64_t db = c.d_block(), dn = c.d_nope, dv = c.d_v;
  for (int64_t b = 0; b < c.n_blocks; ++b) {
    LatentBlock<T> blk;
    blk.id = b;
    blk.w_dkv = w_dkv.middleCols(b * db, db);
    blk.norm = kv_norm.middleCols(b * db, db);
    if (c.id == VariantId::tpla) blk.logit_scale = T(cast_weight<T>(w.at("logit_scale"), n)(0, b));
    const MatT<T> w_ukv = cast_weight<T>(w.at(fmt::format("w_ukv.{}", b)), n);
    const HeadRange hr = l.block_heads[std::size_t(b)];
    for (int64_t k = 0; k < hr.size(); ++k) {
      blk.head_local.push_back(hr.lo + k);
      blk.w_uk.push_back(w_ukv.middleCols(k * (dn + dv), dn));
      blk.w_uv.push_back(w_ukv.middleCols(k * (dn + dv) + dn, dv));
    }
    p.blocks.push_back(std::move(blk));
  }
  return std::make_unique<LatentModel<T>>(c, n, consecutive_heads(0, c.q_heads),
                                          cast_weight<T>(w.at("wo"), n), std::move(p));
}

template std::unique_ptr<RefModel<double>> make_latent_model<double>(const Weights&, const Numerics&);
template std::unique_ptr<RefModel<float>> make_latent_model<float>(const Weights&, const Numerics&);

}  // namespace attnroof::ref

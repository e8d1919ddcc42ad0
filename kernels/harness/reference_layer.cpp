#include "kernels/harness/reference_layer.h"

#include <fmt/format.h>

#include <array>
#include <vector>

#include "kernels/reference/checks.h"

namespace attnroof::kernels {

using ref::Mat;
using ref::Row;

ReferenceLayer make_reference_layer(const ref::RefConfig& cfg, int64_t ctx, uint64_t seed) {
  ReferenceLayer l;
  l.cfg = cfg;
  l.w = ref::init_weights(cfg, seed);
  l.m = ref::make_ref_model<double>(l.w);
  l.x = ref::random_tokens(ctx, cfg.d_model, seed + 1);
  l.cache = l.m->new_cache();
  for (int64_t t = 0; t < ctx; ++t) l.m->append(l.cache, l.x.row(t), t, true);
  l.pos = ctx - 1;
  const ref::Form form = l.m->has_absorbed() ? ref::Form::absorbed : ref::Form::materialized;
  l.out_ref = l.m->decode(l.cache, l.x.row(l.pos), l.pos, form);
  return l;
}

Mat latent_queries(const ReferenceLayer& l, const ref::LatentLayout& layout) {
  const ref::RefConfig& g = l.cfg;
  Mat q = (layout.alpha_q * ref::rms_norm_rows<double>(Mat(l.x.row(l.pos)) * l.w.at("w_dq"),
                                                       Row(l.w.at("q_norm")))) *
          l.w.at("w_uq");
  const std::array<int64_t, 1> at = {l.pos};
  ref::apply_rope<double>(q, at, g.d_nope, g.d_rope, g.q_heads, g.d_nope + g.d_rope,
                          ref::RopeMode::float64);
  return q;
}

LatentCallInputs latent_call_inputs(const ReferenceLayer& l, const ref::LatentLayout& layout,
                                    const Mat& q, int64_t block, int64_t lo, int64_t hi) {
  const ref::RefConfig& g = l.cfg;
  const int64_t dn = g.d_nope, dr = g.d_rope, dv = g.d_v, db = g.d_block();
  const Mat& w_ukv = l.w.at(fmt::format("w_ukv.{}", block));
  const int64_t first = layout.block_heads[std::size_t(block)].lo;
  LatentCallInputs in;
  in.q.resize(hi - lo, db + dr);
  for (int64_t i = lo; i < hi; ++i) {
    const int64_t j = i - first;  // the head's columns within w_ukv.<block>
    const Row q_nope = q.block(0, i * (dn + dr), 1, dn);
    in.q.row(i - lo).head(db) = q_nope * w_ukv.middleCols(j * (dn + dv), dn).transpose();
    in.q.row(i - lo).tail(dr) = q.block(0, i * (dn + dr) + dn, 1, dr);
  }
  in.rows.resize(l.cache.len, db + dr);
  in.rows.leftCols(db) = l.cache.part(std::size_t(block));
  in.rows.rightCols(dr) = l.cache.part(std::size_t(g.n_blocks));  // k^R
  return in;
}

Mat attend_f64(const Mat& q, const Mat& k, const Mat& v, double tau) {
  const std::vector<char> valid(std::size_t(k.rows()), 1);
  return ref::softmax_keys<double>(tau * (q * k.transpose()), valid) * v;
}

}  // namespace attnroof::kernels

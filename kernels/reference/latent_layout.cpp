#include "kernels/reference/latent_layout.h"

#include <algorithm>
#include <cmath>

namespace attnroof::ref {

LatentLayout latent_layout(const RefConfig& c) {
  LatentLayout l;
  const int64_t h = c.q_heads, n = c.n_blocks;
  for (int64_t b = 0; b < n; ++b) {
    switch (c.id) {
      case VariantId::gla: l.block_heads.push_back({b * h / n, (b + 1) * h / n}); break;
      case VariantId::mlra2:
        l.block_heads.push_back(b % 2 == 0 ? HeadRange{0, h / 2} : HeadRange{h / 2, h});
        break;
      default: l.block_heads.push_back({0, h}); break;
    }
  }
  if (c.id == VariantId::mlra4) l.out_scale = 1.0 / std::sqrt(double(n));
  if (c.id == VariantId::mlra2) l.out_scale = 1.0 / std::sqrt(2.0);
  if (c.id != VariantId::tpla) {
    // MLRA repo semantics, also applied to its MLA and GLA baselines (docs/variants.md "MLRA").
    l.alpha_q = std::sqrt(double(c.d_model) / double(c.d_q_latent));
    l.alpha_kv = std::sqrt(double(c.d_model) / double(c.d_block()));
  }
  for (int64_t b = 0; b < n; ++b) l.device_order.push_back(b);
  std::stable_sort(l.device_order.begin(), l.device_order.end(), [&](int64_t a, int64_t b) {
    return l.block_heads[std::size_t(a)].lo < l.block_heads[std::size_t(b)].lo;
  });
  return l;
}

}  // namespace attnroof::ref

// defines: HeadRange, LatentLayout, latent_layout (which query heads each latent block serves,
// the branch output scale, the alpha scales, and the order blocks are dealt to TP devices)
//
// docs/variants.md "Latent family": every latent-family variant is a set of (block b, head i)
// attention instances, each an MLA-style attention over block b's latent plus the shared RoPE key;
// head i's output is out_scale * sum over the blocks serving it.
//   MLA       1 block, all heads, scale 1
//   GLA-n     block b serves heads [b h/n, (b+1) h/n), scale 1            (gla_2.py, gla_4.py)
//   MLRA-4    n blocks, each serves all heads, scale 1/sqrt(n)           (mlra_4.py)
//   MLRA-2    blocks 0,2 serve heads [0, h/2), blocks 1,3 serve [h/2, h), scale 1/sqrt(2)
//             (mlra_2_gen.py: branch A = blocks 0,1, branch B = blocks 2,3)
//   TPLA-g    g slices, each serves all heads, scale 1, per-slice logit scale (TPLA eq. 7)
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/reference/config.h"

namespace attnroof::ref {

struct HeadRange {
  int64_t lo = 0;
  int64_t hi = 0;
  int64_t size() const { return hi - lo; }
  bool contains(int64_t i) const { return lo <= i && i < hi; }
};

struct LatentLayout {
  std::vector<HeadRange> block_heads;  // per block
  double out_scale = 1;                // the branch-sum scale (attn_output_scale)
  double alpha_q = 1;                  // sqrt(d / d_q') on c^Q (MLRA repo; 1 for TPLA)
  double alpha_kv = 1;                 // sqrt(d / d_block) on each normalized block (1 for TPLA)
  std::vector<int64_t> device_order;   // blocks sorted by the first head they serve
};

LatentLayout latent_layout(const RefConfig& c);

}  // namespace attnroof::ref

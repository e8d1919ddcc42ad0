// defines: Form, OutProj, LrkvRope and their to_string: the choices a decode is computed under,
// declared once for the cost model and the float64 reference (kernels/reference), which each
// read them from their inputs in their own way.
#pragma once
#include <optional>
#include <string_view>

namespace attnroof::model {

// Absorbed: attention runs on the cached latents without materializing K/V (MLA-style weight
// absorption). Materialized: K and V are up-projected from the cache for every cached token.
// Variants whose two forms coincide (MHA, GQA, ...) compute and cost the same for both.
enum class Form { absorbed, materialized };
std::string_view to_string(Form f);

// The output projection of the variants whose heads' outputs are partial sums across devices
// (MLRA's branches) under TP.
enum class OutProj {
  replicated,  // W^O rows of every local head on the device, one all-reduce of T*d
  sharded,     // reduce-scatter of T*h*d_v, row-parallel W^O (h/t rows), then the all-reduce
};
std::string_view to_string(OutProj o);
// "replicated" or "sharded" (to_string's spelling); nullopt for anything else.
std::optional<OutProj> out_proj_from_string(std::string_view s);

// Where LRKV applies RoPE: on the materialized d_head key (reading a) or inside the rank-r
// latent space (reading b).
enum class LrkvRope { materialized, latent };
std::string_view to_string(LrkvRope r);

}  // namespace attnroof::model

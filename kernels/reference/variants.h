// defines: the per-family model factories (one file each) behind make_ref_model
//   headed_kv.cpp  MHA, MQA, GQA, MFA, GTA (query heads over separate or tied K/V heads)
//   tpa.cpp        TPA (rank-R factor caches)
//   lrkv.cpp       LRKV (shared K/V head plus per-head rank-r residual latents, both readings)
//   latent.cpp     MLA, GLA-n, MLRA-2, MLRA-4, TPLA-g (latent blocks plus a shared RoPE key)
#pragma once
#include <memory>

#include "kernels/reference/model.h"

namespace attnroof::ref {

template <class T>
std::unique_ptr<RefModel<T>> make_headed_kv_model(const Weights& w, const Numerics& n);
template <class T>
std::unique_ptr<RefModel<T>> make_tpa_model(const Weights& w, const Numerics& n);
template <class T>
std::unique_ptr<RefModel<T>> make_lrkv_model(const Weights& w, const Numerics& n);
template <class T>
std::unique_ptr<RefModel<T>> make_latent_model(const Weights& w, const Numerics& n);

}  // namespace attnroof::ref

// defines: VariantId and ATTNROOF_VARIANT_LIST: the only place a variant id is spelled.
//
// X(id, label, summary). Everything that enumerates variants (enum, parser, factory table,
// `attnroof variants`) expands this list; adding a row without a factory fails to link.
#pragma once

#define ATTNROOF_VARIANT_LIST(X)                                                                  \
  X(mha, "MHA", "multi-head attention: every query head caches its own K and V")                 \
  X(mqa, "MQA", "multi-query attention: one K and V head shared by all query heads")             \
  X(gqa, "GQA", "grouped-query attention: KV heads shard over TP, replicate past h_kv")          \
  X(mla, "MLA", "multi-head latent attention: one latent + RoPE key, replicated on every device")  \
  X(gla, "GLA", "grouped latent attention: n latent heads, each serving a group of query heads")  \
  X(gta, "GTA", "grouped tied attention: tied K/V heads plus one shared RoPE half-key")           \
  X(tpa, "TPA", "tensor product attention: K and V cached as rank-R factor pairs")                \
  X(mfa, "MFA", "multi-matrix factorization attention: one wide K and V head (MFA-KR: K only)")  \
  X(lrkv, "LRKV", "low-rank KV: shared K/V head plus per-head rank-r residual latents")           \
  X(mlra2, "MLRA-2", "multi-head low-rank attention, 2 branches of 2 latent blocks")              \
  X(mlra4, "MLRA-4", "multi-head low-rank attention, 4 latent blocks each serving every head")   \
  X(tpla, "TPLA", "tensor-parallel latent attention: an MLA latent sliced into g shards")

namespace attnroof::model {

enum class VariantId {
#define ATTNROOF_VARIANT_ENUM(id, label, summary) id,
  ATTNROOF_VARIANT_LIST(ATTNROOF_VARIANT_ENUM)
#undef ATTNROOF_VARIANT_ENUM
};

}  // namespace attnroof::model

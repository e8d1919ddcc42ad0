// defines: DecodeParams (the flat buffers and layouts every decode kernel takes; the
// float64 reference's decode_reference() takes the same struct, with host pointers)
//
// Host-clean: no CUDA headers. Trivially copyable, passed to kernels by value.
//
// Layouts (element counts, row-major, innermost last). "Row" = one cached token of one sequence.
//   q        [batch, q_tokens, q_heads, d_qk]           bf16
//   o        [batch, q_tokens, q_heads, d_v]            bf16          (written)
//   lse      [batch, q_tokens, q_heads]                 fp32, natural log (written; may be null)
//   ctx_lens [batch]                                    int32, keys, the new tokens included
// Query token j (0 <= j < q_tokens) of sequence b attends keys [0, ctx_lens[b] - q_tokens + 1 + j):
// the new tokens are the last q_tokens keys, each causal among them (speculative decoding:
// multi-token prediction, draft verification). 0 < ctx_lens[b] < q_tokens is an input error.
//   separate_kv:   k_cache rows [kv_heads, d_qk], v_cache rows [kv_heads, d_v]   bf16
//                  query head i uses KV head i / (q_heads / kv_heads)  (GQA grouping order)
//   shared_latent: k_cache rows [d_qk] = [latent (d_v) | rope (d_qk - d_v)], kv_heads = 1,
//                  v_cache = nullptr: V is the first d_v elements of the same row (MLA, GLA,
//                  MLRA and TPLA shards)
// Physical row of (sequence b, position p):
//   contiguous (page_table == nullptr): b * max_ctx_len + p
//   paged:      page_table[b * max_pages_per_seq + p / page_size] * page_size + p % page_size
// Nothing at or past ctx_lens[b] is used. The cp.async kernels read nothing there; the bulk-copy
// (TMA) latent kernels read the whole last tile of a sequence, rows that lie in that tile's page
// (paged) or in the cache's reserved rows (contiguous, zero past its end), and zero them in
// shared memory. ctx_lens[b] == 0 (an empty slot of the batch) gives o = 0 and lse = -inf for
// every query token.
#pragma once
#include <cstdint>

#include "model/kernel_family.h"

namespace attnroof::kernels {

using model::KernelFamily;  // model/kernel_family.h: the kernel families, declared once

struct DecodeParams {
  KernelFamily family = KernelFamily::separate_kv;
  int32_t batch = 0;
  int32_t q_heads = 0;   // query heads on this device
  int32_t kv_heads = 0;  // KV heads on this device (1 for shared_latent)
  int32_t d_qk = 0;      // score width: d_head, or d_latent + d_rope
  int32_t d_v = 0;       // value width: d_head, or d_latent
  int32_t q_tokens = 1;  // new tokens per sequence (CUDA kernels: 1..kMaxQTokens, decode_shapes.h)
  float softmax_scale = 0;  // multiplies q.k before the natural-base softmax (e.g. 1/sqrt(192))

  const void* q = nullptr;        // bf16, see above
  const void* k_cache = nullptr;  // bf16 rows
  const void* v_cache = nullptr;  // bf16 rows; nullptr for shared_latent
  const int32_t* ctx_lens = nullptr;

  // Contiguous cache: rows reserved per sequence. Ignored when paged.
  int64_t max_ctx_len = 0;
  // Paged cache: nullptr means contiguous.
  const int32_t* page_table = nullptr;  // [batch, max_pages_per_seq]
  int32_t page_size = 0;                // rows per page (64 or 128)
  int32_t max_pages_per_seq = 0;

  void* o = nullptr;      // bf16 [batch, q_tokens, q_heads, d_v]
  float* lse = nullptr;   // fp32 [batch, q_tokens, q_heads], natural log; may be nullptr

  // Split-KV (flash-decoding) scratch, sized by model::plan_splits(): n_splits splits of
  // split_len keys each. Partials: o_partial [batch, n_splits, q_tokens, q_heads, d_v] fp32 (each
  // split's softmax-normalized output) and lse_partial [batch, n_splits, q_tokens, q_heads] fp32
  // natural log. A split past what a query token attends has lse = -inf (and a zero row).
  int32_t n_splits = 1;
  int32_t split_len = 0;
  float* o_partial = nullptr;
  float* lse_partial = nullptr;

  int32_t group() const { return q_heads / kv_heads; }
  // Output rows per sequence: q_tokens x q_heads.
  int64_t q_rows() const { return int64_t(q_tokens) * q_heads; }
  bool paged() const { return page_table != nullptr; }
  // Elements per cached row of K (and of V for separate_kv).
  int64_t k_row_elems() const { return int64_t(kv_heads) * d_qk; }
  int64_t v_row_elems() const { return int64_t(kv_heads) * d_v; }
  int64_t physical_row(int64_t b, int64_t p) const {
    if (page_table == nullptr) return b * max_ctx_len + p;
    return int64_t(page_table[b * max_pages_per_seq + p / page_size]) * page_size + p % page_size;
  }
};

}  // namespace attnroof::kernels

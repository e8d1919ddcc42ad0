// defines: DecodeOutput, SplitOutput, decode_reference, decode_reference_split, merge_splits,
// write_outputs, write_partials
//
// The kernel-facing reference: takes the same kernels::DecodeParams the CUDA decode kernels take
// (host pointers; q and cache rows are bf16 bit patterns, uint16_t), computes in float64 and
// returns o [batch, q_tokens, q_heads, d_v] and the natural-log lse [batch, q_tokens, q_heads]
// in the kernels' layout. Semantics are decode_params.h's: ctx_lens[b] keys (the q_tokens new
// ones included), query token j attends the first ctx_lens[b] - q_tokens + 1 + j, nothing at or
// past ctx_lens[b] is read, ctx_lens[b] == 0 gives o = 0 and lse = -inf.
// The reference computes row addresses itself from the documented layout (it does not call
// DecodeParams::physical_row), so a layout bug in the shared header is caught, not mirrored.
//
// The split-KV mirror follows the kernel's plan (params.n_splits, params.split_len, from
// model::plan_splits): split s covers keys [s*split_len, (s+1)*split_len) of each sequence;
// each split's (o, lse) is its own softmax-normalized output; merge_splits combines them as
// the combine kernel does (lse = log sum exp lse_s; o = sum exp(lse_s - lse) o_s). Comparing a
// kernel's partials with the mirror's places a bug in the tile math or in the merge.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/decode_params.h"

namespace attnroof::ref {

struct DecodeOutput {
  int64_t batch = 0;
  int64_t q_rows = 0;       // rows per sequence: q_tokens x q_heads
  int64_t d_v = 0;
  std::vector<double> o;    // [batch, q_tokens, q_heads, d_v]
  std::vector<double> lse;  // [batch, q_tokens, q_heads], natural log
};

struct SplitOutput {
  int64_t n_splits = 0, split_len = 0;
  std::vector<double> o_partial;    // [batch, n_splits, q_tokens, q_heads, d_v]
  std::vector<double> lse_partial;  // [batch, n_splits, q_tokens, q_heads]
  DecodeOutput merged;
};

// Throws std::invalid_argument listing every inconsistency of the params.
DecodeOutput decode_reference(const kernels::DecodeParams& p);
SplitOutput decode_reference_split(const kernels::DecodeParams& p);
// q_rows: output rows per sequence (q_tokens x q_heads).
DecodeOutput merge_splits(const std::vector<double>& o_partial, const std::vector<double>& lse_partial,
                          int64_t batch, int64_t n_splits, int64_t q_rows, int64_t d_v);
// o rounded to bf16 into p.o; lse as fp32 into p.lse (when non-null).
void write_outputs(const DecodeOutput& out, const kernels::DecodeParams& p);
// Partials as fp32 into p.o_partial / p.lse_partial.
void write_partials(const SplitOutput& out, const kernels::DecodeParams& p);

}  // namespace attnroof::ref

// defines: StressLimits, StressCase, draw_stress_case, stress_query, CheckedSlice,
//          build_checked_slice, describe
//
// One round of `validate-kernels --stress`, drawn from its seed alone, so that
// `--stress 1 --seed S` replays round S exactly. Pure host code (CPU-tested in tests/reference).
//
// A round is a random decode problem of a compiled kernel shape: h_q, GQA group, batch, the
// longest context, ragged lengths (zeros, full, tile edges, uniform), a paged cache whose page
// pool is shuffled and holds spare pages (its table sometimes as wide as 2^25 entries), or a
// contiguous one with slack rows, and a cache size
// drawn up to StressLimits::max_cache_bytes (tens of GB). Values come from stress_values.h: the
// GPU fills the cache itself, and the host rebuilds only the sequences and heads the round checks
// against the float64 reference (the checked slice), within a multiply-add budget.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kernels/decode_params.h"
#include "kernels/decode_shapes.h"

namespace attnroof::kernels::stress {

struct StressLimits {
  double max_cache_bytes = 40e9;   // K and V pools together
  int64_t max_ctx = int64_t(1) << 21;
  int32_t max_batch = 512;
  int32_t max_q_heads = 128;
  int32_t max_kv_heads = 32;       // separate K/V
  // New tokens per sequence (causal among them), drawn in [1, max_q_tokens] after the rest of
  // the round from a stream of its own, so a limit of 1 replays a round drawn before q_tokens.
  int32_t max_q_tokens = kMaxQTokens;
  double max_check_macs = 3e9;     // the reference's multiply-adds over the checked slice
  // One (sequence, head) of the reference runs on one thread at ~1e8 multiply-adds a second: a
  // sequence longer than this / ((d_qk + d_v) x q_tokens) keys is not checked (one new token:
  // MLA 460K keys, d 128 1.95M).
  double max_task_macs = 5e8;
};

struct StressCase {
  uint64_t seed = 0;
  DecodeShape shape{};
  int32_t q_heads = 0, kv_heads = 0, batch = 0;
  int32_t q_tokens = 1;            // every non-empty sequence has at least this many keys
  int64_t ctx_max = 0;             // the longest length; one sequence has exactly this many keys
  std::vector<int32_t> lens;       // [batch]
  bool paged = false;
  int32_t page_size = 0;           // 64 or 128 when paged
  int32_t max_pages_per_seq = 0;   // paged: table entries per sequence, past-length ones point
                                   // at poison_page
  int64_t max_ctx_len = 0;         // contiguous: rows per sequence (>= ctx_max, slack poisoned)
  std::vector<int32_t> page_table; // [batch, max_pages_per_seq]
  int64_t pool_pages = 0;          // physical pages: used + the poison page + spares
  int32_t poison_page = -1;
  int64_t cache_rows = 0;          // physical rows of the pool (or batch * max_ctx_len)
  float softmax_scale = 0;
  // The checked slice: these sequences, query heads [check_head0, check_head0 + check_heads) of
  // KV head check_kv_head (a contiguous range inside its GQA group). Empty only when every
  // sequence is over StressLimits::max_task_macs; the round then checks every row and repeat
  // but nothing against the reference.
  std::vector<int32_t> checked_seqs;
  int32_t check_kv_head = 0, check_head0 = 0, check_heads = 0;

  // The layout fields of DecodeParams (shape, lengths, page table as host pointers into this
  // case): physical_row() and the element counts come from it, not from a second formula.
  DecodeParams layout() const;
  int64_t k_elems() const;  // cache_rows * k_row_elems
  int64_t v_elems() const;  // 0 for shared_latent
  double cache_bytes() const { return 2.0 * double(k_elems() + v_elems()); }
  double check_macs() const;  // the checked slice's reference multiply-adds
  // Physical row ranges [first, second) that no (sequence, position < length) maps to: the
  // poison page, spare pages, the tail of each sequence's last page (paged) or of its rows
  // (contiguous). Sorted, disjoint, adjacent ranges merged. The fill writes NaN there.
  std::vector<std::pair<int64_t, int64_t>> poisoned_rows() const;
};

// Throws InputError when shapes is empty or the limits leave no problem to draw.
StressCase draw_stress_case(uint64_t seed, std::span<const DecodeShape> shapes,
                            const StressLimits& limits);

// The whole query [batch, q_tokens, q_heads, d_qk] (bf16 bits).
std::vector<uint16_t> stress_query(const StressCase& c);

// The checked slice as its own contiguous decode problem (kv_heads 1): the same bf16 values the
// GPU's fill wrote at the round's physical rows.
struct CheckedSlice {
  int64_t rows_per_seq = 0;          // max_ctx_len of the slice
  // q [seqs, q_tokens, heads, d_qk], k [seqs, rows, d_qk], v [seqs, rows, d_v]
  std::vector<uint16_t> q, k, v;
  std::vector<int32_t> lens;         // [seqs]
};
// threads: host threads for the rebuild (it reads every checked row once: up to ~2e9 values).
CheckedSlice build_checked_slice(const StressCase& c, int threads);

// "mla d576/512 hq=64 hkv=1 batch=7 ctx=131072 paged64 cache 9.41 GB"
std::string describe(const StressCase& c);

}  // namespace attnroof::kernels::stress

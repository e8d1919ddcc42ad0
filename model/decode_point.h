// defines: parse_form, DecodePoint (one decode step: TP degree, batch, contexts, query tokens, dtypes)
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "model/attention_options.h"
#include "model/dtype.h"

namespace attnroof::model {

Form parse_form(std::string_view name, std::string_view field);

// One decode step on one device, one layer. Contexts are held as their sum and maximum so that a
// ragged batch costs O(1) memory; every byte and FLOP term is linear in each sequence's length.
//
// ctx_len of a sequence counts the keys its newest query token attends, the new tokens included.
// With q_tokens = s (speculative decoding verifies s tokens per step), query token j of a
// sequence of length L attends L - (s - 1 - j) keys.
struct DecodePoint {
  int64_t tp = 1;
  // The deployment around the attention (model/step.h): ep device groups hold the routed
  // experts; dp_attention attention groups of tp devices each run their own batch (DP
  // attention), so the deployment has tp x dp_attention devices. Attention costs ignore both.
  int64_t ep = 1;
  int64_t dp_attention = 1;
  int64_t batch = 1;
  int64_t ctx_len_max = 1;    // longest sequence
  int64_t ctx_len_min = 1;    // shortest sequence (validation only)
  int64_t ctx_len_sum = 1;    // sum over the batch
  int64_t q_tokens = 1;       // query tokens per sequence per step
  Dtypes dtypes;
  Form form = Form::absorbed;

  static DecodePoint uniform(int64_t tp, int64_t batch, int64_t ctx_len, int64_t q_tokens = 1);
  static DecodePoint ragged(int64_t tp, std::span<const int64_t> ctx_lens, int64_t q_tokens = 1);

  // New tokens projected this step: batch * q_tokens.
  double tokens() const { return double(batch) * double(q_tokens); }
  // Devices of the deployment: tp x dp_attention.
  int64_t devices() const { return tp * dp_attention; }
  // (query token, key) pairs scored this step, summed over the batch.
  double attended_keys() const {
    const double s = double(q_tokens);
    return s * double(ctx_len_sum) - double(batch) * s * (s - 1.0) / 2.0;
  }
  // Cache rows read this step (each sequence's cache once, shared by its query tokens).
  double cached_rows() const { return double(ctx_len_sum); }

  // Every problem with the point itself (not with a variant): positive sizes, ctx >= q_tokens,
  // ep dividing the devices.
  std::vector<std::string> check() const;
};

}  // namespace attnroof::model

#include "model/decode_point.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "model/checked_math.h"
#include "model/error.h"

namespace attnroof::model {

Form parse_form(std::string_view name, std::string_view field) {
  if (name == "absorbed") return Form::absorbed;
  if (name == "materialized") return Form::materialized;
  throw InputError(fmt::format("{}: unknown form '{}'; known: absorbed, materialized", field, name));
}

DecodePoint DecodePoint::uniform(int64_t tp, int64_t batch, int64_t ctx_len, int64_t q_tokens) {
  DecodePoint p;
  p.tp = tp;
  p.batch = batch;
  p.ctx_len_max = ctx_len;
  p.ctx_len_min = ctx_len;
  // Only a valid point has a total; check() reports the others by their sizes.
  p.ctx_len_sum = batch > 0 && ctx_len > 0
                      ? checked_product({{"batch", batch}, {"ctx_len", ctx_len}},
                                        "the batch's total context length (ctx_len_sum)")
                      : 0;
  p.q_tokens = q_tokens;
  return p;
}

DecodePoint DecodePoint::ragged(int64_t tp, std::span<const int64_t> ctx_lens, int64_t q_tokens) {
  DecodePoint p;
  p.tp = tp;
  p.batch = int64_t(ctx_lens.size());
  p.ctx_len_max = ctx_lens.empty() ? 0 : *std::max_element(ctx_lens.begin(), ctx_lens.end());
  p.ctx_len_min = ctx_lens.empty() ? 0 : *std::min_element(ctx_lens.begin(), ctx_lens.end());
  p.ctx_len_sum = 0;
  for (int64_t l : ctx_lens) {
    const auto sum = sum_if_fits(p.ctx_len_sum, l);
    if (!sum) {
      throw InputError(fmt::format(
          "contexts: the sum of the {} sequence lengths (the longest {}) overflows 64-bit integers "
          "(at most {}): the batch's total context length (ctx_len_sum)",
          ctx_lens.size(), p.ctx_len_max, std::numeric_limits<int64_t>::max()));
    }
    p.ctx_len_sum = *sum;
  }
  p.q_tokens = q_tokens;
  return p;
}

std::vector<std::string> DecodePoint::check() const {
  std::vector<std::string> problems;
  if (tp <= 0) problems.push_back(fmt::format("tp = {} is invalid: must be >= 1", tp));
  if (ep <= 0) problems.push_back(fmt::format("ep = {} is invalid: must be >= 1", ep));
  if (dp_attention <= 0) {
    problems.push_back(fmt::format("dp_attention = {} is invalid: must be >= 1", dp_attention));
  }
  if (tp > 0 && ep > 0 && dp_attention > 0) {
    const auto n = product_if_fits(tp, dp_attention);
    if (!n) {
      problems.push_back(fmt::format("tp x dp_attention = {} x {} overflows 64-bit integers", tp, dp_attention));
    } else if (*n % ep != 0) {
      problems.push_back(fmt::format(
          "ep = {} does not divide the {} devices (tp {} x dp_attention {}): expert groups are whole "
          "sets of devices; valid ep: divisors of {}",
          ep, *n, tp, dp_attention, *n));
    }
  }
  if (batch <= 0) problems.push_back(fmt::format("batch = {} is invalid: must be >= 1", batch));
  if (q_tokens <= 0) {
    problems.push_back(fmt::format("q_tokens = {} is invalid: must be >= 1", q_tokens));
  }
  if (ctx_len_min <= 0) {
    problems.push_back(fmt::format(
        "ctx_len = {} is invalid: every sequence attends at least its new token, so ctx_len >= 1",
        ctx_len_min));
  } else if (q_tokens > 0 && ctx_len_min < q_tokens) {
    problems.push_back(fmt::format(
        "ctx_len = {} is shorter than q_tokens = {}: a context includes the step's new tokens",
        ctx_len_min, q_tokens));
  }
  return problems;
}

}  // namespace attnroof::model

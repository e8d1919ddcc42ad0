// defines: Term, product_if_fits, sum_if_fits, checked_product, checked_sum, ceil_div,
//          saturating_mul (64-bit integer arithmetic on user inputs that never wraps)
//
// Products and sums of input sizes (batch x ctx_len, heads x widths) are formed with these. Past
// the int64 range the answer is an InputError naming every operand, never a wrapped number.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string_view>

namespace attnroof::model {

// One operand: the input field it comes from ("batch") and its value. A constant factor of a
// formula (the 2 of K and V) has an empty name.
struct Term {
  std::string_view name;
  int64_t value = 0;
};

// The product, or nullopt past the int64 range.
inline std::optional<int64_t> product_if_fits(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}
inline std::optional<int64_t> sum_if_fits(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// The product of the terms; InputError "batch = 4294967296 x ctx_len = 4294967296 overflows
// 64-bit integers (at most 9223372036854775807): <what>" past the range.
int64_t checked_product(std::initializer_list<Term> terms, std::string_view what);
// The same for a sum ("d_head = ... + d_rope = ...").
int64_t checked_sum(std::initializer_list<Term> terms, std::string_view what);

// ceil(a / b) for a >= 0, b > 0, without forming a + b - 1.
inline int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }

// a x b clamped to the int64 range: for quantities only ever compared against a smaller bound
// (a CTA count against the slots of one wave), where "more than any bound" is the exact answer.
inline int64_t saturating_mul(int64_t a, int64_t b) {
  if (const auto p = product_if_fits(a, b)) return *p;
  return (a < 0) != (b < 0) ? std::numeric_limits<int64_t>::min()
                            : std::numeric_limits<int64_t>::max();
}

}  // namespace attnroof::model

#include "model/checked_math.h"

#include <fmt/format.h>

#include <string>

#include "model/error.h"

namespace attnroof::model {

namespace {

[[noreturn]] void overflow(std::initializer_list<Term> terms, std::string_view op,
                           std::string_view what) {
  std::string expr;
  for (const Term& t : terms) {
    if (!expr.empty()) expr += op;
    expr += t.name.empty() ? fmt::format("{}", t.value) : fmt::format("{} = {}", t.name, t.value);
  }
  throw InputError(fmt::format("{} overflows 64-bit integers (at most {}): {}", expr,
                               std::numeric_limits<int64_t>::max(), what));
}

}  // namespace

int64_t checked_product(std::initializer_list<Term> terms, std::string_view what) {
  int64_t out = 1;
  for (const Term& t : terms) {
    const auto next = product_if_fits(out, t.value);
    if (!next) overflow(terms, " x ", what);
    out = *next;
  }
  return out;
}

int64_t checked_sum(std::initializer_list<Term> terms, std::string_view what) {
  int64_t out = 0;
  for (const Term& t : terms) {
    const auto next = sum_if_fits(out, t.value);
    if (!next) overflow(terms, " + ", what);
    out = *next;
  }
  return out;
}

}  // namespace attnroof::model

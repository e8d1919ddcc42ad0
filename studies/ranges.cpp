#include "studies/ranges.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "model/error.h"
#include "model/json_reader.h"

namespace attnroof::cli {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

constexpr std::string_view kSyntax =
    "expected a value (4096, 4k, 2m), a list (1,2,4) or a range a:b:xF / a:b:+S "
    "(k = 1024, m = 1048576)";

}  // namespace

int64_t parse_size(std::string_view text, std::string_view field) {
  const std::string_view t = trim(text);
  if (t.empty()) throw InputError(fmt::format("{}: empty value; {}", field, kSyntax));
  int64_t multiplier = 1;
  std::string_view digits = t;
  const char last = char(std::tolower(static_cast<unsigned char>(t.back())));
  if (last == 'k' || last == 'm') {
    multiplier = last == 'k' ? 1024 : 1024 * 1024;
    digits.remove_suffix(1);
  }
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) {
    throw InputError(fmt::format("{}: '{}' is out of range: integers run from {} to {}", field,
                                 model::excerpt(t), std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max()));
  }
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
    throw InputError(fmt::format("{}: '{}' is not an integer; {}", field, model::excerpt(t), kSyntax));
  }
  if (value > std::numeric_limits<int64_t>::max() / multiplier ||
      value < std::numeric_limits<int64_t>::min() / multiplier) {
    throw InputError(fmt::format("{}: '{}' is out of range: integers run from {} to {}", field,
                                 model::excerpt(t), std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max()));
  }
  return value * multiplier;
}

double parse_real(std::string_view text, std::string_view field) {
  const std::string_view t = trim(text);
  if (t.empty()) throw InputError(fmt::format("{}: empty value; expected a number", field));
  double value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec == std::errc::result_out_of_range) {
    throw InputError(fmt::format("{}: '{}' is out of the range of a double", field, model::excerpt(t)));
  }
  if (ec != std::errc() || end != t.data() + t.size()) {
    throw InputError(fmt::format("{}: '{}' is not a number", field, model::excerpt(t)));
  }
  if (!std::isfinite(value)) {
    throw InputError(fmt::format("{}: '{}' is not a finite number", field, model::excerpt(t)));
  }
  return value;
}

std::vector<std::string> parse_list(std::string_view text, std::string_view field) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item =
        trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                : comma - start));
    if (item.empty()) {
      throw InputError(fmt::format("{}: empty item in list '{}'", field, model::excerpt(text)));
    }
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<int64_t> parse_int_axis(std::string_view text, std::string_view field,
                                    int64_t min_value) {
  std::vector<int64_t> out;
  auto check_min = [&](int64_t v, std::string_view item) {
    if (v < min_value) {
      throw InputError(fmt::format("{}: {} (from '{}') is invalid: must be >= {}", field, v,
                                   model::excerpt(item), min_value));
    }
  };
  auto push = [&](int64_t v) {
    if (out.size() >= kMaxAxisValues) {
      throw InputError(fmt::format("{}: '{}' expands to more than {} values", field, model::excerpt(text),
                                   kMaxAxisValues));
    }
    out.push_back(v);
  };
  for (const std::string& item : parse_list(text, field)) {
    const std::size_t c1 = item.find(':');
    if (c1 == std::string::npos) {
      const int64_t v = parse_size(item, field);
      check_min(v, item);
      push(v);
      continue;
    }
    const std::size_t c2 = item.find(':', c1 + 1);
    if (c2 == std::string::npos || item.find(':', c2 + 1) != std::string::npos) {
      throw InputError(fmt::format("{}: range '{}' must have the form a:b:xF or a:b:+S", field,
                                   model::excerpt(item)));
    }
    const int64_t a = parse_size(std::string_view(item).substr(0, c1), field);
    const int64_t b = parse_size(std::string_view(item).substr(c1 + 1, c2 - c1 - 1), field);
    std::string_view step = trim(std::string_view(item).substr(c2 + 1));
    check_min(a, item);
    if (b < a) {
      throw InputError(fmt::format("{}: range '{}' is invalid: end {} is below start {}", field,
                                   model::excerpt(item), b, a));
    }
    if (!step.empty() && (step.front() == 'x' || step.front() == 'X' || step.front() == '*')) {
      const int64_t factor = parse_size(step.substr(1), field);
      if (factor < 2) {
        throw InputError(fmt::format("{}: range '{}' is invalid: factor {} must be >= 2", field,
                                     model::excerpt(item), factor));
      }
      for (int64_t v = a; v <= b; v *= factor) {
        push(v);
        if (v > b / factor) break;  // the next value would pass b (or overflow)
      }
    } else {
      if (!step.empty() && step.front() == '+') step.remove_prefix(1);
      const int64_t inc = parse_size(step, field);
      if (inc < 1) {
        throw InputError(fmt::format("{}: range '{}' is invalid: step {} must be >= 1", field,
                                     model::excerpt(item), inc));
      }
      for (int64_t v = a; v <= b; v += inc) {
        push(v);
        if (v > b - inc) break;
      }
    }
  }
  return out;
}

}  // namespace attnroof::cli

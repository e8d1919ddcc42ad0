// defines: parse_int_axis, parse_size, parse_real, parse_list (the value syntax of every sweep axis)
//
// An axis is a comma-separated list of items; each item is a value or an inclusive range:
//   4096            a value
//   4k, 2m          binary suffixes: k = 1024, m = 1024^2 (so 128k = 131072 tokens, as in the
//                   MLRA paper's "128K" context); case-insensitive
//   4k:2m:x2        geometric range: 4096, 8192, ..., 2097152 (factor >= 2)
//   128k:2m:+128k   arithmetic range: 131072, 262144, ..., 2097152 (step >= 1)
//   1:8:1           arithmetic range (a bare step is "+step")
// The end is included when the sequence reaches it exactly, never exceeded.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "studies/limits.h"

namespace attnroof::cli {

// One integer with an optional k/m suffix: decimal digits only (no octal, hex or '+'; "010" is
// ten), within int64. Every integer the CLI reads goes through this, so there is one syntax.
// Throws InputError naming `field` and echoing the text given.
int64_t parse_size(std::string_view text, std::string_view field);

// One finite real number ("0.5", "7e10"); inf, nan and values past double's range are errors.
double parse_real(std::string_view text, std::string_view field);

// Expands an axis; every value must be >= min_value (the rule is named in the error).
std::vector<int64_t> parse_int_axis(std::string_view text, std::string_view field,
                                    int64_t min_value = 1);

// Splits on commas, trimming blanks; an empty item is an error naming `field`.
std::vector<std::string> parse_list(std::string_view text, std::string_view field);

}  // namespace attnroof::cli

#include "studies/report/column_label.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>
#include <vector>

namespace attnroof::report {

namespace {

struct UnitWord {
  std::string_view word;
  std::string_view unit;
  ColumnLabel::Prefixes prefixes;
};

constexpr std::array kUnits = {
    UnitWord{"s", "s", ColumnLabel::Prefixes::downwards},
    UnitWord{"bytes", "B", ColumnLabel::Prefixes::any},
    UnitWord{"byte", "B", ColumnLabel::Prefixes::any},
    UnitWord{"flops", "FLOP", ColumnLabel::Prefixes::any},
    UnitWord{"flop", "FLOP", ColumnLabel::Prefixes::any},
    UnitWord{"elems", "elements", ColumnLabel::Prefixes::none},
    UnitWord{"params", "parameters", ColumnLabel::Prefixes::none},
};

// Abbreviations of the column names, spelled out.
constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kWords = {{
    {"kv", "KV"},
    {"tp", "TP"},
    {"ctx", "context"},
    {"len", "length"},
    {"attn", "attention"},
    {"comm", "communication"},
    {"q", "query"},
    {"n", "number of"},
    {"hbm", "HBM"},
}};

const UnitWord* unit_word(std::string_view w) {
  for (const UnitWord& u : kUnits) {
    if (u.word == w) return &u;
  }
  return nullptr;
}

std::string spelled(std::string_view w) {
  for (const auto& [abbreviation, words] : kWords) {
    if (abbreviation == w) return std::string(words);
  }
  return std::string(w);
}

std::string joined(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view w : words) out += fmt::format("{}{}", out.empty() ? "" : " ", spelled(w));
  return out;
}

std::vector<std::string_view> split(std::string_view name) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t cut = name.find('_', start);
    if (cut == std::string_view::npos) break;
    if (cut > start) out.push_back(name.substr(start, cut - start));
    start = cut + 1;
  }
  if (start < name.size()) out.push_back(name.substr(start));
  return out;
}

// The SI prefixes in steps of 1000, from 1e-9.
constexpr std::array<std::string_view, 10> kPrefixes = {"n", "µ", "m", "", "k", "M", "G", "T", "P", "E"};
constexpr int kUnprefixed = 3;  // the index of ""

}  // namespace

ColumnLabel column_label(std::string_view column_name) {
  const std::vector<std::string_view> words = split(column_name);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const UnitWord* u = unit_word(words[i]);
    const bool last = i + 1 == words.size();
    const bool per = i + 2 < words.size() && words[i + 1] == "per";
    if (u == nullptr || !(last || per)) continue;
    ColumnLabel c;
    c.unit = std::string(u->unit);
    c.prefixes = u->prefixes;
    if (per) {
      // A rate (B/token, FLOP/s) keeps its prefixes; a ratio of two units (FLOP/byte) has none.
      const std::vector<std::string_view> denominator(words.begin() + long(i) + 2, words.end());
      const UnitWord* d = denominator.size() == 1 ? unit_word(denominator[0]) : nullptr;
      if (d != nullptr && d->word != "s") c.prefixes = ColumnLabel::Prefixes::none;
      c.unit += fmt::format("/{}", joined(denominator));
    }
    std::vector<std::string_view> quantity(words.begin(), words.begin() + long(i));
    if (u->word == "s" && !quantity.empty() && quantity.front() == "t") {
      // t_attn_per_model_s: "attention time per model"
      quantity.erase(quantity.begin());
      std::size_t p = 0;
      while (p < quantity.size() && quantity[p] != "per") ++p;
      quantity.insert(quantity.begin() + long(p), "time");
    }
    c.quantity = quantity.empty() ? std::string(u->unit == "B" ? "bytes" : u->unit == "FLOP" ? "FLOPs" : u->unit)
                                  : joined(quantity);
    return c;
  }
  return {joined(words), ""};
}

AxisLabel axis_label(const ColumnLabel& first, std::string_view quantities, double max_abs) {
  AxisLabel a;
  int prefix = kUnprefixed;
  if (first.prefixes != ColumnLabel::Prefixes::none && std::isfinite(max_abs) && max_abs > 0) {
    const int steps = int(std::floor(std::log10(max_abs) / 3));
    const int highest = first.prefixes == ColumnLabel::Prefixes::downwards ? kUnprefixed : int(kPrefixes.size()) - 1;
    prefix = std::clamp(kUnprefixed + steps, 0, highest);
  }
  a.scale = std::pow(1000.0, kUnprefixed - prefix);
  a.text = first.unit.empty() ? std::string(quantities)
                              : fmt::format("{} ({}{})", quantities, kPrefixes[std::size_t(prefix)], first.unit);
  return a;
}

}  // namespace attnroof::report

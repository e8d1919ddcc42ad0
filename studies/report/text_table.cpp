#include "studies/report/text_table.h"

#include <fmt/format.h>

#include <algorithm>

namespace attnroof::report {

std::string TextTable::aligned() const {
  std::vector<std::size_t> w(header.size(), 0);
  for (std::size_t i = 0; i < header.size(); ++i) w[i] = header[i].size();
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const std::string& c = i < cells.size() ? cells[i] : std::string();
      out += i == 0 ? fmt::format("{:<{}}", c, w[i]) : fmt::format("  {:>{}}", c, w[i]);
    }
    out += '\n';
  };
  line(header);
  std::vector<std::string> rule;
  for (std::size_t x : w) rule.push_back(std::string(x, '-'));
  line(rule);
  for (const auto& r : rows) line(r);
  return out;
}

std::string TextTable::markdown() const {
  std::string out = "|";
  for (const std::string& h : header) out += " " + h + " |";
  out += "\n|";
  for (std::size_t i = 0; i < header.size(); ++i) out += i == 0 ? "---|" : "---:|";
  out += '\n';
  for (const auto& r : rows) {
    out += "|";
    for (const std::string& c : r) out += " " + c + " |";
    out += '\n';
  }
  return out;
}

}  // namespace attnroof::report

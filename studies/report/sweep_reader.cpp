#include "studies/report/sweep_reader.h"

#include <fmt/format.h>

#include <algorithm>

#include "model/config_keys.h"
#include "model/error.h"
#include "model/json_reader.h"

namespace attnroof::report {

namespace {

// An unknown-column message lists at most this many of the file's columns (a sweep has ~50).
constexpr std::size_t kColumnsListed = 80;

// A position in CSV text; lines count from 1 (a quoted cell may hold newlines).
struct Cursor {
  std::size_t pos = 0, line = 1;
};

bool at_newline(std::string_view text, std::size_t p) {
  return p < text.size() && (text[p] == '\n' || text.compare(p, 2, "\r\n") == 0);
}

void skip_newline(std::string_view text, Cursor& c) {
  c.pos += text[c.pos] == '\r' ? 2 : 1;
  ++c.line;
}

// Moves past blank lines; false at the end of the text.
bool skip_blank_lines(std::string_view text, Cursor& c) {
  while (at_newline(text, c.pos)) skip_newline(text, c);
  return c.pos < text.size();
}

// The record at `c` (not at the end), and `c` past it.
void read_record(std::string_view text, Cursor& c, std::vector<std::string>& fields, const std::string& path) {
  fields.clear();
  for (;;) {
    std::string field;
    if (c.pos < text.size() && text[c.pos] == '"') {
      const std::size_t start_line = c.line;
      for (++c.pos;; ++c.pos) {
        if (c.pos >= text.size()) {
          throw InputError(fmt::format("{} line {}: a quoted cell is not closed", path, start_line));
        }
        if (text[c.pos] == '"') {
          if (c.pos + 1 < text.size() && text[c.pos + 1] == '"') {
            field.push_back('"');
            ++c.pos;
            continue;
          }
          ++c.pos;
          break;
        }
        if (text[c.pos] == '\n') ++c.line;
        field.push_back(text[c.pos]);
      }
      if (c.pos < text.size() && text[c.pos] != ',' && !at_newline(text, c.pos)) {
        throw InputError(fmt::format("{} line {}: '{}' after a quoted cell (expected ',' or the end of the line)",
                                     path, c.line, model::excerpt(text.substr(c.pos, 1))));
      }
    } else {
      const std::size_t start = c.pos;
      while (c.pos < text.size() && text[c.pos] != ',' && !at_newline(text, c.pos)) ++c.pos;
      field.assign(text.substr(start, c.pos - start));
    }
    fields.push_back(std::move(field));
    if (c.pos < text.size() && text[c.pos] == ',') {
      ++c.pos;
      continue;
    }
    if (c.pos < text.size()) skip_newline(text, c);
    return;
  }
}

// The column a mistyped name most likely meant: the nearest within a third of its length, else
// the first that contains it ("attention" -> t_attention_s); "" when none is close.
std::string closest(std::string_view name, const std::vector<std::string>& columns) {
  constexpr std::size_t kLongest = 200;  // names past this are not compared (a hostile header)
  if (name.size() > kLongest) return "";
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(1, name.size() / 3) + 1;
  for (const std::string& c : columns) {
    if (c.size() > kLongest) continue;
    const std::size_t d = model::edit_distance(name, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  if (!best.empty() || name.size() < 3) return best;
  for (const std::string& c : columns) {
    if (c.find(name) != std::string::npos) return c;
  }
  return "";
}

[[noreturn]] void unknown_column(const ColumnRequest& r, const SweepTable& t) {
  const std::vector<std::string>& columns = t.columns();
  const std::string near = closest(r.name, columns);
  std::string listed;
  for (std::size_t i = 0; i < std::min(columns.size(), kColumnsListed); ++i) {
    listed += fmt::format("{}{}", i ? ", " : "", model::excerpt(columns[i]));
  }
  if (columns.size() > kColumnsListed) listed += fmt::format(" and {} more", columns.size() - kColumnsListed);
  // A table from `sweep --format table` reads as one column of space-aligned text.
  const bool one_wide_column = columns.size() == 1 && columns[0].find(' ') != std::string::npos;
  throw InputError(fmt::format(
      "{}: no column '{}' in {}{}; its columns: {}{}", r.option, model::excerpt(r.name), t.path(),
      near.empty() ? "" : fmt::format(" (did you mean {}?)", near), listed,
      one_wide_column ? " (is it a table? plot reads `sweep --format csv` or `--format json`)" : ""));
}

std::string json_cell(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_primitive()) return v.dump();
  return model::excerpt_json(v);
}

}  // namespace

std::string SweepTable::where(std::size_t row) const {
  return json_.is_null() ? fmt::format("{} line {}", path_, row_line_[row])
                         : fmt::format("{} /rows/{}", path_, row);
}

std::vector<std::string> SweepTable::full_row(std::size_t row) const {
  std::vector<std::string> out;
  if (json_.is_null()) {
    Cursor c{row_offset_[row], row_line_[row]};
    read_record(text_, c, out, path_);
    return out;
  }
  const nlohmann::json& r = json_["rows"][row];
  for (const std::string& c : columns_) {
    const auto it = r.find(c);
    out.push_back(it == r.end() ? "" : json_cell(*it));
  }
  return out;
}

SweepTable read_sweep_table(const std::string& path, std::span<const ColumnRequest> requests) {
  SweepTable t;
  t.path_ = path;
  t.request_count_ = requests.size();
  t.text_ = model::read_input_file(path);
  std::size_t pos = t.text_.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;  // a byte-order mark
  const std::size_t first = t.text_.find_first_not_of(" \t\r\n", pos);
  if (first == std::string::npos) {
    throw InputError(fmt::format("{}: empty file; expected the CSV or JSON of `attnroof sweep`", path));
  }
  std::vector<std::size_t> index;  // requests[i]'s column
  auto resolve = [&] {
    for (const ColumnRequest& r : requests) {
      const auto it = std::find(t.columns_.begin(), t.columns_.end(), r.name);
      if (it == t.columns_.end()) unknown_column(r, t);
      index.push_back(std::size_t(it - t.columns_.begin()));
    }
  };

  if (t.text_[first] == '{') {
    t.json_ = model::parse_json_text(t.text_, model::JsonSource{path});
    std::string().swap(t.text_);
    const auto rows = t.json_.find("rows");
    if (rows == t.json_.end() || !rows->is_array()) {
      throw InputError(fmt::format("{}: no \"rows\" array: not the JSON of `attnroof sweep --format json`", path));
    }
    const auto columns = t.json_.find("columns");
    if (columns != t.json_.end() && columns->is_array()) {
      for (const nlohmann::json& c : *columns) {
        const auto name = c.is_object() ? c.find("name") : c.end();
        if (!c.is_object() || name == c.end() || !name->is_string()) {
          throw InputError(fmt::format("{}: /columns: {} is not {{\"name\": ...}}", path, model::excerpt_json(c)));
        }
        t.columns_.push_back(name->get<std::string>());
      }
    } else if (!rows->empty() && rows->front().is_object()) {
      for (const auto& [key, value] : rows->front().items()) t.columns_.push_back(key);
    }
    resolve();
    for (std::size_t i = 0; i < rows->size(); ++i) {
      const nlohmann::json& row = (*rows)[i];
      if (!row.is_object()) {
        throw InputError(fmt::format("{} /rows/{}: {} is not an object of columns", path, i, model::excerpt_json(row)));
      }
      for (std::size_t k = 0; k < requests.size(); ++k) {
        const auto cell = row.find(t.columns_[index[k]]);
        if (cell == row.end()) {
          throw InputError(fmt::format("{} /rows/{}: no \"{}\" (asked for by {})", path, i,
                                       model::excerpt(requests[k].name), requests[k].option));
        }
        t.cells_.push_back(json_cell(*cell));
      }
    }
    t.row_count_ = rows->size();
    return t;
  }

  Cursor c{pos, 1};
  std::vector<std::string> fields;
  skip_blank_lines(t.text_, c);
  read_record(t.text_, c, fields, path);
  t.columns_ = fields;
  std::vector<std::string> sorted = fields;
  std::sort(sorted.begin(), sorted.end());
  const auto twice = std::adjacent_find(sorted.begin(), sorted.end());
  if (twice != sorted.end()) {
    throw InputError(fmt::format("{}: column '{}' appears twice in the header", path, model::excerpt(*twice)));
  }
  resolve();
  while (skip_blank_lines(t.text_, c)) {
    const Cursor start = c;
    read_record(t.text_, c, fields, path);
    if (fields.size() != t.columns_.size()) {
      throw InputError(fmt::format("{} line {}: {} cells, but the header has {} columns", path, start.line,
                                   fields.size(), t.columns_.size()));
    }
    for (std::size_t k = 0; k < requests.size(); ++k) t.cells_.push_back(fields[index[k]]);
    t.row_offset_.push_back(start.pos);
    t.row_line_.push_back(start.line);
    ++t.row_count_;
  }
  return t;
}

}  // namespace attnroof::report

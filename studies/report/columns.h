// defines: Cell, ColumnOf<R>, Format, parse_format, select_columns, RowStream<R> (tables whose
// header and rows come from one column list, written as an aligned table, CSV or JSON, one row
// at a time so that a sweep of any size runs in constant memory)
//
// CSV: one header row, raw SI numbers formatted {:.9g}, unit-suffixed column names, no units in
// cells. JSON: numbers in shortest round-trip form. Table: fixed widths from the column list.
#pragma once
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "studies/report/output.h"

namespace attnroof::report {

struct Cell {
  enum class Kind { text, integer, real, boolean } kind = Kind::text;
  std::string_view text;
  int64_t integer = 0;
  double real = 0;
  bool boolean = false;

  static Cell of(std::string_view s) { return make(Kind::text, s, 0, 0, false); }
  static Cell of(int64_t v) { return make(Kind::integer, {}, v, 0, false); }
  static Cell of(double v) { return make(Kind::real, {}, 0, v, false); }
  static Cell of_bool(bool v) { return make(Kind::boolean, {}, 0, 0, v); }

 private:
  static Cell make(Kind k, std::string_view s, int64_t i, double d, bool b) {
    Cell c;
    c.kind = k;
    c.text = s;
    c.integer = i;
    c.real = d;
    c.boolean = b;
    return c;
  }
};

template <class R>
struct ColumnOf {
  std::string_view name;         // snake_case, unit-suffixed (`t_layer_s`, `kv_bytes_per_token`)
  std::string_view description;  // one line; reports/SCHEMA.md holds the same text
  int width;                     // table format width
  Cell (*get)(const R&);
};

enum class Format { table, csv, json, markdown };
Format parse_format(std::string_view name, std::string_view field, bool allow_markdown = false);
std::string_view to_string(Format f);

// The unit a table (or Markdown) shows times in; CSV and JSON keep SI seconds, as their column
// names say. A time column is one named t_..._s; its header becomes t_..._ms or t_..._us.
enum class TimeUnit { s, ms, us };
TimeUnit parse_time_unit(std::string_view name, std::string_view field);
bool is_time_column(std::string_view name);
double seconds_per(TimeUnit u);       // 1, 1e-3, 1e-6
std::string_view suffix(TimeUnit u);  // "s", "ms", "us"
// The header a table shows for a column (the name, with a time column's unit replaced).
std::string display_name(std::string_view name, TimeUnit u);

// Appends one cell in each format.
void append_csv(fmt::memory_buffer& out, const Cell& c);
void append_json(fmt::memory_buffer& out, const Cell& c);
void append_table(fmt::memory_buffer& out, const Cell& c, int width);
std::string cell_text(const Cell& c);  // for Markdown (4 significant digits)
nlohmann::json cell_json(const Cell& c);

// A comma list of column names ("" = all), each checked against the table.
template <class R>
std::vector<const ColumnOf<R>*> select_columns(std::span<const ColumnOf<R>> all,
                                               std::string_view list, std::string_view field) {
  std::vector<const ColumnOf<R>*> out;
  if (list.empty()) {
    for (const ColumnOf<R>& c : all) out.push_back(&c);
    return out;
  }
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = list.find(',', start);
    const std::string_view name =
        list.substr(start, comma == std::string_view::npos ? list.size() - start : comma - start);
    const ColumnOf<R>* found = nullptr;
    for (const ColumnOf<R>& c : all) {
      if (c.name == name) found = &c;
    }
    if (found == nullptr) {
      std::string known;
      for (const ColumnOf<R>& c : all) known += fmt::format("{}{}", known.empty() ? "" : ", ", c.name);
      throw InputError(fmt::format("{}: unknown column '{}'; known columns: {}", field, name, known));
    }
    out.push_back(found);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// Streams rows to an Output. For JSON, `header` is written first (its fields become the
// report's top-level fields), then "columns" and "rows"; finish() adds `trailer`'s fields.
template <class R>
class RowStream {
 public:
  RowStream(Output& out, Format format, std::vector<const ColumnOf<R>*> columns,
            nlohmann::json header = nlohmann::json::object(), TimeUnit time_unit = TimeUnit::s)
      : out_(out), format_(format), columns_(std::move(columns)),
        time_unit_(format == Format::table || format == Format::markdown ? time_unit : TimeUnit::s) {
    buf_.clear();
    switch (format_) {
      case Format::csv:
        for (std::size_t i = 0; i < columns_.size(); ++i) {
          fmt::format_to(std::back_inserter(buf_), "{}{}", i ? "," : "", columns_[i]->name);
        }
        buf_.push_back('\n');
        break;
      case Format::table:
        for (const ColumnOf<R>* c : columns_) {
          fmt::format_to(std::back_inserter(buf_), "{:>{}} ", display_name(c->name, time_unit_),
                         width(*c));
        }
        buf_.push_back('\n');
        break;
      case Format::markdown:
        buf_.push_back('|');
        for (const ColumnOf<R>* c : columns_)
          fmt::format_to(std::back_inserter(buf_), " {} |", display_name(c->name, time_unit_));
        buf_.push_back('\n');
        buf_.push_back('|');
        for (std::size_t i = 0; i < columns_.size(); ++i) fmt::format_to(std::back_inserter(buf_), "---|");
        buf_.push_back('\n');
        break;
      case Format::json: {
        header["columns"] = nlohmann::json::array();
        for (const ColumnOf<R>* c : columns_) {
          header["columns"].push_back({{"name", c->name}, {"description", c->description}});
        }
        std::string h = header.dump(2);
        h.pop_back();  // the closing brace: rows follow
        while (!h.empty() && (h.back() == '\n' || h.back() == ' ')) h.pop_back();
        fmt::format_to(std::back_inserter(buf_), "{}{}\n  \"rows\": [", h, h.size() > 1 ? "," : "");
        break;
      }
    }
    flush();
  }

  void row(const R& r) {
    switch (format_) {
      case Format::csv:
        for (std::size_t i = 0; i < columns_.size(); ++i) {
          if (i) buf_.push_back(',');
          append_csv(buf_, columns_[i]->get(r));
        }
        buf_.push_back('\n');
        break;
      case Format::table:
        for (const ColumnOf<R>* c : columns_) {
          append_table(buf_, shown(*c, r), width(*c));
          buf_.push_back(' ');
        }
        buf_.push_back('\n');
        break;
      case Format::markdown:
        buf_.push_back('|');
        for (const ColumnOf<R>* c : columns_) {
          fmt::format_to(std::back_inserter(buf_), " {} |", cell_text(shown(*c, r)));
        }
        buf_.push_back('\n');
        break;
      case Format::json:
        fmt::format_to(std::back_inserter(buf_), "{}\n    {{", rows_ ? "," : "");
        for (std::size_t i = 0; i < columns_.size(); ++i) {
          fmt::format_to(std::back_inserter(buf_), "{}\"{}\": ", i ? ", " : "", columns_[i]->name);
          append_json(buf_, columns_[i]->get(r));
        }
        buf_.push_back('}');
        break;
    }
    ++rows_;
    if (buf_.size() > (1 << 16)) flush();
  }

  // Ends the stream; JSON adds "row_count" and the trailer's fields.
  void finish(const nlohmann::json& trailer = nlohmann::json::object()) {
    if (format_ == Format::json) {
      fmt::format_to(std::back_inserter(buf_), "\n  ],\n  \"row_count\": {}", rows_);
      for (auto it = trailer.begin(); it != trailer.end(); ++it) {
        std::string v = it.value().dump(2);
        // indent nested lines by two spaces to sit inside the top-level object
        std::string indented;
        for (char ch : v) {
          indented.push_back(ch);
          if (ch == '\n') indented += "  ";
        }
        fmt::format_to(std::back_inserter(buf_), ",\n  \"{}\": {}", it.key(), indented);
      }
      fmt::format_to(std::back_inserter(buf_), "\n}}\n");
    }
    flush();
  }

  uint64_t rows() const { return rows_; }

 private:
  int width(const ColumnOf<R>& c) const {
    return std::max(c.width, int(display_name(c.name, time_unit_).size()));
  }
  // A cell as the table shows it: a time in the table's unit.
  Cell shown(const ColumnOf<R>& c, const R& r) const {
    Cell cell = c.get(r);
    if (time_unit_ != TimeUnit::s && cell.kind == Cell::Kind::real && is_time_column(c.name))
      cell.real /= seconds_per(time_unit_);
    return cell;
  }
  void flush() {
    out_.write(std::string_view(buf_.data(), buf_.size()));
    buf_.clear();
  }

  Output& out_;
  Format format_;
  std::vector<const ColumnOf<R>*> columns_;
  TimeUnit time_unit_;
  fmt::memory_buffer buf_;
  uint64_t rows_ = 0;
};

// Writes a whole vector of rows (small tables: kv, capacity, explain's ops).
template <class R>
void write_rows(Output& out, Format format, std::span<const ColumnOf<R>> columns,
                std::span<const R> rows, const nlohmann::json& header = nlohmann::json::object(),
                const nlohmann::json& trailer = nlohmann::json::object()) {
  std::vector<const ColumnOf<R>*> cols;
  for (const ColumnOf<R>& c : columns) cols.push_back(&c);
  RowStream<R> s(out, format, cols, header);
  for (const R& r : rows) s.row(r);
  s.finish(trailer);
}

// Rows as a JSON array of objects (reports that are built in memory).
template <class R>
nlohmann::json rows_json(std::span<const ColumnOf<R>> columns, std::span<const R> rows) {
  nlohmann::json a = nlohmann::json::array();
  for (const R& r : rows) {
    nlohmann::json o = nlohmann::json::object();
    for (const ColumnOf<R>& c : columns) o[std::string(c.name)] = cell_json(c.get(r));
    a.push_back(std::move(o));
  }
  return a;
}

}  // namespace attnroof::report

// defines: ColumnRequest, SweepTable, read_sweep_table (a sweep written by `attnroof sweep
// --format csv` or `--format json`, read back: the cells of the columns asked for)
//
// The file is read through model::read_input_file (its size cap). A document starting with '{' is
// the sweep JSON of reports/SCHEMA.md (a "rows" array of objects; the column order of "columns"
// where present); anything else is CSV as sweep writes it: one header row, ',' between cells, a
// cell holding ',' '"' or a newline quoted with '"' and its '"' doubled. Only the requested
// columns are kept, so memory stays a few cells per row.
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attnroof::report {

struct ColumnRequest {
  std::string name;
  std::string option;  // the option that asked for it, for errors ("--x")
};

class SweepTable {
 public:
  const std::string& path() const { return path_; }
  const std::vector<std::string>& columns() const { return columns_; }  // every column, file order
  std::size_t rows() const { return row_count_; }
  // The cell of `row` in the column of requests[request], as text (a JSON number as written).
  const std::string& cell(std::size_t row, std::size_t request) const {
    return cells_[row * request_count_ + request];
  }
  // "s.csv line 7", "s.json /rows/5": where a row is, for messages.
  std::string where(std::size_t row) const;
  // Every cell of a row, in columns() order (to say how two rows differ).
  std::vector<std::string> full_row(std::size_t row) const;

 private:
  friend SweepTable read_sweep_table(const std::string& path, std::span<const ColumnRequest> requests);

  std::string path_;
  std::vector<std::string> columns_;
  std::size_t request_count_ = 0;
  std::size_t row_count_ = 0;
  std::vector<std::string> cells_;  // row-major, request_count_ per row
  // CSV: the file's text and where each row starts (offset, line); JSON: the document.
  std::string text_;
  std::vector<std::size_t> row_offset_, row_line_;
  nlohmann::json json_;
};

// Reads the file; a requested column the file lacks is an InputError naming the option, listing
// the file's columns, with the closest name when one is close.
SweepTable read_sweep_table(const std::string& path, std::span<const ColumnRequest> requests);

}  // namespace attnroof::report

// defines: sweep_columns (the one column table of an evaluated point: sweep and study rows,
// CSV header and JSON keys all come from it; reports/SCHEMA.md documents each column)
#pragma once
#include <span>
#include <string>
#include <string_view>

#include "studies/evaluate.h"
#include "studies/report/columns.h"

namespace attnroof::report {

using SweepColumn = ColumnOf<cli::Row>;
std::span<const SweepColumn> sweep_columns();

// The columns `sweep --format table` shows when --columns is not given (the table would be
// unreadably wide otherwise; CSV and JSON carry every column): the inputs that name a point,
// then every other axis the sweep varies (so rows that differ only in, say, kv_dtype do not look
// identical), then the results and whether the model fits. `varying`: the column names of the
// axes with more than one value.
std::string default_table_columns(std::span<const std::string_view> varying);

}  // namespace attnroof::report

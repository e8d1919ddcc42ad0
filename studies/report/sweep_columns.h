// defines: sweep_columns (the one column table of an evaluated point: sweep and study rows,
// CSV header and JSON keys all come from it; reports/SCHEMA.md documents each column)
#pragma once
#include <span>

#include "studies/evaluate.h"
#include "studies/report/columns.h"

namespace attnroof::report {

using SweepColumn = ColumnOf<cli::Row>;
std::span<const SweepColumn> sweep_columns();

// The columns `sweep --format table` shows when --columns is not given (the table would be
// unreadably wide otherwise; CSV and JSON carry every column).
inline constexpr std::string_view kDefaultTableColumns =
    "model,hardware,tp,batch,ctx_len,kv_bytes_per_token,t_attention_s,t_comm_s,t_layer_s,bound,"
    "max_batch";

}  // namespace attnroof::report

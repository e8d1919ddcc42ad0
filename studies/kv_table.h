// defines: KvRow, kv_columns, kv_rows, kv_pivot (per-device KV cache per token per layer over
// models x TP: the papers' KV tables; used by `attnroof kv` and by studies)
#pragma once
#include <span>
#include <vector>

#include "studies/evaluate.h"
#include "studies/report/columns.h"
#include "studies/report/text_table.h"

namespace attnroof::cli {

struct KvRow {
  const ModelEntry* model = nullptr;
  int64_t tp = 1;
  model::Dtype kv_dtype = model::Dtype::bf16;
  int64_t kv_elems_per_token = 0;  // worst device, per layer
  double kv_bytes_per_token() const { return double(kv_elems_per_token) * model::bytes_of(kv_dtype); }
  double d_h_multiple() const { return double(kv_elems_per_token) / double(model->variant->d_head()); }
};

std::span<const report::ColumnOf<KvRow>> kv_columns();

// Rows for every (model, tp) that shards; the rest go to `skipped` (never dropped).
std::vector<KvRow> kv_rows(std::span<const ModelEntry> models, std::span<const int64_t> tps,
                           model::Dtype kv_dtype, std::vector<nlohmann::json>& skipped);

// Models down, TP across; cells "576 (4.5)" = elements (multiple of d_h); "-" = does not shard.
report::TextTable kv_pivot(std::span<const ModelEntry> models, std::span<const int64_t> tps,
                           std::span<const KvRow> rows);

}  // namespace attnroof::cli

#include "studies/kv_table.h"

#include <fmt/format.h>

#include <array>
#include <map>
#include <utility>

#include "model/error.h"
#include "model/registry.h"
#include "studies/limits.h"

namespace attnroof::cli {

namespace {

using report::Cell;
using KvColumn = report::ColumnOf<KvRow>;

const std::array kKvColumns = {
    KvColumn{"model", "preset name (or variant id)", 18, [](const KvRow& r) { return Cell::of(r.model->name); }},
    KvColumn{"label", "display label", 18, [](const KvRow& r) { return Cell::of(r.model->label); }},
    KvColumn{"variant", "variant id", 6,
             [](const KvRow& r) { return Cell::of(model::to_string(r.model->variant->id())); }},
    KvColumn{"tp", "tensor-parallel degree", 3, [](const KvRow& r) { return Cell::of(r.tp); }},
    KvColumn{"kv_dtype", "KV cache storage format", 4,
             [](const KvRow& r) { return Cell::of(model::to_string(r.kv_dtype)); }},
    KvColumn{"d_head", "d_h the multiple is quoted in", 4,
             [](const KvRow& r) { return Cell::of(r.model->variant->d_head()); }},
    KvColumn{"kv_elems_per_token", "cached elements per token per layer on the worst device", 8,
             [](const KvRow& r) { return Cell::of(r.kv_elems_per_token); }},
    KvColumn{"kv_d_h_multiple", "kv_elems_per_token / d_head", 6,
             [](const KvRow& r) { return Cell::of(r.d_h_multiple()); }},
    KvColumn{"kv_bytes_per_token", "kv_elems_per_token x kv_dtype bytes", 8,
             [](const KvRow& r) { return Cell::of(r.kv_bytes_per_token()); }},
    KvColumn{"n_layers", "layers in the model", 3, [](const KvRow& r) { return Cell::of(r.model->n_layers); }},
    KvColumn{"kv_bytes_per_token_per_model", "kv_bytes_per_token x n_layers (per device)", 9,
             [](const KvRow& r) { return Cell::of(r.kv_bytes_per_token() * double(r.model->n_layers)); }},
};

}  // namespace

std::span<const report::ColumnOf<KvRow>> kv_columns() { return kKvColumns; }

std::vector<KvRow> kv_rows(std::span<const ModelEntry> models, std::span<const int64_t> tps,
                           model::Dtype kv_dtype, std::vector<nlohmann::json>& skipped) {
  if (uint64_t(models.size()) * uint64_t(tps.size()) > kMaxReportPoints) {
    throw InputError(fmt::format("{} models x {} TP degrees = {} table cells, past the limit of {} "
                                 "a table holds in memory",
                                 models.size(), tps.size(), models.size() * tps.size(),
                                 kMaxReportPoints));
  }
  std::vector<KvRow> rows;
  for (const ModelEntry& m : models) {
    for (int64_t tp : tps) {
      const std::vector<std::string> problems = m.variant->check_tp(tp);
      if (!problems.empty()) {
        skipped.push_back({{"model", m.name}, {"tp", tp}, {"reasons", problems}});
        continue;
      }
      rows.push_back(KvRow{.model = &m, .tp = tp, .kv_dtype = kv_dtype,
                           .kv_elems_per_token = m.variant->kv_elems_per_token(tp)});
    }
  }
  return rows;
}

report::TextTable kv_pivot(std::span<const ModelEntry> models, std::span<const int64_t> tps,
                           std::span<const KvRow> rows) {
  report::TextTable t;
  t.header = {"model", "variant"};
  for (int64_t tp : tps) t.header.push_back(fmt::format("TP={}", tp));
  // Indexed once: a search of every row per cell would be quadratic in the TP list.
  std::map<std::pair<const ModelEntry*, int64_t>, const KvRow*> by_cell;
  for (const KvRow& r : rows) by_cell[{r.model, r.tp}] = &r;
  for (const ModelEntry& m : models) {
    std::vector<std::string> line = {m.label, m.variant->label()};
    for (int64_t tp : tps) {
      const auto it = by_cell.find({&m, tp});
      if (it == by_cell.end()) {
        line.push_back("- (does not shard)");
      } else {
        const KvRow& r = *it->second;
        line.push_back(fmt::format("{} ({:g} d_h) {:g} B", r.kv_elems_per_token, r.d_h_multiple(),
                                   r.kv_bytes_per_token()));
      }
    }
    t.rows.push_back(line);
  }
  return t;
}

}  // namespace attnroof::cli

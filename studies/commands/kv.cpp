// attnroof kv: per-device KV cache per token per layer over variants x TP (docs/variants.md
// "KV formulas").
#include <fmt/format.h>

#include <memory>

#include "model/error.h"
#include "model/presets.h"
#include "studies/commands/commands.h"
#include "studies/kv_table.h"
#include "studies/limits.h"
#include "studies/options.h"
#include "studies/queries.h"
#include "studies/ranges.h"
#include "studies/report/provenance.h"

namespace attnroof::cli {

namespace kv_command {  // named, not anonymous: a unity build compiles the commands as one unit

struct Options {
  KvQuery query;
  std::string format = "table";
  std::string out;
};

void run(const Options& o, const Context& ctx) {
  const report::Format format = report::parse_format(o.format, "--format");
  report::Output out(o.out, "-o");  // a refused -o costs no work
  const KvResult result = run_kv_query(o.query);
  const std::vector<ModelEntry>& models = result.models;
  const std::vector<int64_t>& tps = result.tps;
  const std::vector<model::Dtype> dtypes = {result.kv_dtype};
  const std::vector<KvRow>& rows = result.rows;
  const std::vector<nlohmann::json>& skipped = result.skipped;

  if (format == report::Format::table) {
    out.write(fmt::format("KV cache per token per layer on the worst device, kv_dtype {} ({:g} B per "
                          "element): elements (multiple of d_h) and bytes\n",
                          model::to_string(dtypes[0]), model::bytes_of(dtypes[0])));
    out.write(kv_pivot(models, tps, rows).aligned());
    for (const nlohmann::json& s : skipped) {
      out.write(fmt::format("skipped {} at tp {}: {}\n", s["model"].get<std::string>(),
                            s["tp"].get<int64_t>(), s["reasons"][0].get<std::string>()));
    }
  } else {
    nlohmann::json header = {{"schema_version", report::kSchemaVersion},
                             {"report", "kv"},
                             {"provenance", report::provenance(ctx.command_line)},
                             {"inputs", {{"tp", tps}, {"kv_dtype", o.query.kv_dtype}}}};
    header["inputs"]["models"] = nlohmann::json::array();
    for (const ModelEntry& m : models) header["inputs"]["models"].push_back(m.to_json());
    report::write_rows<KvRow>(out, format, kv_columns(), rows, header,
                              {{"skipped_count", skipped.size()}, {"skipped", skipped}});
    if (format == report::Format::csv && !skipped.empty()) {
      fmt::print(stderr, "kv: {} (model, tp) pairs skipped:\n", skipped.size());
      for (const nlohmann::json& s : skipped) {
        fmt::print(stderr, "  - {} at tp {}: {}\n", s["model"].get<std::string>(),
                   s["tp"].get<int64_t>(), s["reasons"][0].get<std::string>());
      }
    }
  }
  out.commit();
}

}  // namespace kv_command

Runner setup_kv(CLI::App& app, const Context& ctx) {
  auto o = std::make_shared<kv_command::Options>();
  app.add_option("--preset", o->query.presets,
                 "presets, comma-separated: builtin names or globs, preset files (a '/' or .json) or "
                 "hf:CONFIG.json; default: paper29b_* and llama3_70b");
  app.add_option("--variant", o->query.variant, "a variant (`attnroof variants`), with --config");
  app.add_option("--config", o->query.config, "the variant's config: a JSON file, or inline JSON starting with '{'");
  app.add_option("--tp", o->query.tp, "TP degrees: list or range (1,2,4,8; 1:8:+1)")->capture_default_str();
  app.add_option("--kv-dtype", o->query.kv_dtype, "KV storage: bf16, fp16, fp8, fp32")->capture_default_str();
  app.add_option("--format", o->format, "table, csv or json")->capture_default_str();
  app.add_option("-o,--out", o->out, "write to FILE (atomically) instead of stdout");
  app.footer(
      std::string("Examples:\n"
                  "  attnroof kv\n"
                  "  attnroof kv --preset llama3_70b --tp 1:16:x2 --kv-dtype fp8\n"
                  "  attnroof kv --format csv -o kv.csv\n"
                  "  attnroof kv --variant gqa --config '{\"d_model\":4096,\"q_heads\":32,\"kv_heads\":8,\"d_head\":128}'\n") +
      fmt::format("Per layer, per device, worst device; a TP that does not shard a model is listed "
                  "as skipped with the reason. The table holds at most {} (model, TP) cells.",
                  kMaxReportPoints));
  return [o, &ctx] { kv_command::run(*o, ctx); };
}

}  // namespace attnroof::cli

// attnroof presets [NAME]: the builtin presets (model/data/presets/*.json); NAME (a builtin, a
// preset file or hf:CONFIG.json) shows the effective config, its source and the per-device KV
// and weights at TP 1, 2, 4, 8.
#include <fmt/format.h>

#include <memory>
#include <optional>

#include "model/presets.h"
#include "model/registry.h"
#include "studies/commands/commands.h"
#include "studies/options.h"
#include "studies/report/columns.h"

namespace attnroof::cli {

namespace presets_command {  // named, not anonymous: a unity build compiles the commands as one unit

struct Options {
  std::string name;
  std::string format = "table";
};

constexpr int64_t kShownTp[] = {1, 2, 4, 8};

// The FFN / MoE, embeddings and LM head a preset describes (null: not described).
nlohmann::json ffn_json(const model::ModelBody& b) {
  if (!b.ffn) return nullptr;
  const model::FfnShape& f = *b.ffn;
  nlohmann::json j = {{"dense_layers", f.dense_layers()}, {"moe_layers", f.moe_layers()},
                      {"vocab", b.vocab}, {"tied_embeddings", b.tied_embeddings},
                      {"ffn_params", model::ffn_params(f)}, {"ffn_active_params", model::ffn_active_params(f)}};
  if (f.dense_layers() > 0) j["d_ff"] = f.dense.d_ff;
  if (f.moe)
    j["moe"] = {{"n_routed", f.moe->n_routed}, {"top_k", f.moe->top_k}, {"n_shared", f.moe->n_shared},
                {"d_expert", f.moe->d_expert}};
  return j;
}

std::string ffn_text(const model::ModelBody& b) {
  if (!b.ffn) return "not described (t_step_s prices the attention alone)";
  const model::FfnShape& f = *b.ffn;
  std::string s = f.dense_layers() > 0 ? fmt::format("{} dense layers of d_ff {}", f.dense_layers(), f.dense.d_ff) : "";
  if (f.moe)
    s += fmt::format("{}{} MoE layers: {} routed experts of {} (top {}), {} shared", s.empty() ? "" : ", ",
                     f.moe_layers(), f.moe->n_routed, f.moe->d_expert, f.moe->top_k, f.moe->n_shared);
  return s + fmt::format("; vocab {} ({}); {:.6g} FFN parameters, {:.6g} active per token", b.vocab,
                         b.tied_embeddings ? "tied" : "untied", model::ffn_params(f), model::ffn_active_params(f));
}

nlohmann::json describe(const model::Preset& p) {
  nlohmann::json j = {{"name", p.name},
                      {"description", p.description},
                      {"source", p.source},
                      {"retrieved", p.retrieved},
                      {"variant", model::to_string(p.variant_id)},
                      {"variant_label", p.variant->label()},
                      {"n_layers", p.n_layers},
                      {"other_params", p.other_params},
                      {"weight_dtype", model::to_string(p.weight_dtype)},
                      {"ffn", ffn_json(p.body)},
                      {"config", p.config},
                      {"effective_config", p.variant->config_json()}};
  nlohmann::json per_tp = nlohmann::json::array();
  for (int64_t tp : kShownTp) {
    const std::vector<std::string> problems = p.variant->check_tp(tp);
    nlohmann::json e = {{"tp", tp}};
    if (problems.empty()) {
      e["kv_elems_per_token"] = p.variant->kv_elems_per_token(tp);
      e["kv_d_h_multiple"] = double(p.variant->kv_elems_per_token(tp)) / double(p.variant->d_head());
      e["weight_params"] = p.variant->weight_params(tp);
    } else {
      e["problems"] = problems;
    }
    per_tp.push_back(e);
  }
  j["per_device"] = per_tp;
  return j;
}

void run(const Options& o) {
  const report::Format format = report::parse_format(o.format, "--format");
  if (format == report::Format::csv) throw InputError("--format: csv is not offered here; use table or json");
  if (o.name.empty()) {
    if (format == report::Format::json) {
      nlohmann::json a = nlohmann::json::array();
      for (const model::Preset& p : model::builtin_presets()) a.push_back(describe(p));
      fmt::print("{}\n", a.dump(2));
      return;
    }
    fmt::print("{:<24} {:<7} {:>6}  {}\n", "name", "variant", "layers", "description");
    for (const model::Preset& p : model::builtin_presets()) {
      fmt::print("{:<24} {:<7} {:>6}  {}\n", p.name, model::to_string(p.variant_id), p.n_layers,
                 p.description);
    }
    return;
  }
  const std::optional<PresetSource> file = preset_source(o.name);
  const model::Preset loaded = file ? load_preset_source(*file, o.name, "NAME") : model::Preset{};
  const model::Preset& p = file ? loaded : model::find_preset(o.name, "NAME");
  const nlohmann::json j = describe(p);
  if (format == report::Format::json) {
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("{}: {}\n", p.name, p.description);
  fmt::print("  variant        {} ({})\n", model::to_string(p.variant_id), p.variant->label());
  fmt::print("  layers         {}\n", p.n_layers);
  fmt::print("  other params   {:.6g} (outside attention: FFN/MoE, embeddings, norms)\n", p.other_params);
  fmt::print("  weights        {} (native; --weight-dtype overrides)\n", model::to_string(p.weight_dtype));
  fmt::print("  ffn            {}\n", ffn_text(p.body));
  fmt::print("  source         {}\n", p.source);
  fmt::print("  retrieved      {}\n", p.retrieved);
  fmt::print("  config         {}\n", p.variant->config_json().dump());
  fmt::print("  per layer, per device (worst device):\n");
  fmt::print("    {:>3} {:>18} {:>8} {:>16}\n", "tp", "kv_elems_per_token", "x d_h", "weight_params");
  for (const nlohmann::json& e : j["per_device"]) {
    if (e.contains("problems")) {
      fmt::print("    {:>3} not shardable: {}\n", e["tp"].get<int64_t>(),
                 e["problems"][0].get<std::string>());
      continue;
    }
    fmt::print("    {:>3} {:>18} {:>8.4g} {:>16.6g}\n", e["tp"].get<int64_t>(),
               e["kv_elems_per_token"].get<int64_t>(), e["kv_d_h_multiple"].get<double>(),
               e["weight_params"].get<double>());
  }
}

}  // namespace presets_command

Runner setup_presets(CLI::App& app, const Context&) {
  auto o = std::make_shared<presets_command::Options>();
  app.add_option("NAME", o->name,
                 "one preset: everything about it, including its source; a builtin name, a preset "
                 "file (a '/' or .json) or hf:CONFIG.json, as --preset takes");
  app.add_option("--format", o->format, "table or json")->capture_default_str();
  app.footer(
      "Examples:\n"
      "  attnroof presets\n"
      "  attnroof presets llama3_70b\n"
      "  attnroof presets llama3_70b --format json\n"
      "  attnroof presets model/data/presets/llama3_70b.json   # a preset file (in a checkout)\n"
      "  attnroof presets hf:tests/model/data/hf/qwen3_32b.json   # a Hugging Face config.json\n"
      "The builtin presets are embedded from model/data/presets/*.json at build time; a file is\n"
      "read when the command runs, in the same format.");
  return [o] { presets_command::run(*o); };
}

}  // namespace attnroof::cli

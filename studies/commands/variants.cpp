// attnroof variants [NAME]: the variant registry (model/variant_list.h), with the presets that
// use each variant; NAME adds its config keys (model/config_keys.h).
#include <fmt/format.h>

#include <memory>

#include "model/config_keys.h"
#include "model/presets.h"
#include "model/registry.h"
#include "studies/commands/commands.h"
#include "studies/report/columns.h"

namespace attnroof::cli {

namespace variants_command {  // named, not anonymous: a unity build compiles the commands as one unit

struct Options {
  std::string name;
  std::string format = "table";
};

std::string presets_of(model::VariantId id) {
  std::string out;
  for (const model::Preset& p : model::builtin_presets()) {
    if (p.variant_id == id) out += (out.empty() ? "" : ", ") + p.name;
  }
  return out.empty() ? "-" : out;
}

nlohmann::json keys_json(std::span<const model::ConfigKey> keys) {
  nlohmann::json a = nlohmann::json::array();
  for (const model::ConfigKey& k : keys) {
    a.push_back({{"name", k.name}, {"meaning", k.meaning}, {"unit", k.unit}, {"required", k.required}});
  }
  return a;
}

void print_keys(std::span<const model::ConfigKey> keys) {
  for (const model::ConfigKey& k : keys) {
    fmt::print("    {:<14} {:<9} {:<10} {}\n", k.name, k.required ? "required" : "optional",
               k.unit.empty() ? "-" : k.unit, k.meaning);
  }
}

void run(const Options& o) {
  const report::Format format = report::parse_format(o.format, "--format");
  if (format == report::Format::csv) throw InputError("--format: csv is not offered here; use table or json");
  std::vector<model::VariantInfo> shown;
  if (o.name.empty()) {
    for (const model::VariantInfo& v : model::all_variants()) shown.push_back(v);
  } else {
    shown.push_back(model::info(model::parse_variant(o.name, "NAME")));
  }
  if (format == report::Format::json) {
    nlohmann::json a = nlohmann::json::array();
    for (const model::VariantInfo& v : shown) {
      a.push_back({{"id", v.name}, {"label", v.label}, {"summary", v.summary},
                   {"presets", presets_of(v.id)}, {"config_keys", keys_json(model::config_keys(v.id))},
                   {"model_keys", keys_json(model::model_keys())}});
    }
    fmt::print("{}\n", a.dump(2));
    return;
  }
  for (const model::VariantInfo& v : shown) {
    fmt::print("{:<6} {:<7} {}\n", v.name, v.label, v.summary);
    if (o.name.empty()) continue;
    fmt::print("       presets: {}\n", presets_of(v.id));
    fmt::print("  config keys (--config JSON, a preset's \"config\"):\n");
    print_keys(model::config_keys(v.id));
    fmt::print("  model keys (a preset file; optional in --config, or --layers / --other-params):\n");
    print_keys(model::model_keys());
  }
}

}  // namespace variants_command

Runner setup_variants(CLI::App& app, const Context&) {
  auto o = std::make_shared<variants_command::Options>();
  app.add_option("NAME", o->name, "one variant (id or label, any case)");
  app.add_option("--format", o->format, "table or json")->capture_default_str();
  app.footer(
      "Examples:\n"
      "  attnroof variants\n"
      "  attnroof variants mlra4 --format json\n"
      "  attnroof variants gqa        # its config keys: meaning, unit, required\n"
      "A variant is a cost model; a preset (`attnroof presets`) is a variant with dimensions.");
  return [o] { variants_command::run(*o); };
}

}  // namespace attnroof::cli

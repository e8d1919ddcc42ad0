#include "studies/options.h"

#include <fmt/format.h>

#include "model/error.h"
#include "model/json_reader.h"
#include "model/registry.h"
#include "studies/ranges.h"

namespace attnroof::cli {

namespace {

bool glob_match(std::string_view pattern, std::string_view text) {
  // '*' matches any run of characters; everything else matches itself.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string known_presets() {
  std::string known;
  for (const model::Preset& p : model::builtin_presets()) {
    known += (known.empty() ? "" : ", ") + p.name;
  }
  return known;
}

}  // namespace

nlohmann::json ModelEntry::to_json() const {
  return {{"name", name},
          {"label", label},
          {"variant", model::to_string(variant->id())},
          {"variant_label", variant->label()},
          {"origin", origin},
          {"n_layers", n_layers},
          {"other_params", other_params},
          {"config", variant->config_json()}};
}

ModelEntry entry_from_preset(const model::Preset& p) {
  return ModelEntry{.name = p.name,
                    .label = p.name,
                    .variant = p.variant,
                    .n_layers = p.n_layers,
                    .other_params = p.other_params,
                    .origin = "preset",
                    .config = p.config,
                    .pinned_tp = 0};
}

std::vector<ModelEntry> resolve_presets(const std::vector<std::string>& names,
                                        std::string_view field) {
  std::vector<ModelEntry> out;
  for (const std::string& name : names) {
    if (name.find('*') == std::string::npos) {
      out.push_back(entry_from_preset(model::find_preset(name, field)));
      continue;
    }
    std::size_t matched = 0;
    for (const model::Preset& p : model::builtin_presets()) {
      if (glob_match(name, p.name)) {
        out.push_back(entry_from_preset(p));
        ++matched;
      }
    }
    if (matched == 0) {
      throw InputError(fmt::format("{}: '{}' matches no preset; known presets: {}", field, model::excerpt(name),
                                   known_presets()));
    }
  }
  return out;
}

ModelEntry model_from_config(const std::string& variant, const std::string& config,
                             int64_t n_layers, double other_params) {
  const model::VariantId id = model::parse_variant(variant, "--variant");
  const bool inline_json = config.find_first_not_of(" \t\r\n") != std::string::npos &&
                           config[config.find_first_not_of(" \t\r\n")] == '{';
  const model::JsonSource source{inline_json ? std::string("--config") : config};
  const nlohmann::json j = inline_json ? model::parse_json_text(config, source)
                                       : model::load_json_file(config);
  if (n_layers < 1) {
    throw InputError(fmt::format("--layers: {} is invalid: must be >= 1", n_layers));
  }
  if (!(other_params >= 0)) {
    throw InputError(fmt::format("--other-params: {} is invalid: must be >= 0", other_params));
  }
  ModelEntry e;
  e.variant = model::make_variant(id, j, source);
  e.name = std::string(model::to_string(id));
  e.label = e.variant->label();
  e.n_layers = n_layers;
  e.other_params = other_params;
  e.origin = source.name;
  e.config = j;
  return e;
}

namespace {
// "-o,--out" -> "--out": the name errors use.
std::string option_field(const std::string& names) {
  std::string best;
  std::size_t start = 0;
  while (start <= names.size()) {
    const std::size_t comma = std::min(names.find(',', start), names.size());
    const std::string name = names.substr(start, comma - start);
    if (best.empty() || (name.rfind("--", 0) == 0 && best.rfind("--", 0) != 0)) best = name;
    start = comma + 1;
  }
  return best;
}

// The text goes through `parse` (one syntax for each kind of number), then the lower bound.
template <class T, class Parse>
CLI::Option* add_number_option(CLI::App& app, const std::string& names, T& target,
                               const std::string& help, T min_value, Parse parse,
                               const char* type_name) {
  const std::string field = option_field(names);
  CLI::Option* opt = app.add_option_function<std::string>(
      names,
      [&target, field, min_value, parse](const std::string& text) {
        const T v = parse(text, field);
        if (v < min_value) {
          throw InputError(
              fmt::format("{}: '{}' is invalid: must be >= {}", field, model::excerpt(text), min_value));
        }
        target = v;
      },
      help);
  opt->type_name(type_name)->default_str(fmt::format("{}", target));
  return opt;
}
}  // namespace

CLI::Option* add_int_option(CLI::App& app, const std::string& names, int64_t& target,
                            const std::string& help, int64_t min_value) {
  return add_number_option(app, names, target, help, min_value, parse_size, "INT");
}

CLI::Option* add_real_option(CLI::App& app, const std::string& names, double& target,
                             const std::string& help, double min_value) {
  return add_number_option(app, names, target, help, min_value, parse_real, "NUMBER");
}

void add_model_options(CLI::App& app, ModelOptions& o, bool allow_list) {
  app.add_option("--preset", o.presets,
                 allow_list ? "builtin presets: names or globs, comma-separated (`attnroof presets`)"
                            : "a builtin preset (`attnroof presets`)");
  app.add_option("--variant", o.variant, "a variant (`attnroof variants`), with --config");
  app.add_option("--config", o.config,
                 "the variant's config: a JSON file, or inline JSON starting with '{'");
  o.layers_option = add_int_option(app, "--layers", o.layers,
                                   "layers, with --variant (per-model columns)", 1);
  o.other_params_option = add_real_option(
      app, "--other-params", o.other_params, "parameters outside attention, with --variant (capacity)", 0);
}

std::vector<ModelEntry> resolve_models(const ModelOptions& o, bool allow_list) {
  const bool has_preset = !o.presets.empty();
  const bool has_variant = !o.variant.empty() || !o.config.empty();
  if (has_preset && has_variant) {
    throw InputError("--preset and --variant/--config are exclusive: give one way to name the model");
  }
  for (const CLI::Option* given : {o.layers_option, o.other_params_option}) {
    if (has_preset && given != nullptr && given->count() > 0) {
      throw InputError(fmt::format("{} applies to a --variant/--config model; a preset has its own "
                                   "(`attnroof presets NAME` shows them)",
                                   given->get_name()));
    }
  }
  if (has_variant) {
    if (o.variant.empty()) throw InputError("--config needs --variant (which variant it configures)");
    if (o.config.empty()) {
      throw InputError(fmt::format("--variant {} needs --config FILE|JSON (its dimensions)",
                                   o.variant));
    }
    return {model_from_config(o.variant, o.config, o.layers, o.other_params)};
  }
  if (!has_preset) {
    throw InputError(fmt::format("no model given: pass --preset NAME (known: {}) or --variant V "
                                 "--config FILE|JSON",
                                 known_presets()));
  }
  std::vector<ModelEntry> models = resolve_presets(parse_list(o.presets, "--preset"), "--preset");
  if (!allow_list && models.size() != 1) {
    throw InputError(fmt::format("--preset: '{}' names {} presets; this command takes one",
                                 o.presets, models.size()));
  }
  return models;
}

namespace {
bool is_path(std::string_view name) {
  return name.find('/') != std::string_view::npos ||
         (name.size() > 5 && name.substr(name.size() - 5) == ".json");
}
}  // namespace

model::CalibrationProfile resolve_calibration(std::string_view name, std::string_view field) {
  if (name.empty() || name == "none")
    throw InputError(fmt::format("{}: give a profile file (from `attnroof calibrate`) or a "
                                 "hardware id with a shipped profile",
                                 field));
  if (is_path(name)) return model::load_calibration_file(std::string(name));
  const model::Hardware& hw = model::find_hardware(name, field);
  if (!hw.calibration)
    throw InputError(fmt::format("{}: hardware '{}' ships no calibration profile; profiles are "
                                 "shipped for: {}",
                                 field, hw.id, [] {
                                   std::string ids;
                                   for (const model::Hardware& h : model::builtin_hardware())
                                     if (h.calibration) ids += (ids.empty() ? "" : ", ") + h.id;
                                   return ids.empty() ? std::string("none") : ids;
                                 }()));
  return *hw.calibration;
}

std::vector<const model::Hardware*> resolve_hardware(std::string_view list, std::string_view field,
                                                     std::string_view calibration) {
  std::shared_ptr<const model::CalibrationProfile> override_profile;
  if (!calibration.empty() && calibration != "none")
    override_profile = std::make_shared<model::CalibrationProfile>(
        resolve_calibration(calibration, "--calibration"));
  std::vector<const model::Hardware*> out;
  for (const std::string& name : parse_list(list, field)) {
    const bool file = is_path(name);
    if (!file && calibration.empty()) {
      out.push_back(&model::find_hardware(name, field));
      continue;
    }
    model::Hardware hw = file ? model::load_hardware_file(name) : model::find_hardware(name, field);
    hw.calibration = calibration == "none" ? nullptr : override_profile;
    out.push_back(model::keep_hardware(std::move(hw)));
  }
  return out;
}

void add_calibration_option(CLI::App& app, std::string& calibration) {
  app.add_option("--calibration", calibration,
                 "the decode time model's calibration: a profile from `attnroof calibrate`, a "
                 "hardware id whose shipped profile to use, or none (the uncalibrated roofline); "
                 "default: the hardware's shipped profile, if any");
}

std::vector<model::Dtype> parse_dtypes(std::string_view list, std::string_view field) {
  std::vector<model::Dtype> out;
  for (const std::string& name : parse_list(list, field)) {
    out.push_back(model::parse_dtype(name, field));
  }
  return out;
}

std::vector<model::Form> parse_forms(std::string_view list, std::string_view field) {
  std::vector<model::Form> out;
  for (const std::string& name : parse_list(list, field)) {
    out.push_back(model::parse_form(name, field));
  }
  return out;
}

}  // namespace attnroof::cli

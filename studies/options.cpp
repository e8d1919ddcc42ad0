#include "studies/options.h"

#include <fmt/format.h>

#include <filesystem>
#include <utility>

#include "model/config_keys.h"
#include "model/error.h"
#include "model/hf_import.h"
#include "model/json_reader.h"
#include "model/registry.h"
#include "studies/ranges.h"
#include "studies/report/provenance.h"

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

model::Preset imported_hf_preset(const std::string& path) {
  model::HfImport imported = model::import_hf_file(path, report::utc_now().substr(0, 10));
  for (const std::string& w : imported.warnings) fmt::print(stderr, "warning: {}: {}\n", path, w);
  return std::move(imported.preset);
}

bool is_path(std::string_view name) {
  return name.find('/') != std::string_view::npos ||
         (name.size() > 5 && name.substr(name.size() - 5) == ".json");
}

std::optional<PresetSource> preset_source(std::string_view name) {
  if (name.rfind(kHfPrefix, 0) == 0) {
    return PresetSource{PresetSource::Kind::hf_config, std::string(name.substr(kHfPrefix.size()))};
  }
  if (is_path(name)) return PresetSource{PresetSource::Kind::preset_file, std::string(name)};
  return std::nullopt;
}

model::Preset load_preset_source(const PresetSource& file, std::string_view name,
                                 std::string_view field, const std::string& base_dir) {
  if (file.path.empty()) throw InputError(fmt::format("{}: '{}' names no file", field, model::excerpt(name)));
  std::filesystem::path path = file.path;
  if (path.is_relative() && !base_dir.empty()) path = std::filesystem::path(base_dir) / path;
  return file.kind == PresetSource::Kind::hf_config ? imported_hf_preset(path.string())
                                                    : model::load_preset_file(path.string());
}

nlohmann::json ModelEntry::to_json() const {
  return {{"name", name},
          {"label", label},
          {"variant", model::to_string(variant->id())},
          {"variant_label", variant->label()},
          {"origin", origin},
          {"n_layers", n_layers},
          {"other_params", other_params},
          {"weight_dtype", model::to_string(weight_dtype)},
          {"ffn", body.ffn ? (body.ffn->moe ? "moe" : "dense") : "not described"},
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
                    .pinned_tp = 0,
                    .weight_dtype = p.weight_dtype,
                    .body = p.body};
}

std::vector<ModelEntry> resolve_presets(const std::vector<std::string>& names,
                                        std::string_view field, const std::string& base_dir) {
  std::vector<ModelEntry> out;
  for (const std::string& name : names) {
    if (const std::optional<PresetSource> file = preset_source(name)) {
      ModelEntry e = entry_from_preset(load_preset_source(*file, name, field, base_dir));
      e.origin = name;
      out.push_back(std::move(e));
      continue;
    }
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
                             std::optional<int64_t> n_layers, std::optional<double> other_params,
                             bool per_model_numbers) {
  const model::VariantId id = model::parse_variant(variant, "--variant");
  const bool inline_json = config.find_first_not_of(" \t\r\n") != std::string::npos &&
                           config[config.find_first_not_of(" \t\r\n")] == '{';
  const model::JsonSource source{inline_json ? std::string("--config") : config};
  nlohmann::json j = inline_json ? model::parse_json_text(config, source)
                                 : model::load_json_file(config);
  if (n_layers && *n_layers < 1) {
    throw InputError(fmt::format("--layers: {} is invalid: must be >= 1", *n_layers));
  }
  if (other_params && !(*other_params >= 0)) {
    throw InputError(fmt::format("--other-params: {} is invalid: must be >= 0", *other_params));
  }
  // The model-level keys of a preset (n_layers, other_params) may sit beside the dimensions; the
  // variant's parser sees the rest. Given both ways, the two must agree.
  if (j.is_object()) {
    model::ObjectReader r(j, source);
    if (r.has("n_layers")) {
      const int64_t in_file = r.get_positive_int("n_layers");
      if (n_layers && *n_layers != in_file) {
        r.fail("n_layers", fmt::format("n_layers = {} differs from --layers {}: give one", in_file, *n_layers));
      }
      n_layers = in_file;
    }
    if (r.has("other_params")) {
      const double in_file = r.get_double("other_params");
      if (!(in_file >= 0)) r.fail("other_params", fmt::format("other_params = {} is invalid: must be >= 0", in_file));
      if (other_params && *other_params != in_file) {
        r.fail("other_params",
               fmt::format("other_params = {} differs from --other-params {}: give one", in_file, *other_params));
      }
      other_params = in_file;
    }
    for (const model::ConfigKey& k : model::model_keys()) j.erase(std::string(k.name));
  }
  ModelEntry e;
  e.variant = model::make_variant(id, j, source);
  if (!n_layers && per_model_numbers) {
    fmt::print(stderr,
               "warning: {}: no n_layers in the config and no --layers: per-model numbers (time per model, "
               "weights, capacity) are for 1 layer\n",
               source.name);
  }
  e.name = std::string(model::to_string(id));
  e.label = e.variant->label();
  e.n_layers = n_layers.value_or(1);
  e.other_params = other_params.value_or(0);
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
                 allow_list ? "presets, comma-separated: builtin names or globs (`attnroof presets`), preset "
                              "files (a '/' or .json) or hf:CONFIG.json (a Hugging Face config)"
                            : "a preset: a builtin name (`attnroof presets`), a preset file (a '/' or .json) "
                              "or hf:CONFIG.json (a Hugging Face config)");
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
  const bool layers_given = o.layers_given || (o.layers_option != nullptr && o.layers_option->count() > 0);
  const bool other_given =
      o.other_params_given || (o.other_params_option != nullptr && o.other_params_option->count() > 0);
  for (const auto& [given, name] : {std::pair{layers_given, "--layers"}, std::pair{other_given, "--other-params"}}) {
    if (has_preset && given) {
      throw InputError(fmt::format("{} applies to a --variant/--config model; a preset has its own "
                                   "(`attnroof presets NAME` shows them)",
                                   name));
    }
  }
  if (has_variant) {
    if (o.variant.empty()) throw InputError("--config needs --variant (which variant it configures)");
    if (o.config.empty()) {
      throw InputError(fmt::format("--variant {} needs --config FILE|JSON (its dimensions)",
                                   o.variant));
    }
    return {model_from_config(o.variant, o.config, layers_given ? std::optional(o.layers) : std::nullopt,
                              other_given ? std::optional(o.other_params) : std::nullopt)};
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
                                                     std::string_view calibration,
                                                     const std::string& base_dir) {
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
    std::filesystem::path path = name;
    if (file && path.is_relative() && !base_dir.empty()) path = std::filesystem::path(base_dir) / path;
    model::Hardware hw = file ? model::load_hardware_file(path.string()) : model::find_hardware(name, field);
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

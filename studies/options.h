// defines: ModelEntry, is_path, imported_hf_preset, preset_source, load_preset_source,
//          resolve_presets, model_from_config, resolve_hardware, parse_dtypes,
// parse_forms, add_model_options (the ways a command is told what to evaluate)
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/decode_point.h"
#include "model/calibration.h"
#include "model/hardware.h"
#include "model/presets.h"
#include "model/step.h"

namespace attnroof::cli {

// One model to evaluate: a builtin preset, or a variant with a config given on the command line
// or in a study. Per-model quantities (time per model, memory) use n_layers and other_params.
struct ModelEntry {
  std::string name;    // preset name, or the variant id for --variant/--config
  std::string label;   // what tables and plots show (a study may set it; default = name)
  model::VariantPtr variant;
  int64_t n_layers = 1;
  double other_params = 0;  // parameters outside attention (capacity; placed by `body` when described)
  std::string origin;       // "preset" or the config's source ("--config", a file path)
  nlohmann::json config;    // the variant config as given
  int64_t pinned_tp = 0;    // > 0: this model runs at this TP only (a study's deployment)
  model::Dtype weight_dtype = model::Dtype::bf16;  // native format (a preset's weight_dtype)
  model::ModelBody body;    // FFN / MoE, embeddings, LM head (model/step.h); empty: not described

  nlohmann::json to_json() const;
};

ModelEntry entry_from_preset(const model::Preset& p);

// The one rule that tells a file from a builtin name, for --preset, --hardware and study model
// lists: a value holding a '/' or ending in ".json" is a path.
bool is_path(std::string_view name);

// "hf:PATH": a Hugging Face config.json, imported on the fly (model/hf_import.h).
inline constexpr std::string_view kHfPrefix = "hf:";
struct PresetSource {
  enum class Kind { preset_file, hf_config };
  Kind kind = Kind::preset_file;
  std::string path;
};
// A preset from a Hugging Face config.json (model/hf_import.h); its warnings go to stderr.
model::Preset imported_hf_preset(const std::string& path);
// A --preset value that names a file (hf:PATH, or a path by is_path); nullopt for a builtin name.
std::optional<PresetSource> preset_source(std::string_view name);
// The preset that file holds (name: the value given, for errors); a relative path is taken
// relative to `base_dir` when that is given.
model::Preset load_preset_source(const PresetSource& file, std::string_view name,
                                 std::string_view field, const std::string& base_dir = "");

// Each entry: a builtin preset name, exact or a glob with '*' ("paper29b_*"); a preset file
// (is_path: the format of model/data/presets/*.json); or hf:PATH (a Hugging Face config.json).
// A relative file path is taken relative to `base_dir` when it is given (a study's directory).
// A name or glob matching nothing is an InputError listing the known presets. Order: as given,
// matches in preset order.
std::vector<ModelEntry> resolve_presets(const std::vector<std::string>& names,
                                        std::string_view field, const std::string& base_dir = "");

// --variant NAME --config FILE|JSON (JSON when the text starts with '{'). The config may hold
// n_layers and other_params beside the dimensions (as a preset does); given also as n_layers /
// other_params here, the values must agree. Without any n_layers the model has 1 layer, and when
// the command shows per-model numbers a warning on stderr says so.
ModelEntry model_from_config(const std::string& variant, const std::string& config,
                             std::optional<int64_t> n_layers, std::optional<double> other_params,
                             bool per_model_numbers = true);

// Integer and real options. CLI11's own conversion reads "010" as octal and clamps values past
// int64; these read the text with parse_size / parse_real (one syntax everywhere, finite values
// only, the error echoes the text given) and enforce `min_value`. The default shown by --help is
// the target's value when the option is added.
CLI::Option* add_int_option(CLI::App& app, const std::string& names, int64_t& target,
                            const std::string& help, int64_t min_value);
CLI::Option* add_real_option(CLI::App& app, const std::string& names, double& target,
                             const std::string& help, double min_value);

// Options shared by explain and sweep: --preset or (--variant and --config).
struct ModelOptions {
  std::string presets;  // comma list / globs
  std::string variant;
  std::string config;
  int64_t layers = 1;
  double other_params = 0;
  // Whether --layers / --other-params were given: a preset has its own layers and parameters,
  // so giving these with --preset is an error rather than silently ignored. The options (set by
  // add_model_options) count a command line's; a caller without one sets the flags.
  const CLI::Option* layers_option = nullptr;
  const CLI::Option* other_params_option = nullptr;
  bool layers_given = false;
  bool other_params_given = false;
};
void add_model_options(CLI::App& app, ModelOptions& o, bool allow_list);
std::vector<ModelEntry> resolve_models(const ModelOptions& o, bool allow_list);

// Each entry of `list`: a builtin hardware id (or unique prefix), or a path to a hardware JSON
// file (is_path; the format of model/data/hardware/), relative to `base_dir` when that is given. calibration:
// "" keeps each part's shipped profile (builtin parts; a file has none), "none" drops it, anything
// else is resolve_calibration's argument and replaces it on every part.
std::vector<const model::Hardware*> resolve_hardware(std::string_view list, std::string_view field,
                                                     std::string_view calibration = "",
                                                     const std::string& base_dir = "");
// A profile written by `attnroof calibrate` (a path), or the shipped profile of a builtin
// hardware id.
model::CalibrationProfile resolve_calibration(std::string_view name, std::string_view field);
// The --calibration option of explain, sweep and the like.
void add_calibration_option(CLI::App& app, std::string& calibration);
std::vector<model::Dtype> parse_dtypes(std::string_view list, std::string_view field);
std::vector<model::Form> parse_forms(std::string_view list, std::string_view field);

}  // namespace attnroof::cli

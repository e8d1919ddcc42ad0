#include "model/presets.h"

#include <fmt/format.h>

#include <vector>

#include "model/embedded_file.h"
#include "model/error.h"

namespace attnroof::model {

namespace {

std::vector<Preset> load_builtin_presets() {
  std::vector<Preset> out;
  for (const EmbeddedFile& f : embedded_preset_files()) {
    const JsonSource source{fmt::format("model/data/presets/{}", f.name)};
    nlohmann::json j = parse_json_text(std::string(f.contents), source);
    ObjectReader r(j, source);
    out.push_back(parse_preset(r));
  }
  return out;
}

}  // namespace

Preset parse_preset(ObjectReader& r) {
  Preset p;
  p.name = r.get_string("name");
  p.description = r.get_string("description");
  p.source = r.get_string("source");
  p.retrieved = r.get_string("retrieved");
  p.variant_id = parse_variant(r.get_string("variant"), r.position("variant"));
  p.n_layers = r.get_positive_int("n_layers");
  p.other_params = r.get_double("other_params");
  if (p.other_params < 0) r.fail("other_params", "must be >= 0");
  if (r.has("weight_dtype")) p.weight_dtype = parse_dtype(r.get_string("weight_dtype"), r.position("weight_dtype"));
  p.config = r.get_raw("config");
  ObjectReader config = r.get_object("config");
  p.variant = make_variant(p.variant_id, config);
  const int64_t d_model = p.config.contains("d_model") && p.config["d_model"].is_number_integer()
                              ? p.config["d_model"].get<int64_t>()
                              : 0;
  p.body = parse_model_body(r, d_model, p.n_layers);
  if (p.body.ffn) {
    if (d_model <= 0) r.fail("ffn", "needs the config's d_model");
    // other_params holds the FFN and the embeddings (and the norms): it cannot be smaller.
    const double described = ffn_params(*p.body.ffn) + p.body.embedding_params();
    if (p.other_params < described) {
      r.fail("other_params", fmt::format("other_params = {} is smaller than the FFN and embeddings the preset "
                                         "describes ({} parameters)",
                                         p.other_params, described));
    }
  }
  r.finish();
  return p;
}

Preset load_preset_file(const std::string& path) {
  nlohmann::json j = load_json_file(path);
  if (j.is_object() && !j.contains("variant") && (j.contains("model_type") || j.contains("hidden_size"))) {
    throw InputError(fmt::format("{}: this looks like a Hugging Face config.json (it has {}), not a preset: "
                                 "give it as hf:{} or convert it with `attnroof import-hf {} -o preset.json`",
                                 path, j.contains("model_type") ? "model_type" : "hidden_size", path, path));
  }
  ObjectReader r(j, JsonSource{path});
  return parse_preset(r);
}

std::span<const Preset> builtin_presets() {
  static const std::vector<Preset> all = load_builtin_presets();
  return all;
}

const Preset& find_preset(std::string_view name, std::string_view field) {
  for (const Preset& p : builtin_presets()) {
    if (p.name == name) return p;
  }
  std::string known;
  for (const Preset& p : builtin_presets()) known += (known.empty() ? "" : ", ") + p.name;
  throw InputError(fmt::format("{}: unknown preset '{}'; known presets: {}", field, excerpt(name), known));
}

}  // namespace attnroof::model

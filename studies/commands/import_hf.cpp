// attnroof import-hf CONFIG [-o preset.json]: a Hugging Face config.json as a preset file
// (model/hf_import.h), for --preset FILE and study model lists; what it cannot map is a warning
// on stderr.
#include <fmt/format.h>

#include <memory>

#include "model/hf_import.h"
#include "model/registry.h"
#include "studies/commands/commands.h"
#include "studies/report/output.h"
#include "studies/report/provenance.h"

namespace attnroof::cli {

namespace import_hf_command {  // named, not anonymous: a unity build compiles the commands as one unit

struct Options {
  std::string config;
  std::string name;
  std::string out;
};

void run(const Options& o) {
  report::Output out(o.out, "-o");  // a refused -o costs no work
  const std::string today = report::utc_now().substr(0, 10);
  const model::HfImport imported =
      o.name.empty() ? model::import_hf_file(o.config, today)
                     : model::import_hf_config(model::load_json_file(o.config), model::JsonSource{o.config}, o.name,
                                               today);
  for (const std::string& w : imported.warnings) fmt::print(stderr, "warning: {}: {}\n", o.config, w);
  out.write(imported.preset_json.dump(2) + "\n");
  out.commit();
  const model::Preset& p = imported.preset;
  fmt::print(stderr, "import-hf: {} -> preset '{}': {} ({}), {} layers, {:.6g} parameters outside attention{}\n",
             o.config, p.name, model::to_string(p.variant_id), p.variant->label(), p.n_layers, p.other_params,
             imported.warnings.empty() ? "" : fmt::format("; {} warning(s) above", imported.warnings.size()));
}

}  // namespace import_hf_command

Runner setup_import_hf(CLI::App& app, const Context&) {
  auto o = std::make_shared<import_hf_command::Options>();
  app.add_option("CONFIG", o->config, "a Hugging Face config.json")->required();
  app.add_option("--name", o->name, "the preset's name (default: the file's stem, or its directory for config.json)");
  app.add_option("-o,--out", o->out, "write the preset to FILE (atomically) instead of stdout");
  app.footer(
      "Examples:\n"
      "  attnroof import-hf tests/model/data/hf/llama3_1_8b.json\n"
      "  attnroof import-hf tests/model/data/hf/deepseek_v3.json --name dsv3 -o /dev/null\n"
      "  attnroof kv --preset hf:tests/model/data/hf/qwen3_32b.json\n"
      "Families: Llama, Mistral, Qwen2, Qwen3 (GQA), Mixtral, Qwen2-MoE, Qwen3-MoE (GQA + MoE),\n"
      "DeepSeek-V2/V3 and Kimi-K2 (MLA + MoE). other_params counts embeddings (twice unless\n"
      "tie_word_embeddings), dense and MoE MLPs (SwiGLU: 3*d*width each, plus routers) and norms;\n"
      "the formula is in the preset's source field. What is not mapped (sliding windows,\n"
      "linear-attention layers, rope scaling, MTP layers) is a warning on stderr.");
  return [o] { import_hf_command::run(*o); };
}

}  // namespace attnroof::cli

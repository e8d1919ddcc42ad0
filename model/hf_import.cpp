#include "model/hf_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <span>

#include "model/error.h"

namespace attnroof::model {

namespace {

// The model_type values whose layout this file was written against; another is mapped by its
// fields, with a warning.
constexpr const char* kGqaTypes[] = {"llama", "mistral", "qwen2", "qwen3", "mixtral", "qwen2_moe", "qwen3_moe"};
constexpr const char* kMlaTypes[] = {"deepseek_v2", "deepseek_v3", "kimi_k2"};

// The keys an MLA config must hold (the ones GQA needs are read as they are used).
constexpr const char* kMlaKeys[] = {"hidden_size", "num_attention_heads", "num_hidden_layers", "kv_lora_rank",
                                    "q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"};
constexpr const char* kGqaKeys[] = {"hidden_size", "num_attention_heads", "num_hidden_layers"};

bool listed(std::span<const char* const> list, const std::string& value) {
  return std::any_of(list.begin(), list.end(), [&](const char* t) { return value == t; });
}

bool present(const nlohmann::json& j, const char* key) { return j.contains(key) && !j.at(key).is_null(); }

// Reads a config: typed access with positions in errors (ObjectReader), without refusing the
// many keys the cost model has no use for (a config.json holds dozens).
class HfReader {
 public:
  HfReader(const nlohmann::json& j, const JsonSource& source, const std::string& pointer)
      : j_(j), r_(j, source, pointer) {}

  int64_t positive(const char* key) { return r_.get_positive_int(key); }
  int64_t positive(const char* key, int64_t fallback) {
    return present(j_, key) ? r_.get_positive_int(key) : fallback;
  }
  int64_t non_negative(const char* key, int64_t fallback) {
    if (!present(j_, key)) return fallback;
    const int64_t v = r_.get_int(key);
    if (v < 0) r_.fail(key, fmt::format("{} = {} is invalid: must be >= 0", key, v));
    return v;
  }
  bool flag(const char* key, bool fallback) { return present(j_, key) ? r_.get_bool(key, fallback) : fallback; }
  bool has(const char* key) const { return present(j_, key); }
  const nlohmann::json& raw(const char* key) const { return j_.at(key); }
  std::string text(const char* key) { return present(j_, key) ? r_.get_string(key) : std::string(); }
  // Every key of `keys` that is missing or null, for one message naming them all.
  std::vector<std::string> missing(std::span<const char* const> keys) const {
    std::vector<std::string> out;
    for (const char* k : keys) {
      if (!present(j_, k)) out.push_back(k);
    }
    return out;
  }
  void require(std::span<const char* const> keys, const std::string& what) const {
    const std::vector<std::string> gone = missing(keys);
    if (gone.empty()) return;
    std::string names;
    for (const std::string& k : gone) names += (names.empty() ? "" : ", ") + k;
    throw InputError(fmt::format("{}: {} needs the keys {}; missing or null: {}", r_.source().name, what,
                                 [&] {
                                   std::string all;
                                   for (const char* k : keys) all += (all.empty() ? "" : ", ") + std::string(k);
                                   return all;
                                 }(),
                                 names));
  }
  [[noreturn]] void fail(const char* key, const std::string& what) const { r_.fail(key, what); }
  const JsonSource& source() const { return r_.source(); }

 private:
  const nlohmann::json& j_;
  ObjectReader r_;
};

// Layers whose MLP is a mixture of experts, and the dense rest.
struct LayerSplit {
  int64_t moe = 0;
  int64_t dense = 0;
};

// Parameters outside attention, per the layout of each family (all SwiGLU: gate, up and down
// projections, 3 * d * width per MLP):
//   embeddings   V d, twice unless tie_word_embeddings (input embedding + LM head)
//   dense MLP    3 d I                                 (intermediate_size)
//   MoE MLP      E 3 d I_e + S 3 d I_s + router d E    (+ Qwen2-MoE's shared-expert gate d)
//   norms        2 d per layer + d final
// Attention-side norms (Qwen3's q/k norms, MLA's latent norms), biases, DeepSeek-V3's router
// score bias and any multi-token-prediction module are not counted (under 0.01% of a model).
struct OtherParams {
  double value = 0;
  std::string formula;
  nlohmann::json ffn;  // the preset's "ffn" object (model/step.h); null when it cannot be described
  int64_t vocab = 0;
  bool tied = false;
};

OtherParams other_params(HfReader& r, int64_t d, int64_t layers, std::vector<std::string>& warnings) {
  const double dd = double(d);
  const int64_t vocab = r.positive("vocab_size");
  if (!r.has("tie_word_embeddings")) {
    warnings.push_back("tie_word_embeddings is absent: taken as false (the default of every family mapped "
                       "here), so the embedding and the LM head are counted separately");
  }
  const bool tied = r.flag("tie_word_embeddings", false);
  const double embed = double(vocab) * dd * (tied ? 1 : 2);
  OtherParams out;
  out.formula = fmt::format("embeddings {}*{}*{}", tied ? 1 : 2, vocab, d);
  out.vocab = vocab;
  out.tied = tied;
  nlohmann::json moe = nullptr;  // the "moe" object of "ffn"
  const int64_t top_k = r.non_negative("num_experts_per_tok", 0);

  LayerSplit split{.moe = 0, .dense = layers};
  double moe_layer = 0;
  std::string moe_text;
  if (r.has("n_routed_experts")) {  // DeepSeek-V2/V3 layout
    static constexpr const char* kKeys[] = {"n_routed_experts", "n_shared_experts", "moe_intermediate_size",
                                            "first_k_dense_replace", "intermediate_size"};
    r.require(kKeys, "a DeepSeek-style MoE");
    const int64_t routed = r.positive("n_routed_experts"), shared = r.non_negative("n_shared_experts", 0);
    const int64_t width = r.positive("moe_intermediate_size");
    const int64_t first_dense = r.non_negative("first_k_dense_replace", 0);
    const int64_t freq = r.positive("moe_layer_freq", 1);
    // Layers i >= first_k_dense_replace with i % moe_layer_freq == 0 (counted, not looped: the
    // layer count is the file's).
    const auto multiples_below = [freq](int64_t n) { return n <= 0 ? 0 : (n - 1) / freq + 1; };
    split.moe = first_dense >= layers ? 0 : multiples_below(layers) - multiples_below(first_dense);
    moe_layer = (double(routed) + double(shared)) * 3 * dd * double(width) + double(routed) * dd;
    moe = {{"n_routed", routed}, {"top_k", top_k}, {"n_shared", shared}, {"d_expert", width}};
    moe_text = fmt::format("({}+{} experts * 3*{}*{} + router {}*{} + 2*{})", routed, shared, d, width, routed, d, d);
  } else if (r.has("num_local_experts")) {  // Mixtral layout: every layer is MoE
    static constexpr const char* kKeys[] = {"num_local_experts", "intermediate_size"};
    r.require(kKeys, "a Mixtral-style MoE");
    const int64_t experts = r.positive("num_local_experts"), width = r.positive("intermediate_size");
    split.moe = layers;
    moe_layer = double(experts) * 3 * dd * double(width) + double(experts) * dd;
    moe_text = fmt::format("({} experts * 3*{}*{} + router {}*{} + 2*{})", experts, d, width, experts, d, d);
    moe = {{"n_routed", experts}, {"top_k", top_k}, {"n_shared", 0}, {"d_expert", width}};
  } else if (r.has("num_experts") && r.non_negative("num_experts", 0) > 0) {  // Qwen2-MoE / Qwen3-MoE
    static constexpr const char* kKeys[] = {"num_experts", "moe_intermediate_size"};
    r.require(kKeys, "a Qwen-style MoE");
    const int64_t experts = r.positive("num_experts"), width = r.positive("moe_intermediate_size");
    const int64_t step = r.positive("decoder_sparse_step", 1);
    std::set<int64_t> dense_only;
    if (r.has("mlp_only_layers")) {
      const nlohmann::json& a = r.raw("mlp_only_layers");
      if (!a.is_array()) r.fail("mlp_only_layers", "expected an array of layer indices");
      for (const nlohmann::json& e : a) {
        if (!e.is_number_integer()) r.fail("mlp_only_layers", "expected an array of layer indices");
        dense_only.insert(e.get<int64_t>());
      }
    }
    // Layers with (i + 1) % decoder_sparse_step == 0, less those listed in mlp_only_layers.
    split.moe = layers / step;
    for (const int64_t i : dense_only) split.moe -= (i >= 0 && i < layers && (i + 1) % step == 0) ? 1 : 0;
    const int64_t shared = r.non_negative("shared_expert_intermediate_size", 0);
    // A shared expert (Qwen2-MoE) has its own sigmoid gate: one d-vector.
    moe_layer = double(experts) * 3 * dd * double(width) + double(experts) * dd +
                (shared > 0 ? 3 * dd * double(shared) + dd : 0);
    moe_text = fmt::format("({} experts * 3*{}*{} + router {}*{}{} + 2*{})", experts, d, width, experts, d,
                           shared > 0 ? fmt::format(" + shared expert 3*{}*{} + gate {}", d, shared, d) : "", d);
    // A shared expert of k x the expert width is k shared experts in bytes and FLOPs.
    if (shared % width == 0) {
      moe = {{"n_routed", experts}, {"top_k", top_k}, {"n_shared", shared / width}, {"d_expert", width}};
    } else {
      warnings.push_back(fmt::format("shared_expert_intermediate_size = {} is not a multiple of "
                                     "moe_intermediate_size = {}: the FFN is not described (t_step_s prices the "
                                     "attention alone); other_params still counts it",
                                     shared, width));
    }
  }
  split.dense = layers - split.moe;
  double dense_layer = 0;
  if (split.dense > 0) {
    static constexpr const char* kKeys[] = {"intermediate_size"};
    r.require(kKeys, "a dense MLP");
    const int64_t width = r.positive("intermediate_size");
    dense_layer = 3 * dd * double(width);
    out.formula += fmt::format(" + {} dense layers * (3*{}*{} + 2*{})", split.dense, d, width, d);
  }
  if (split.moe > 0) out.formula += fmt::format(" + {} MoE layers * {}", split.moe, moe_text);
  if (split.moe > 0 && !moe.is_null() && top_k <= 0) {
    warnings.push_back("num_experts_per_tok is absent: the FFN is not described (t_step_s prices the attention "
                       "alone); other_params still counts it");
    moe = nullptr;
  }
  if (split.moe == 0) {
    out.ffn = {{"d_ff", r.positive("intermediate_size")}, {"mlp", "gated"}};
  } else if (!moe.is_null()) {
    moe["mlp"] = "gated";
    // Counted, not placed: the step sums its layers by kind, so interleaved dense layers count
    // as leading ones.
    out.ffn = {{"first_dense_layers", split.dense}, {"mlp", "gated"}, {"moe", moe}};
    if (split.dense > 0) out.ffn["d_ff"] = r.positive("intermediate_size");
  }
  out.formula += fmt::format(" + final norm {}", d);
  out.value = embed + double(split.dense) * (dense_layer + 2 * dd) + double(split.moe) * (moe_layer + 2 * dd) + dd;
  if (!std::isfinite(out.value)) {
    throw InputError(fmt::format("{}: the parameters outside attention overflow: {}", r.source().name, out.formula));
  }
  return out;
}

// Fields that change what a decode step costs in ways the variants do not model.
// quantization_config {"quant_method": "fp8", ...} (DeepSeek-V3's released checkpoint).
bool fp8_weights(HfReader& r) {
  if (!r.has("quantization_config")) return false;
  const nlohmann::json& q = r.raw("quantization_config");
  return q.is_object() && q.contains("quant_method") && q["quant_method"] == "fp8";
}

void warn_unmapped(HfReader& r, std::vector<std::string>& warnings) {
  if (r.has("sliding_window") && r.flag("use_sliding_window", true)) {
    warnings.push_back(fmt::format("sliding_window = {}: modelled as full attention (every cached token is "
                                   "kept and read); past the window a windowed cache is smaller",
                                   excerpt_json(r.raw("sliding_window"))));
  }
  if (r.has("layer_types") && r.raw("layer_types").is_array()) {
    std::map<std::string, int64_t> other;
    for (const nlohmann::json& t : r.raw("layer_types")) {
      const std::string kind = t.is_string() ? t.get<std::string>() : excerpt_json(t);
      if (kind != "full_attention") ++other[kind];
    }
    for (const auto& [kind, n] : other) {
      warnings.push_back(fmt::format("layer_types: {} layer(s) of '{}' are modelled as full attention like "
                                     "the rest (only full attention is mapped)",
                                     n, excerpt(kind)));
    }
  }
  if (r.has("rope_scaling")) {
    warnings.push_back("rope_scaling is ignored: it changes positions, not sizes or costs");
  }
  for (const char* mtp : {"num_nextn_predict_layers", "mtp_num_hidden_layers"}) {
    if (const int64_t n = r.non_negative(mtp, 0); n > 0) {
      warnings.push_back(fmt::format("{} = {}: the multi-token-prediction module is not counted (layers or "
                                     "other_params)",
                                     mtp, n));
    }
  }
  if (r.has("quantization_config")) {
    warnings.push_back(fp8_weights(r) ? "quantization_config: fp8 weights, taken as the preset's native weight_dtype "
                                        "(block scales not counted; --weight-dtype overrides)"
                                      : "quantization_config is ignored: weights and KV are priced in the preset's "
                                        "weight_dtype (bf16) or the --weight-dtype and --kv-dtype given");
  }
}

nlohmann::json gqa_config(HfReader& r, int64_t d, int64_t heads, std::vector<std::string>& warnings,
                          std::string& variant) {
  if (!r.has("num_key_value_heads")) {
    warnings.push_back("num_key_value_heads is absent: taken as num_attention_heads (the Hugging Face "
                       "default: multi-head attention)");
  }
  const int64_t kv_heads = r.positive("num_key_value_heads", heads);
  if (heads % kv_heads != 0) {
    r.fail("num_key_value_heads", fmt::format("num_key_value_heads = {} does not divide num_attention_heads = {}",
                                              kv_heads, heads));
  }
  int64_t d_head = 0;
  if (r.has("head_dim")) {
    d_head = r.positive("head_dim");
  } else {
    if (d % heads != 0) {
      r.fail("num_attention_heads", fmt::format("there is no head_dim and hidden_size = {} is not a multiple of "
                                                "num_attention_heads = {}",
                                                d, heads));
    }
    d_head = d / heads;
  }
  nlohmann::json c = {{"d_model", d}, {"q_heads", heads}, {"d_head", d_head}};
  if (kv_heads == heads) {
    variant = "mha";
  } else if (kv_heads == 1) {
    variant = "mqa";
  } else {
    variant = "gqa";
    c["kv_heads"] = kv_heads;
  }
  return c;
}

void require_mla_keys(const HfReader& r) {
  if (r.has("kv_lora_rank") && !r.has("q_lora_rank")) {
    r.fail("q_lora_rank", "q_lora_rank is null or absent: the queries are projected without a low-rank latent "
                          "(as in DeepSeek-V2-Lite), and the mla variant models a compressed query (d_q_latent); "
                          "this config cannot be mapped");
  }
  r.require(kMlaKeys, "an MLA model");
}

nlohmann::json mla_config(HfReader& r, int64_t d, int64_t heads) {
  return {{"d_model", d},
          {"q_heads", heads},
          {"d_q_latent", r.positive("q_lora_rank")},
          {"d_latent", r.positive("kv_lora_rank")},
          {"d_rope", r.positive("qk_rope_head_dim")},
          {"d_nope", r.positive("qk_nope_head_dim")},
          {"d_v", r.positive("v_head_dim")}};
}

// other_params as the preset stores it: an integer while doubles hold it exactly.
nlohmann::json count_json(double v) {
  constexpr double kExact = 9007199254740992.0;  // 2^53
  return v < kExact ? nlohmann::json(int64_t(v)) : nlohmann::json(v);
}

}  // namespace

HfImport import_hf_config(const nlohmann::json& whole, const JsonSource& source, const std::string& name,
                          const std::string& retrieved) {
  if (!whole.is_object()) throw InputError(fmt::format("{}: expected a JSON object (a config.json)", source.name));
  HfImport out;
  // A multimodal wrapper (Qwen3.5, Llama 4, ...) holds the language model under text_config.
  const bool wrapped =
      !whole.contains("hidden_size") && whole.contains("text_config") && whole.at("text_config").is_object();
  nlohmann::json config = wrapped ? whole.at("text_config") : whole;
  if (wrapped) {
    if (!config.contains("tie_word_embeddings") && whole.contains("tie_word_embeddings")) {
      config["tie_word_embeddings"] = whole.at("tie_word_embeddings");
    }
    const bool typed = whole.contains("model_type") && whole.at("model_type").is_string();
    out.warnings.push_back(fmt::format("the language model is read from text_config (model_type '{}' wraps it); "
                                       "any vision or audio tower is not counted",
                                       typed ? excerpt(whole.at("model_type").get<std::string>()) : "(none)"));
  }
  HfReader r(config, source, wrapped ? "/text_config" : "");
  const std::string model_type = r.text("model_type");
  const bool mla = listed(kMlaTypes, model_type) || (!listed(kGqaTypes, model_type) && r.has("kv_lora_rank"));
  if (!listed(kGqaTypes, model_type) && !listed(kMlaTypes, model_type)) {
    r.require(mla ? std::span<const char* const>(kMlaKeys) : std::span<const char* const>(kGqaKeys),
              fmt::format("model_type '{}' is not a family this import knows (GQA: llama, mistral, qwen2, qwen3, "
                          "mixtral, qwen2_moe, qwen3_moe; MLA: deepseek_v2, deepseek_v3, kimi_k2); mapping it as {}",
                          excerpt(model_type.empty() ? "(none)" : model_type), mla ? "MLA" : "GQA"));
    out.warnings.push_back(fmt::format("model_type '{}' is not a family this import knows: mapped as {} from "
                                       "its fields; check the result",
                                       excerpt(model_type.empty() ? "(none)" : model_type), mla ? "MLA" : "GQA"));
  }
  if (mla) {
    require_mla_keys(r);
  } else {
    r.require(kGqaKeys, "a GQA model");
  }
  const int64_t d = r.positive("hidden_size");
  const int64_t heads = r.positive("num_attention_heads");
  std::string variant = "mla";
  const nlohmann::json variant_config = mla ? mla_config(r, d, heads) : gqa_config(r, d, heads, out.warnings, variant);
  const int64_t layers = r.positive("num_hidden_layers");
  warn_unmapped(r, out.warnings);
  const OtherParams other = other_params(r, d, layers, out.warnings);

  std::string arch;
  if (r.has("architectures") && r.raw("architectures").is_array() && !r.raw("architectures").empty() &&
      r.raw("architectures")[0].is_string()) {
    arch = excerpt(r.raw("architectures")[0].get<std::string>());
  }
  out.preset_json = {
      {"name", name},
      {"description", fmt::format("{} ({}), imported from a Hugging Face config.json",
                                  model_type.empty() ? "(no model_type)" : excerpt(model_type),
                                  arch.empty() ? variant : arch)},
      {"source", fmt::format("Hugging Face config.json {} via attnroof import-hf; other_params = {}", source.name,
                             other.formula)},
      {"retrieved", retrieved},
      {"variant", variant},
      {"n_layers", layers},
      {"other_params", count_json(other.value)},
      {"weight_dtype", fp8_weights(r) ? "fp8" : "bf16"},
      {"config", variant_config}};
  if (!other.ffn.is_null()) {
    out.preset_json["ffn"] = other.ffn;
    out.preset_json["vocab"] = other.vocab;
    out.preset_json["tied_embeddings"] = other.tied;
  }
  ObjectReader pr(out.preset_json, JsonSource{source.name + " (imported)"});
  out.preset = parse_preset(pr);
  return out;
}

HfImport import_hf_file(const std::string& path, const std::string& retrieved) {
  const nlohmann::json j = load_json_file(path);
  const std::filesystem::path p(path);
  std::string name = p.stem().string();
  if (name == "config" && p.has_parent_path() && !p.parent_path().filename().empty()) {
    name = p.parent_path().filename().string();
  }
  return import_hf_config(j, JsonSource{path}, name, retrieved);
}

}  // namespace attnroof::model

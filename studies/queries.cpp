#include "studies/queries.h"

#include <fmt/format.h>

#include "model/error.h"
#include "model/presets.h"
#include "studies/ranges.h"

namespace attnroof::cli {

namespace {

// The default set of kv: the MLRA paper's 2.9B family (presets named paper29b_*) and the MLRA
// blog's GQA (Llama-3-70B, 64 q / 8 KV heads).
std::vector<ModelEntry> default_kv_models() {
  std::vector<ModelEntry> out;
  for (const model::Preset& p : model::builtin_presets()) {
    if (p.name.rfind("paper29b_", 0) == 0) out.push_back(entry_from_preset(p));
  }
  out.push_back(entry_from_preset(model::find_preset("llama3_70b", "default preset")));
  return out;
}

// --preset, or --variant with --config (KV is per layer: the config's n_layers plays no part),
// or the default set.
std::vector<ModelEntry> kv_models(const KvQuery& o) {
  if (!o.variant.empty() || !o.config.empty()) {
    if (!o.presets.empty()) throw InputError("--preset and --variant/--config are exclusive: give one way to name the model");
    if (o.variant.empty()) throw InputError("--config needs --variant (which variant it configures)");
    if (o.config.empty()) throw InputError(fmt::format("--variant {} needs --config FILE|JSON (its dimensions)", o.variant));
    return {model_from_config(o.variant, o.config, std::nullopt, std::nullopt, false)};
  }
  return o.presets.empty() ? default_kv_models() : resolve_presets(parse_list(o.presets, "--preset"), "--preset");
}

void check_contexts(const PointQuery& q) {
  if (!q.contexts.empty() && (q.batch_given || q.context_given)) {
    throw InputError("--contexts gives one ragged batch: it replaces --batch and --context");
  }
}

int64_t one_int(const std::string& text, std::string_view field) {
  const std::vector<int64_t> v = parse_int_axis(text, field);
  if (v.size() != 1) {
    throw InputError(fmt::format("{}: '{}' gives {} values; explain takes one (use `attnroof "
                                 "sweep` for several)",
                                 field, text, v.size()));
  }
  return v[0];
}

}  // namespace

KvResult run_kv_query(const KvQuery& q) {
  KvResult r;
  r.tps = parse_int_axis(q.tp, "--tp");
  const std::vector<model::Dtype> dtypes = parse_dtypes(q.kv_dtype, "--kv-dtype");
  if (dtypes.size() != 1) throw InputError("--kv-dtype: give one dtype");
  r.kv_dtype = dtypes[0];
  r.models = kv_models(q);
  r.rows = kv_rows(r.models, r.tps, r.kv_dtype, r.skipped);
  return r;
}

void add_point_options(CLI::App& app, PointQuery& q, bool axes) {
  add_model_options(app, q.model, axes);
  app.add_option("--hardware", q.hardware,
                 axes ? "hardware profiles, comma-separated: builtin ids or JSON files"
                      : "hardware profile: a builtin id (`attnroof hardware`) or a JSON file in that format")
      ->capture_default_str();
  add_calibration_option(app, q.calibration);
  struct PointOption {
    const char* name;
    std::string PointQuery::*field;
    const char* one_point;  // explain's help
    const char* axis;       // sweep's help
    bool show_default;
  };
  const PointOption options[] = {
      {"--tp", &PointQuery::tp, "tensor-parallel degree", "TP degrees (axis)", true},
      {"--batch", &PointQuery::batch, "sequences in the step", "batch sizes (axis)", true},
      {"--context", &PointQuery::context, "ctx_len of every sequence (k = 1024, m = 1024^2)",
       "ctx_len values (axis)", true},
      {"--contexts", &PointQuery::contexts,
       "a ragged batch instead: one ctx_len per sequence (1000,2000,4k)",
       "one ragged batch instead of --batch x --context: one ctx_len per sequence", false},
      {"--q-tokens", &PointQuery::q_tokens, "query tokens per sequence (speculative decode)",
       "query tokens per sequence (axis)", true},
      {"--form", &PointQuery::form, "absorbed or materialized",
       "absorbed, materialized or both (axis)", true},
      {"--kv-dtype", &PointQuery::kv_dtype, "KV cache format: bf16, fp16, fp8, fp32",
       "KV formats (axis)", true},
      {"--weight-dtype", &PointQuery::weight_dtype,
       "weight format; default: the preset's native one (DeepSeek-V3 fp8, others bf16)",
       "weight formats (axis); default: each preset's native format (DeepSeek-V3 fp8, others bf16)",
       false},
      {"--ep", &PointQuery::ep,
       "expert-parallel groups holding the routed experts (divides tp x dp-attention)",
       "expert-parallel groups for the routed experts (axis; must divide tp x dp_attention)", true},
      {"--dp-attention", &PointQuery::dp_attention,
       "attention groups of tp devices, each running its own --batch (DP attention)",
       "attention groups of tp devices, each with its own --batch (axis; DP attention, the MLA-DP "
       "layout)",
       true},
      {"--act-dtype", &PointQuery::act_dtype, "activation/compute format (picks the peak)",
       "activation formats (axis)", true},
  };
  for (const PointOption& o : options) {
    CLI::Option* opt = app.add_option(o.name, q.*o.field, axes ? o.axis : o.one_point);
    if (o.show_default) opt->capture_default_str();
  }
}

Axes sweep_axes(const PointQuery& o) {
  check_contexts(o);
  Axes a;
  a.models = resolve_models(o.model, true);
  a.hardware = resolve_hardware(o.hardware, "--hardware", o.calibration);
  a.forms = parse_forms(o.form, "--form");
  a.kv_dtypes = parse_dtypes(o.kv_dtype, "--kv-dtype");
  if (!o.weight_dtype.empty() && o.weight_dtype != "native")
    a.weight_dtypes = parse_dtypes(o.weight_dtype, "--weight-dtype");
  else
    a.weight_dtypes.clear();  // each model's native format
  a.ep = parse_int_axis(o.ep, "--ep");
  a.dp_attention = parse_int_axis(o.dp_attention, "--dp-attention");
  a.act_dtypes = parse_dtypes(o.act_dtype, "--act-dtype");
  a.tp = parse_int_axis(o.tp, "--tp");
  a.q_tokens = parse_int_axis(o.q_tokens, "--q-tokens");
  if (!o.contexts.empty()) {
    a.ragged_contexts = parse_int_axis(o.contexts, "--contexts");
  } else {
    a.batch = parse_int_axis(o.batch, "--batch");
    a.ctx_len = parse_int_axis(o.context, "--context");
  }
  return a;
}

ExplainResult explain_point(const PointQuery& o) {
  check_contexts(o);
  ExplainResult r;
  r.models = resolve_models(o.model, false);
  const ModelEntry& m = r.models[0];
  r.hardware = resolve_hardware(o.hardware, "--hardware", o.calibration);
  if (r.hardware.size() != 1) throw InputError("--hardware: explain takes one profile");
  const model::Hardware& hw = *r.hardware[0];
  const int64_t tp = one_int(o.tp, "--tp");
  const int64_t q_tokens = one_int(o.q_tokens, "--q-tokens");
  model::DecodePoint p;
  if (!o.contexts.empty()) {
    r.ragged = parse_int_axis(o.contexts, "--contexts");
    p = model::DecodePoint::ragged(tp, r.ragged, q_tokens);
  } else {
    p = model::DecodePoint::uniform(tp, one_int(o.batch, "--batch"), one_int(o.context, "--context"),
                                    q_tokens);
  }
  p.form = model::parse_form(o.form, "--form");
  p.ep = one_int(o.ep, "--ep");
  p.dp_attention = one_int(o.dp_attention, "--dp-attention");
  const bool native = o.weight_dtype.empty() || o.weight_dtype == "native";
  p.dtypes = model::Dtypes{.kv = model::parse_dtype(o.kv_dtype, "--kv-dtype"),
                           .weight = native ? m.weight_dtype
                                            : model::parse_dtype(o.weight_dtype, "--weight-dtype"),
                           .act = model::parse_dtype(o.act_dtype, "--act-dtype")};
  throw_if_problems(fmt::format("cannot evaluate {} on {}", m.name, hw.id), point_problems(m, hw, p));
  r.row = std::make_unique<Row>();
  evaluate_point(m, hw, p, *r.row);
  return r;
}

nlohmann::json explain_inputs_json(const ExplainResult& r) {
  const model::DecodePoint& p = r.row->point;
  nlohmann::json j = {{"model", r.models[0].to_json()},
                      {"hardware", r.hardware[0]->id},
                      {"tp", p.tp},
                      {"ep", p.ep},
                      {"dp_attention", p.dp_attention},
                      {"batch", p.batch},
                      {"ctx_len", p.ctx_len_max},
                      {"ctx_len_sum", p.ctx_len_sum},
                      {"q_tokens", p.q_tokens},
                      {"form", model::to_string(p.form)},
                      {"kv_dtype", model::to_string(p.dtypes.kv)},
                      {"weight_dtype", model::to_string(p.dtypes.weight)},
                      {"act_dtype", model::to_string(p.dtypes.act)}};
  if (!r.ragged.empty()) j["contexts"] = r.ragged;
  return j;
}

std::vector<StagePosition> stage_positions(const Row& r) {
  std::vector<StagePosition> out;
  for (const model::StageEstimate& st : r.est.stages) {
    const auto q = [&](BoundLabel l) { return bound_change_q_tokens(*r.model, *r.hw, r.point, st.stage, l); };
    const auto c = [&](BoundLabel l) { return bound_change_context(*r.model, *r.hw, r.point, st.stage, l); };
    out.push_back(StagePosition{.stage = st.stage,
                                .by_q_tokens = q(BoundLabel::model),
                                .by_context = c(BoundLabel::model),
                                .roofline_by_q_tokens = q(BoundLabel::roofline),
                                .roofline_by_context = c(BoundLabel::roofline)});
  }
  return out;
}

namespace {

nlohmann::json step_json(const model::StepEstimate& st) {
  nlohmann::json parts = nlohmann::json::array();
  for (const model::StepPart& p : st.parts) {
    parts.push_back({{"part", model::to_string(p.id)}, {"layers", p.layers}, {"flops", p.flops},
                     {"weight_bytes", p.weight_bytes}, {"bytes", p.bytes}, {"t_comm_s", p.t_comm_s},
                     {"t_s", p.t_s}, {"share", p.share}, {"bound", model::to_string(p.bound)},
                     {"calibrated", p.calibrated}});
  }
  return {{"parts", parts}, {"t_step_s", st.t_step_s}, {"tokens_per_s_per_gpu", st.tokens_per_s_per_gpu},
          {"tokens_per_s", st.tokens_per_s}, {"ffn_modelled", st.ffn_modelled}, {"bound", model::to_string(st.bound)}};
}

}  // namespace

nlohmann::json explain_json(const Row& r) {
  nlohmann::json ops = nlohmann::json::array();
  for (int i = 0; i < r.cost.n_ops; ++i) {
    const model::Op& op = r.cost.ops[std::size_t(i)];
    ops.push_back({{"name", op.name}, {"formula", op.formula},
                   {"stage", model::to_string(op.stage)}, {"flops", op.flops},
                   {"weight_bytes", op.weight_bytes}, {"kv_read_bytes", op.kv_read_bytes},
                   {"kv_write_bytes", op.kv_write_bytes}, {"act_bytes", op.act_bytes},
                   {"bytes", op.bytes()}, {"intensity_flop_per_byte", op.intensity()}});
  }
  nlohmann::json stages = nlohmann::json::array();
  for (const model::StageEstimate& s : r.est.stages) {
    stages.push_back({{"stage", model::to_string(s.stage)}, {"flops", s.flops}, {"bytes", s.bytes},
                      {"intensity_flop_per_byte", s.intensity}, {"t_mem_s", s.t_mem_s},
                      {"t_math_s", s.t_math_s}, {"t_s", s.t_s}, {"bound", model::to_string(s.bound)}});
  }
  nlohmann::json comm = nlohmann::json::array();
  for (int i = 0; i < r.est.n_comm; ++i) {
    const model::CommEstimate& c = r.est.comm[std::size_t(i)];
    comm.push_back({{"name", c.collective.name}, {"kind", model::to_string(c.collective.kind)},
                    {"formula", c.collective.formula}, {"elems", c.collective.elems},
                    {"count", c.collective.count}, {"algorithm", c.algorithm},
                    {"bytes", c.bytes}, {"t_s", c.t_s}});
  }
  nlohmann::json positions = nlohmann::json::array();
  const auto change_json = [](const std::optional<BoundChange>& c) {
    return c ? nlohmann::json{{"at", c->at}, {"to", model::to_string(c->to)},
                              {"direction", c->below ? "down" : "up"}}
             : nlohmann::json(nullptr);
  };
  for (const StagePosition& pos : stage_positions(r))
    positions.push_back({{"stage", model::to_string(pos.stage)},
                         {"bound", model::to_string(r.stage(pos.stage).bound)},
                         {"intensity_flop_per_byte", r.stage(pos.stage).intensity},
                         {"bound_change_q_tokens", change_json(pos.by_q_tokens)},
                         {"bound_change_ctx_len", change_json(pos.by_context)},
                         {"roofline_bound", model::to_string(roofline_bound(r.stage(pos.stage)))},
                         {"roofline_bound_change_q_tokens", change_json(pos.roofline_by_q_tokens)},
                         {"roofline_bound_change_ctx_len", change_json(pos.roofline_by_context)}});
  const RidgeInfo ridge = ridge_info(*r.hw, r.point.dtypes.act);
  const model::Capacity& cap = r.cap;
  return {{"ops", ops},
          {"roofline",
           {{"effective_ridge_flop_per_byte", ridge.effective_flop_per_byte},
            {"datasheet_ridge_flop_per_byte", ridge.datasheet_flop_per_byte},
            {"stages", positions}}},
          {"stages", stages},
          {"collectives", comm},
          {"totals",
           {{"flops", r.cost.flops()}, {"bytes", r.cost.bytes()},
            {"kv_read_bytes", r.cost.kv_read_bytes()},
            {"kv_elems_per_token", r.cost.kv_elems_per_token},
            {"kv_d_h_multiple", r.kv_d_h_multiple()},
            {"kv_bytes_per_token", r.kv_bytes_per_token()},
            {"weight_params", r.cost.weight_params}, {"weight_bytes", r.weight_bytes()},
            {"t_compute_s", r.est.t_compute_s}, {"t_comm_s", r.est.t_comm_s},
            {"t_layer_s", r.est.t_layer_s}, {"bound", model::to_string(r.est.bound)},
            {"n_layers", r.model->n_layers}, {"t_attn_per_model_s", r.t_attn_per_model_s()}}},
          {"step", step_json(r.step)},
          {"capacity",
           {{"weight_bytes_per_model", cap.weight_bytes}, {"kv_cache_bytes_per_model", cap.kv_bytes},
            {"reserved_bytes", cap.reserved_bytes}, {"memory_bytes_per_model", cap.total_bytes},
            {"memory_capacity_bytes", cap.capacity_bytes}, {"fits", cap.fits},
            {"max_batch", cap.max_batch}, {"max_ctx_len", cap.max_ctx_len}}}};
}

}  // namespace attnroof::cli

// attnroof explain: one decode point, every number shown with where it comes from: each op with
// its formula, FLOPs and bytes; each stage's roofline (bound, time); each collective's algorithm
// and time; the memory capacity of the whole model on the device.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <array>
#include <memory>
#include <optional>

#include "model/error.h"
#include "model/registry.h"
#include "studies/bound_change.h"
#include "studies/commands/commands.h"
#include "studies/evaluate.h"
#include "studies/queries.h"
#include "studies/ranges.h"
#include "studies/report/columns.h"
#include "studies/report/provenance.h"

namespace attnroof::cli {

namespace explain_command {  // named, not anonymous: a unity build compiles the commands as one unit

struct Options {
  PointQuery point;
  std::string format = "table";
  std::string time_unit = "s";
  std::string out;
};

// One line of the CSV form: an op, a stage, a collective or the total.
struct Line {
  std::string_view kind{}, name{}, formula{}, stage{}, bound{}, algorithm{};
  double flops = 0, weight_bytes = 0, kv_read_bytes = 0, kv_write_bytes = 0, act_bytes = 0,
         bytes = 0, t_s = 0;
};

using report::Cell;
using LineColumn = report::ColumnOf<Line>;
const std::array kLineColumns = {
    LineColumn{"kind", "op, stage, collective or total", 10, [](const Line& l) { return Cell::of(l.kind); }},
    LineColumn{"name", "op / stage / collective name", 20, [](const Line& l) { return Cell::of(l.name); }},
    LineColumn{"formula", "the formula's name (docs/variants.md)", 24, [](const Line& l) { return Cell::of(l.formula); }},
    LineColumn{"stage", "stage the op runs in", 10, [](const Line& l) { return Cell::of(l.stage); }},
    LineColumn{"flops", "FLOPs", 10, [](const Line& l) { return Cell::of(l.flops); }},
    LineColumn{"weight_bytes", "weight bytes read", 10, [](const Line& l) { return Cell::of(l.weight_bytes); }},
    LineColumn{"kv_read_bytes", "KV cache bytes read", 10, [](const Line& l) { return Cell::of(l.kv_read_bytes); }},
    LineColumn{"kv_write_bytes", "KV cache bytes written", 10, [](const Line& l) { return Cell::of(l.kv_write_bytes); }},
    LineColumn{"act_bytes", "activation bytes (collectives: message bytes)", 10, [](const Line& l) { return Cell::of(l.act_bytes); }},
    LineColumn{"bytes", "all bytes", 10, [](const Line& l) { return Cell::of(l.bytes); }},
    LineColumn{"intensity_flop_per_byte", "flops / bytes (0: no bytes of its own, see its stage)", 10, [](const Line& l) { return Cell::of(model::intensity(l.flops, l.bytes)); }},
    LineColumn{"t_s", "time (stages, collectives, total)", 10, [](const Line& l) { return Cell::of(l.t_s); }},
    LineColumn{"bound", "memory, compute, overhead or communication", 8, [](const Line& l) { return Cell::of(l.bound); }},
    LineColumn{"algorithm", "collective algorithm", 8, [](const Line& l) { return Cell::of(l.algorithm); }},
};

std::string change_text(const std::optional<BoundChange>& c, std::string_view axis,
                        std::string_view range) {
  if (!c) return fmt::format("no {} {} changes it", axis, range);
  return fmt::format("{}-bound at {} {} {}", model::to_string(c->to), axis, c->below ? "<=" : ">=",
                     c->at);
}

std::string roofline_text(const Row& r) {
  const RidgeInfo ridge = ridge_info(*r.hw, r.point.dtypes.act);
  std::string s = fmt::format(
      "\nroofline: effective ridge {:.4g} FLOP/B = peak {:.4g} FLOP/s x {:.3g} / (HBM {:.4g} B/s x "
      "{:.3g}); datasheet ridge {:.4g} FLOP/B\n",
      ridge.effective_flop_per_byte, r.hw->peak_flops_per_s(r.point.dtypes.act),
      r.hw->efficiency.tensor, r.hw->hbm_bytes_per_s, r.hw->efficiency.hbm,
      ridge.datasheet_flop_per_byte);
  const std::string q_range = fmt::format("up to {}", std::min(kMaxSearchQTokens, r.point.ctx_len_min));
  const std::string ctx_range = fmt::format("from {} to {}", r.point.q_tokens, kMaxSearchContext);
  const bool ragged = r.point.ctx_len_min != r.point.ctx_len_max;
  const auto changes = [&](const std::optional<BoundChange>& q, const std::optional<BoundChange>& c) {
    return fmt::format("{}; {}", change_text(q, "q_tokens", q_range),
                       ragged ? std::string("context not searched (a ragged batch)")
                              : change_text(c, "ctx_len", ctx_range));
  };
  for (const StagePosition& pos : stage_positions(r)) {
    const model::StageEstimate& st = r.stage(pos.stage);
    s += fmt::format("  {:<11} {:>9.4g} FLOP/B, {}-bound: {}\n", model::to_string(st.stage),
                     st.intensity, model::to_string(st.bound),
                     changes(pos.by_q_tokens, pos.by_context));
    if (!st.calibration.empty())  // the calibrated label can differ from the ridge's
      s += fmt::format("  {:<11} plain roofline {}-bound: {}\n", "", model::to_string(roofline_bound(st)),
                       changes(pos.roofline_by_q_tokens, pos.roofline_by_context));
  }
  return s;
}

// The whole model's step: each part with its layers, time, share and bound, then TPOT and tokens/s.
std::string step_text(const Row& r, report::TimeUnit unit) {
  const double per = report::seconds_per(unit);
  const std::string_view u = report::suffix(unit);
  const model::StepEstimate& st = r.step;
  const model::DecodePoint& p = r.point;
  std::string s = fmt::format("\nwhole model, one decode step on one device ({} devices: tp {} x dp_attention {}, ep {}):\n",
                              p.devices(), p.tp, p.dp_attention, p.ep);
  s += fmt::format("{:<11} {:>6} {:>11} {:>11} {:>11} {:>11} {:>7}  {}\n", "part", "layers", "FLOPs", "weight B",
                   fmt::format("t_comm {}", u), fmt::format("t {}", u), "share", "bound");
  for (const model::StepPart& part : st.parts) {
    if (part.layers == 0) continue;
    s += fmt::format("{:<11} {:>6} {:>11.4g} {:>11.4g} {:>11.4g} {:>11.4g} {:>6.1f}%  {}{}\n", model::to_string(part.id),
                     part.layers, part.flops, part.weight_bytes, part.t_comm_s / per, part.t_s / per, 100 * part.share,
                     model::to_string(part.bound),
                     part.id == model::StepPartId::attention ? "" : (part.calibrated ? " (calibrated GEMMs)" : " (uncalibrated roofline defaults)"));
  }
  s += fmt::format("t_step = {:.4g} {} (TPOT), {:.4g} tokens/s per GPU, {:.4g} tokens/s for the {} devices; bound: {}\n",
                   st.t_step_s / per, u, st.tokens_per_s_per_gpu, st.tokens_per_s, p.devices(), model::to_string(st.bound));
  if (!st.ffn_modelled)
    s += "(the model describes no FFN/MoE or LM head: t_step is its attention blocks alone)\n";
  else
    s += "(FFN/MoE: routed experts touched under uniform routing, model/ffn.h; norms in each layer's part; embedding lookup not modelled)\n";
  return s;
}

// Why the weights take what they take: the format and how the layout spreads the experts.
std::string capacity_why(const Row& r) {
  const model::DecodePoint& p = r.point;
  const ModelEntry& m = *r.model;
  if (!m.body.ffn) return fmt::format("(weights: {} in {}, other_params / tp; no FFN description to place by layout)\n",
                                      m.name, model::to_string(p.dtypes.weight));
  std::string how;
  if (m.body.ffn->moe) {
    const model::FfnLayout l{.tp = p.tp, .ep = p.ep, .dp = p.dp_attention};
    how = fmt::format("EP {}: {} of the {} routed experts per device group, {}", p.ep,
                      m.body.ffn->moe->n_routed / std::max<int64_t>(p.ep, 1), m.body.ffn->moe->n_routed,
                      l.expert_tp() == 1 ? std::string("whole on each device")
                                         : fmt::format("each split over {} devices", l.expert_tp()));
  } else {
    how = "a dense model";
  }
  std::string s = fmt::format("(weights in {}{}; {}; attention, dense MLP layers, shared experts and LM head split over tp {}; "
                              "routers and norms replicated)\n",
                              model::to_string(p.dtypes.weight), p.dtypes.weight == m.weight_dtype ? " (native)" : " (--weight-dtype)",
                              how, p.tp);
  if (!r.cap.fits) {
    // The whole model's weights against the deployment's memory: does any spread of them fit?
    const double all = (m.variant->weight_params(1) * double(m.n_layers) + m.other_params) * model::bytes_of(p.dtypes.weight);
    const double hbm = r.cap.capacity_bytes - r.cap.reserved_bytes;
    s += fmt::format("(the whole model's weights are {:.4g} GB in {}: {} devices of {:.4g} GB usable hold {:.4g} GB{})\n",
                     all / 1e9, model::to_string(p.dtypes.weight), p.devices(), hbm / 1e9, double(p.devices()) * hbm / 1e9,
                     all > double(p.devices()) * hbm
                         ? fmt::format("; at least {} are needed", int64_t(std::ceil(all / hbm)))
                         : std::string("; this layout replicates or fills too much per device: try a larger --tp or --ep"));
  }
  return s;
}

std::string explain_text(const Row& r, report::TimeUnit unit) {
  const model::DecodePoint& p = r.point;
  const double per = report::seconds_per(unit);
  const std::string_view u = report::suffix(unit);
  std::string s;
  s += fmt::format("{} ({}) on {}: tp {}, batch {}, ctx_len {}{}, q_tokens {}, {} form, kv {}, weights {}, act {}\n",
      r.model->name, r.model->variant->label(), r.hw->id, p.tp, p.batch, p.ctx_len_max,
      p.ctx_len_min != p.ctx_len_max ? fmt::format(" (ragged, sum {})", p.ctx_len_sum) : "",
      p.q_tokens, model::to_string(p.form), model::to_string(p.dtypes.kv),
      model::to_string(p.dtypes.weight), model::to_string(p.dtypes.act));
  s += fmt::format("per layer, per device, one decode step\n\n");
  s += fmt::format("{:<22} {:<11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>9}  {}\n", "op", "stage", "FLOPs",
      "weight B", "KV read B", "KV write B", "act B", "FLOP/B", "formula");
  for (int i = 0; i < r.cost.n_ops; ++i) {
    const model::Op& op = r.cost.ops[std::size_t(i)];
    const double ai = op.intensity();
    s += fmt::format("{:<22} {:<11} {:>11.4g} {:>11.4g} {:>11.4g} {:>11.4g} {:>11.4g} {:>9}  {}\n", op.name,
        model::to_string(op.stage), op.flops, op.weight_bytes, op.kv_read_bytes,
        op.kv_write_bytes, op.act_bytes, ai > 0 ? fmt::format("{:.4g}", ai) : "fused", op.formula);
  }
  s += fmt::format("\n{:<11} {:>11} {:>11} {:>9} {:>11} {:>11} {:>11}  {}\n", "stage", "FLOPs", "bytes",
      "FLOP/B", fmt::format("t_mem {}", u), fmt::format("t_math {}", u), fmt::format("t {}", u), "bound");
  for (const model::StageEstimate& st : r.est.stages) {
    s += fmt::format("{:<11} {:>11.4g} {:>11.4g} {:>9.4g} {:>11.4g} {:>11.4g} {:>11.4g}  {}\n",
        model::to_string(st.stage), st.flops, st.bytes, st.intensity, st.t_mem_s / per,
        st.t_math_s / per, st.t_s / per, model::to_string(st.bound));
  }
  std::string calibrated, uncalibrated;
  for (const model::StageEstimate& st : r.est.stages)
    (st.calibration.empty() ? uncalibrated : calibrated) +=
        fmt::format("{}{}", (st.calibration.empty() ? uncalibrated : calibrated).empty() ? "" : ", ",
                    model::to_string(st.stage));
  if (!uncalibrated.empty())
    s += fmt::format("({}: t = {:.3g} {} kernel overhead + max(bytes / ({:.4g} B/s x {:.3g}), FLOPs / ({:.4g} FLOP/s x {:.3g})); efficiency {})\n",
        uncalibrated, r.hw->efficiency.kernel_overhead_s / per, u, r.hw->hbm_bytes_per_s, r.hw->efficiency.hbm,
        r.hw->peak_flops_per_s(p.dtypes.act), r.hw->efficiency.tensor,
        r.hw->efficiency.calibrated ? "calibrated" : "uncalibrated default");
  if (!calibrated.empty())
    s += fmt::format("({}: calibrated, {}: attention by the split-KV time model fitted to our decode kernels, "
                     "projections by the per-GEMM fit to cuBLAS at decode shapes; t_mem and t_math are the "
                     "plain roofline's, for reference)\n",
                     calibrated, r.hw->calibration->source);
  if (r.est.stages[1].calibration.empty())
    s += "(attention: uncalibrated roofline; no calibration profile applies to this hardware, form or variant)\n";
  s += roofline_text(r);
  if (r.est.n_comm == 0) {
    s += fmt::format("\ncollectives: none{}\n", p.tp == 1 ? " (tp = 1)" : "");
  } else {
    s += fmt::format("\n{:<24} {:<15} {:>11} {:>5} {:>11} {:<9} {:>11}  {}\n", "collective", "kind", "elems",
        "count", "bytes", "algorithm", fmt::format("t {}", u), "formula");
    for (int i = 0; i < r.est.n_comm; ++i) {
      const model::CommEstimate& c = r.est.comm[std::size_t(i)];
      s += fmt::format("{:<24} {:<15} {:>11.4g} {:>5} {:>11.4g} {:<9} {:>11.4g}  {}\n", c.collective.name,
          model::to_string(c.collective.kind), c.collective.elems, c.collective.count, c.bytes,
          c.algorithm, c.t_s / per, c.collective.formula);
    }
    s += "(collectives: uncalibrated alpha-beta model from the hardware profile; no multi-GPU machine has been measured)\n";
  }
  s += fmt::format("\nKV per token per layer: {} elements ({:g} d_h), {:.6g} B; attention weights {:.6g} params\n",
      r.cost.kv_elems_per_token, r.kv_d_h_multiple(), r.kv_bytes_per_token(), r.cost.weight_params);
  s += fmt::format("t_layer = {:.4g} {} (compute {:.4g} {} + communication {:.4g} {}), bound: {}\n",
      r.est.t_layer_s / per, u, r.est.t_compute_s / per, u, r.est.t_comm_s / per, u,
      model::to_string(r.est.bound));
  s += step_text(r, unit);
  const model::Capacity& c = r.cap;
  s += fmt::format("\nmemory per device (whole model): weights {:.4g} GB + KV {:.4g} GB + reserve {:.4g} GB = "
      "{:.4g} GB of {:.4g} GB: {}\n",
      c.weight_bytes / 1e9, c.kv_bytes / 1e9, c.reserved_bytes / 1e9, c.total_bytes / 1e9,
      c.capacity_bytes / 1e9, c.fits ? "fits" : "does NOT fit");
  s += capacity_why(r);
  s += fmt::format("max batch at ctx_len {}: {}; max ctx_len at batch {}: {}\n", p.ctx_len_max, c.max_batch,
      p.batch, c.max_ctx_len);
  return s;
}

void run(Options o, const CLI::App& app, const Context& ctx) {
  const report::Format format = report::parse_format(o.format, "--format");
  const report::TimeUnit time_unit = report::parse_time_unit(o.time_unit, "--time-unit");
  o.point.batch_given = app.count("--batch") > 0;
  o.point.context_given = app.count("--context") > 0;
  report::Output out(o.out, "-o");  // a refused -o costs no work
  const ExplainResult result = explain_point(o.point);
  const Row* row = result.row.get();
  const model::Hardware& hw = *result.hardware[0];

  if (format == report::Format::table) {
    out.write(explain_text(*row, time_unit));
  } else if (format == report::Format::json) {
    nlohmann::json j = {{"schema_version", report::kSchemaVersion},
                        {"report", "explain"},
                        {"provenance", report::provenance(ctx.command_line)},
                        {"inputs", explain_inputs_json(result)},
                        {"hardware", hw.to_json()}};
    j.update(explain_json(*row));
    out.write(j.dump(2));
    out.write("\n");
  } else {
    std::vector<Line> lines;
    for (int i = 0; i < row->cost.n_ops; ++i) {
      const model::Op& op = row->cost.ops[std::size_t(i)];
      lines.push_back(Line{.kind = "op", .name = op.name, .formula = op.formula,
                           .stage = model::to_string(op.stage), .flops = op.flops,
                           .weight_bytes = op.weight_bytes, .kv_read_bytes = op.kv_read_bytes,
                           .kv_write_bytes = op.kv_write_bytes, .act_bytes = op.act_bytes,
                           .bytes = op.bytes()});
    }
    for (const model::StageEstimate& s : row->est.stages) {
      lines.push_back(Line{.kind = "stage", .name = model::to_string(s.stage),
                           .stage = model::to_string(s.stage), .bound = model::to_string(s.bound),
                           .flops = s.flops, .bytes = s.bytes, .t_s = s.t_s});
    }
    for (int i = 0; i < row->est.n_comm; ++i) {
      const model::CommEstimate& c = row->est.comm[std::size_t(i)];
      lines.push_back(Line{.kind = "collective", .name = c.collective.name,
                           .formula = c.collective.formula, .bound = "communication",
                           .algorithm = c.algorithm, .act_bytes = c.bytes, .bytes = c.bytes,
                           .t_s = c.t_s});
    }
    lines.push_back(Line{.kind = "total", .name = "layer", .bound = model::to_string(row->est.bound),
                         .flops = row->cost.flops(), .bytes = row->cost.bytes(),
                         .t_s = row->est.t_layer_s});
    report::write_rows<Line>(out, format, kLineColumns, lines);
  }
  out.commit();
}

}  // namespace explain_command

Runner setup_explain(CLI::App& app, const Context& ctx) {
  auto o = std::make_shared<explain_command::Options>();
  add_point_options(app, o->point, false);
  app.add_option("--format", o->format, "table, csv (one line per op/stage/collective) or json")
      ->capture_default_str();
  app.add_option("--time-unit", o->time_unit,
                 "unit of the table's times: s, ms or us; CSV and JSON stay in seconds")
      ->capture_default_str();
  app.add_option("-o,--out", o->out, "write to FILE (atomically) instead of stdout");
  app.footer(
      "Examples:\n"
      "  attnroof explain --preset llama3_70b --tp 8 --batch 16 --context 32k\n"
      "  attnroof explain --preset dsv3_mla --tp 8 --batch 64 --context 128k --time-unit us\n"
      "  attnroof explain --preset llama3_70b --contexts 1000,8000,128k --hardware h200\n"
      "  attnroof explain --variant gqa --config '{\"d_model\":4096,\"q_heads\":32,\"kv_heads\":8,\"d_head\":128}' --tp 4\n"
      "  attnroof explain --preset llama3_70b --format json -o point.json\n"
      "  attnroof explain --preset dsv3_mlra4 --tp 8 --batch 16 --context 128k --hardware h200\n"
      "  attnroof explain --preset dsv3_mla --tp 1 --dp-attention 8 --ep 8 --batch 32 --context 4k --hardware h200\n"
      "Everything is per layer, per device, one decode step, except the whole-step and capacity lines.");
  return [o, &app, &ctx] { explain_command::run(*o, app, ctx); };
}

}  // namespace attnroof::cli

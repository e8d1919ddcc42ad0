#include "studies/report/sweep_columns.h"

#include <array>

#include "model/registry.h"

namespace attnroof::report {

namespace {

using cli::Row;
using model::Stage;

Cell txt(std::string_view s) { return Cell::of(s); }
Cell num(double v) { return Cell::of(v); }
Cell integer(int64_t v) { return Cell::of(v); }

const std::array kColumns = {
    SweepColumn{"model", "preset name, or the variant id for --variant/--config", 16,
                [](const Row& r) { return txt(r.model->name); }},
    SweepColumn{"label", "display label (a study's name for the model; default = model)", 16,
                [](const Row& r) { return txt(r.model->label); }},
    SweepColumn{"variant", "variant id (`attnroof variants`)", 6,
                [](const Row& r) { return txt(model::to_string(r.model->variant->id())); }},
    SweepColumn{"hardware", "hardware profile id", 9, [](const Row& r) { return txt(r.hw->id); }},
    SweepColumn{"form", "absorbed or materialized", 8,
                [](const Row& r) { return txt(model::to_string(r.point.form)); }},
    SweepColumn{"kv_dtype", "KV cache storage format", 4,
                [](const Row& r) { return txt(model::to_string(r.point.dtypes.kv)); }},
    SweepColumn{"weight_dtype", "weight storage format", 4,
                [](const Row& r) { return txt(model::to_string(r.point.dtypes.weight)); }},
    SweepColumn{"act_dtype", "activation / compute format (selects the peak FLOP/s)", 4,
                [](const Row& r) { return txt(model::to_string(r.point.dtypes.act)); }},
    SweepColumn{"tp", "tensor-parallel degree", 3, [](const Row& r) { return integer(r.point.tp); }},
    SweepColumn{"batch", "sequences in the decode step", 5,
                [](const Row& r) { return integer(r.point.batch); }},
    SweepColumn{"ctx_len", "keys attended by the longest sequence (new tokens included)", 8,
                [](const Row& r) { return integer(r.point.ctx_len_max); }},
    SweepColumn{"ctx_len_sum", "sum of ctx_len over the batch (cache rows read)", 8,
                [](const Row& r) { return integer(r.point.ctx_len_sum); }},
    SweepColumn{"q_tokens", "query tokens per sequence per step (1 = plain decode)", 3,
                [](const Row& r) { return integer(r.point.q_tokens); }},
    SweepColumn{"n_layers", "layers in the model (per-model columns)", 3,
                [](const Row& r) { return integer(r.model->n_layers); }},
    SweepColumn{"kv_elems_per_token", "cached elements per token per layer, worst device", 8,
                [](const Row& r) { return num(r.cost.kv_elems_per_token); }},
    SweepColumn{"kv_d_h_multiple", "kv_elems_per_token / d_head (the papers' '4.5 d_h')", 6,
                [](const Row& r) { return num(r.kv_d_h_multiple()); }},
    SweepColumn{"kv_bytes_per_token", "kv_elems_per_token x kv_dtype bytes", 8,
                [](const Row& r) { return num(r.kv_bytes_per_token()); }},
    SweepColumn{"weight_params", "attention weight parameters per layer on the device", 9,
                [](const Row& r) { return num(r.cost.weight_params); }},
    SweepColumn{"weight_bytes", "weight_params x weight_dtype bytes", 9,
                [](const Row& r) { return num(r.weight_bytes()); }},
    SweepColumn{"kv_read_bytes", "KV cache bytes read this step, per layer per device", 9,
                [](const Row& r) { return num(r.cost.kv_read_bytes()); }},
    SweepColumn{"flops", "FLOPs of every op this step, per layer per device", 9,
                [](const Row& r) { return num(r.cost.flops()); }},
    SweepColumn{"bytes", "HBM bytes of every op (weights, KV read and written, activations)", 9,
                [](const Row& r) { return num(r.cost.bytes()); }},
    SweepColumn{"intensity_flop_per_byte", "flops / bytes", 7,
                [](const Row& r) { return num(r.cost.bytes() > 0 ? r.cost.flops() / r.cost.bytes() : 0.0); }},
    SweepColumn{"attention_flops", "FLOPs of the attention stage (the decode kernel)", 9,
                [](const Row& r) { return num(r.stage(Stage::attention).flops); }},
    SweepColumn{"attention_bytes", "HBM bytes of the attention stage", 9,
                [](const Row& r) { return num(r.stage(Stage::attention).bytes); }},
    SweepColumn{"attention_intensity_flop_per_byte", "attention_flops / attention_bytes", 7,
                [](const Row& r) { return num(r.stage(Stage::attention).intensity); }},
    SweepColumn{"attention_flop_per_s", "attention_flops / t_attention_s (predicted achieved rate)", 9,
                [](const Row& r) {
                  const auto& s = r.stage(Stage::attention);
                  return num(s.t_s > 0 ? s.flops / s.t_s : 0.0);
                }},
    SweepColumn{"t_projection_s", "projection stage time (overhead + max(memory, math))", 9,
                [](const Row& r) { return num(r.stage(Stage::projection).t_s); }},
    SweepColumn{"t_attention_s", "attention stage time: the decode kernel alone", 9,
                [](const Row& r) { return num(r.stage(Stage::attention).t_s); }},
    SweepColumn{"t_output_s", "output stage time", 9,
                [](const Row& r) { return num(r.stage(Stage::output).t_s); }},
    SweepColumn{"t_compute_s", "sum of the stage times", 9,
                [](const Row& r) { return num(r.est.t_compute_s); }},
    SweepColumn{"t_comm_s", "collective time (0 at tp = 1; uncalibrated alpha-beta model)", 9,
                [](const Row& r) { return num(r.est.t_comm_s); }},
    SweepColumn{"comm_algorithm", "algorithm of the first collective: ring, one_shot or none", 8,
                [](const Row& r) { return txt(r.comm_algorithm); }},
    SweepColumn{"t_layer_s", "t_compute_s + t_comm_s: one attention block, one step", 9,
                [](const Row& r) { return num(r.est.t_layer_s); }},
    SweepColumn{"bound", "largest term of t_layer_s: memory, compute, overhead, communication", 7,
                [](const Row& r) { return txt(model::to_string(r.est.bound)); }},
    SweepColumn{"attention_bound", "bound of the attention stage", 7,
                [](const Row& r) { return txt(model::to_string(r.stage(Stage::attention).bound)); }},
    SweepColumn{"projection_calibration",
                "the calibration profile that priced t_projection_s and t_output_s (per-GEMM fit), or uncalibrated", 12,
                [](const Row& r) {
                  const std::string_view c = r.stage(Stage::projection).calibration;
                  return txt(c.empty() ? std::string_view("uncalibrated") : c);
                }},
    SweepColumn{"attention_calibration",
                "the calibration profile that priced t_attention_s, or uncalibrated (plain roofline)", 12,
                [](const Row& r) {
                  const std::string_view c = r.stage(Stage::attention).calibration;
                  return txt(c.empty() ? std::string_view("uncalibrated") : c);
                }},
    SweepColumn{"t_attn_per_model_s",
                "t_layer_s x n_layers: attention blocks of the whole model (the attention part of t_step_s)", 9,
                [](const Row& r) { return num(r.t_attn_per_model_s()); }},
    SweepColumn{"weight_bytes_per_model",
                "per device: attention weights x n_layers + the FFN/MoE, embeddings and norms as the layout places them (without an FFN description other_params / tp), in weight_dtype", 9,
                [](const Row& r) { return num(r.cap.weight_bytes); }},
    SweepColumn{"kv_cache_bytes_per_model", "per device: KV cache of the batch over all layers", 9,
                [](const Row& r) { return num(r.cap.kv_bytes); }},
    SweepColumn{"memory_bytes_per_model", "per device: weights + KV cache + the hardware reserve", 9,
                [](const Row& r) { return num(r.cap.total_bytes); }},
    SweepColumn{"memory_capacity_bytes", "the hardware's HBM capacity", 9,
                [](const Row& r) { return num(r.cap.capacity_bytes); }},
    SweepColumn{"fits", "memory_bytes_per_model <= memory_capacity_bytes", 4,
                [](const Row& r) { return Cell::of_bool(r.cap.fits); }},
    SweepColumn{"max_batch", "most sequences of length ctx_len that fit (0: not even one)", 7,
                [](const Row& r) { return integer(r.cap.max_batch); }},
    SweepColumn{"max_ctx_len", "longest context that fits at this batch", 9,
                [](const Row& r) { return integer(r.cap.max_ctx_len); }},
    SweepColumn{"ep", "expert-parallel groups holding the routed experts (1: experts split over TP)", 3,
                [](const Row& r) { return integer(r.point.ep); }},
    SweepColumn{"dp_attention", "attention groups of tp devices, each with its own batch (DP attention)", 3,
                [](const Row& r) { return integer(r.point.dp_attention); }},
    SweepColumn{"devices", "devices of the deployment: tp x dp_attention", 4,
                [](const Row& r) { return integer(r.point.devices()); }},
    SweepColumn{"ffn_modelled", "whether the model describes its FFN/MoE and LM head (else t_step_s is attention only)", 4,
                [](const Row& r) { return Cell::of_bool(r.step.ffn_modelled); }},
    SweepColumn{"t_dense_mlp_s", "dense MLP layers of the whole model, with their all-reduces", 9,
                [](const Row& r) { return num(r.part(model::StepPartId::dense_mlp).t_s); }},
    SweepColumn{"t_moe_s", "MoE layers of the whole model: router, shared and routed experts, all-to-alls", 9,
                [](const Row& r) { return num(r.part(model::StepPartId::moe).t_s); }},
    SweepColumn{"t_lm_head_s", "LM head and its logits all-gather", 9,
                [](const Row& r) { return num(r.part(model::StepPartId::lm_head).t_s); }},
    SweepColumn{"t_step_s", "one decode step of the whole model (TPOT): attention + dense MLP + MoE + LM head", 9,
                [](const Row& r) { return num(r.step.t_step_s); }},
    SweepColumn{"tokens_per_s_per_gpu", "batch x q_tokens / (t_step_s x tp): every query token kept", 9,
                [](const Row& r) { return num(r.step.tokens_per_s_per_gpu); }},
    SweepColumn{"attention_share", "t_attn_per_model_s / t_step_s", 5,
                [](const Row& r) { return num(r.part(model::StepPartId::attention).share); }},
    SweepColumn{"ffn_share", "(t_dense_mlp_s + t_moe_s) / t_step_s", 5,
                [](const Row& r) {
                  return num(r.part(model::StepPartId::dense_mlp).share + r.part(model::StepPartId::moe).share);
                }},
    SweepColumn{"lm_head_share", "t_lm_head_s / t_step_s", 5,
                [](const Row& r) { return num(r.part(model::StepPartId::lm_head).share); }},
    SweepColumn{"ffn_bound", "bound of the MoE layers (dense MLP for a dense model): memory, compute, overhead, communication", 7,
                [](const Row& r) {
                  const auto& moe = r.part(model::StepPartId::moe);
                  const auto& part = moe.layers > 0 ? moe : r.part(model::StepPartId::dense_mlp);
                  return txt(part.layers > 0 ? model::to_string(part.bound) : std::string_view("none"));
                }},
    SweepColumn{"step_bound", "bound of the largest part of t_step_s", 7,
                [](const Row& r) { return txt(model::to_string(r.step.bound)); }},
    SweepColumn{"ffn_weight_bytes_per_step", "FFN/MoE weight bytes read this step on the device, all layers", 9,
                [](const Row& r) {
                  return num(r.part(model::StepPartId::dense_mlp).weight_bytes + r.part(model::StepPartId::moe).weight_bytes);
                }},
    SweepColumn{"ffn_calibration", "calibrated: a profile's per-GEMM fit priced the FFN GEMMs; else the uncalibrated roofline defaults", 12,
                [](const Row& r) {
                  const bool c = r.part(model::StepPartId::moe).calibrated || r.part(model::StepPartId::dense_mlp).calibrated;
                  return txt(c ? std::string_view("calibrated") : std::string_view("uncalibrated"));
                }},
};

}  // namespace

std::span<const SweepColumn> sweep_columns() { return kColumns; }

std::string default_table_columns(std::span<const std::string_view> varying) {
  std::string columns = "model,hardware,tp,batch,ctx_len";
  for (std::string_view v : varying) columns += "," + std::string(v);
  return columns + ",kv_bytes_per_token,t_attention_s,t_comm_s,t_layer_s,bound,t_step_s,tokens_per_s_per_gpu,fits,max_batch";
}

}  // namespace attnroof::report

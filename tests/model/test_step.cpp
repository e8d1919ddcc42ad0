// The whole decode step (model/step.h), from first principles: DeepSeek-V3's weights per device
// at TP 8 and at EP 8 with TP-1 (DP) attention against its published parameter counts, Llama-3-
// 70B's dense FFN bytes per step, the presets' FFN descriptions against their other_params, and
// the parts of t_step_s.
#include <catch2/catch.hpp>

#include <cmath>

#include "model/hardware.h"
#include "model/hf_import.h"
#include "model/presets.h"
#include "model/roofline.h"
#include "model/step.h"

using namespace attnroof::model;

namespace {

DecodePoint point(int64_t tp, int64_t batch, int64_t ctx, int64_t ep = 1, int64_t dp = 1,
                  Dtype weight = Dtype::bf16) {
  DecodePoint p = DecodePoint::uniform(tp, batch, ctx);
  p.ep = ep;
  p.dp_attention = dp;
  p.dtypes.weight = weight;
  return p;
}

// DeepSeek-V3 by hand: 3 dense SwiGLU layers of 18432, 58 MoE layers of 256 routed + 1 shared
// experts of 2048, a 256-way router, 129280 x 7168 untied embeddings, two RMSNorms per layer.
constexpr double kD = 7168;
constexpr double kDense = 3 * kD * 18432;
constexpr double kExpert = 3 * kD * 2048;
constexpr double kRouter = kD * 256;
constexpr double kEmbeddings = 2 * 129280 * kD;
constexpr double kNorms = 61 * 2 * kD + kD;

}  // namespace

TEST_CASE("DeepSeek-V3 presets: fp8 native, the FFN they describe is their other_params", "[model][step]") {
  const Preset& p = find_preset("dsv3_mla", "test");
  CHECK(p.weight_dtype == Dtype::fp8_e4m3);
  REQUIRE(p.body.ffn);
  REQUIRE(p.body.ffn->moe);
  CHECK(p.body.ffn->moe->n_routed == 256);
  CHECK(p.body.ffn->dense_layers() == 3);
  CHECK(p.body.ffn->moe_layers() == 58);
  CHECK(p.body.vocab == 129280);
  CHECK_FALSE(p.body.tied_embeddings);
  // other_params = FFN + embeddings + norms, exactly.
  CHECK(p.other_params == ffn_params(*p.body.ffn) + p.body.embedding_params() + kNorms);
  // 671B total, 37B activated (model card; the 14B MTP module excluded).
  const double attention = p.variant->weight_params(1) * 61;
  CHECK(attention + p.other_params == Approx(671e9).epsilon(0.005));
  CHECK(attention + ffn_active_params(*p.body.ffn) + p.body.embedding_params() == Approx(37e9).epsilon(0.03));
}

TEST_CASE("every preset with an FFN description: its parts sum to other_params", "[model][step]") {
  int described = 0;
  for (const Preset& p : builtin_presets()) {
    if (!p.body.ffn) continue;
    ++described;
    const double d = double(p.body.ffn->d_model);
    const double norms = double(p.n_layers) * 2 * d + d;  // two RMSNorm gains per layer + final
    INFO(p.name);
    CHECK(ffn_params(*p.body.ffn) + p.body.embedding_params() + norms == Approx(p.other_params).epsilon(1e-12));
  }
  CHECK(described >= 24);  // all but the kernel-benchmark shapes and Step-3
}

TEST_CASE("DeepSeek-V3 weights per device: TP 8, and EP 8 with DP attention", "[model][step]") {
  const Preset& p = find_preset("dsv3_mla", "test");
  const Hardware& h200 = find_hardware("h200_sxm", "test");
  const double attn1 = p.variant->weight_params(1) * 61;
  const double attn8 = p.variant->weight_params(8) * 61;

  // TP 8, EP 1: every FFN matrix split over 8 (routed experts too), the routers and norms
  // replicated, the vocab-parallel embeddings / 8; fp8: 1 byte per weight.
  const DecodePoint tp8 = point(8, 1, 4096, 1, 1, Dtype::fp8_e4m3);
  const Capacity c8 = step_capacity(*p.variant, 61, p.other_params, p.body, tp8, h200);
  const double by_hand8 = attn8 + (3 * kDense + 58 * 257 * kExpert) / 8 + 58 * kRouter + kEmbeddings / 8 + kNorms;
  CHECK(c8.weight_bytes == Approx(by_hand8).epsilon(1e-12));
  // ~ 671B / 8 plus the replicated down projections of MLA: 84.6 GB.
  CHECK(c8.weight_bytes == Approx(84.6e9).epsilon(0.005));
  CHECK(c8.weight_bytes > 671e9 / 8);
  CHECK(c8.fits);

  // EP 8 over 8 devices, attention TP 1 on each (DP attention 8): 32 whole routed experts per
  // device, everything else whole on every device.
  const DecodePoint ep8 = point(1, 1, 4096, 8, 8, Dtype::fp8_e4m3);
  const Capacity e8 = step_capacity(*p.variant, 61, p.other_params, p.body, ep8, h200);
  const double by_hand_ep = attn1 + 3 * kDense + 58 * (32 * kExpert + kExpert + kRouter) + kEmbeddings + kNorms;
  CHECK(e8.weight_bytes == Approx(by_hand_ep).epsilon(1e-12));
  CHECK(e8.weight_bytes == Approx(98.9e9).epsilon(0.005));
  CHECK(e8.fits);  // on an H200 (141 GB)
  CHECK_FALSE(step_capacity(*p.variant, 61, p.other_params, p.body, ep8, find_hardware("h100_sxm", "test")).fits);

  // bf16 weights double it: the README's 350.8 GB at TP 4 was this with bf16.
  const DecodePoint tp4_bf16 = point(4, 16, 131072, 1, 1, Dtype::bf16);
  const Preset& mlra = find_preset("dsv3_mlra4", "test");
  const Capacity c4 = step_capacity(*mlra.variant, 61, mlra.other_params, mlra.body, tp4_bf16, h200);
  CHECK(c4.weight_bytes / 1e9 == Approx(350.8).epsilon(0.002));
  CHECK_FALSE(c4.fits);
  DecodePoint tp4_fp8 = tp4_bf16;
  tp4_fp8.dtypes.weight = Dtype::fp8_e4m3;
  CHECK(step_capacity(*mlra.variant, 61, mlra.other_params, mlra.body, tp4_fp8, h200).weight_bytes ==
        Approx(c4.weight_bytes / 2).epsilon(1e-12));
}

TEST_CASE("Llama-3-70B: the dense FFN bytes and time of one decode step", "[model][step]") {
  const Preset& p = find_preset("llama3_70b", "test");
  Hardware hw = find_hardware("h100_sxm", "test");
  hw.calibration.reset();  // the labelled roofline defaults
  for (const int64_t tp : {1, 8}) {
    const DecodePoint pt = point(tp, 16, 8192);
    const Cost attention = p.variant->decode_cost(pt);
    const StepEstimate s = step_estimate(attention, estimate(attention, pt, hw), p.body, 80, pt, hw);
    const StepPart& mlp = s.part(StepPartId::dense_mlp);
    // 80 x 3 x 8192 x 28672 bf16 = 112.7 GB over tp, and 2 FLOPs per weight per token.
    CHECK(mlp.weight_bytes == Approx(80 * 3 * 8192.0 * 28672 * 2 / double(tp)).epsilon(1e-12));
    CHECK(mlp.flops == Approx(2 * 16 * 80 * 3 * 8192.0 * 28672 / double(tp)).epsilon(1e-12));
    CHECK(mlp.layers == 80);
    CHECK(mlp.bound == Bound::memory);  // 16 tokens: far below the ridge
    // At least its bytes over the derated bandwidth; at most that plus the overheads and comm.
    const double t_bytes = mlp.bytes / (hw.hbm_bytes_per_s * hw.efficiency.hbm);
    CHECK(mlp.t_s >= t_bytes);
    CHECK(mlp.t_s <= t_bytes + 80 * 2 * hw.efficiency.kernel_overhead_s + mlp.t_comm_s + 1e-12);
    CHECK((tp == 1 ? mlp.t_comm_s == 0 : mlp.t_comm_s > 0));
    // LM head: 128256 x 8192 over tp.
    CHECK(s.part(StepPartId::lm_head).weight_bytes == Approx(128256.0 * 8192 * 2 / double(tp)));
    CHECK(s.part(StepPartId::moe).layers == 0);
    // The step is its parts; tokens per GPU per second = batch / (t_step x tp).
    double sum = 0, shares = 0;
    for (const StepPart& part : s.parts) {
      sum += part.t_s;
      shares += part.share;
    }
    CHECK(s.t_step_s == Approx(sum));
    CHECK(shares == Approx(1));
    CHECK(s.part(StepPartId::attention).t_s == Approx(estimate(attention, pt, hw).t_layer_s * 80));
    CHECK(s.tokens_per_s_per_gpu == Approx(16 / (s.t_step_s * double(tp))));
    // Decode of a 70B dense model at batch 16 is its FFN's weights, mostly.
    CHECK(mlp.share > 0.5);
    CHECK(mlp.share > s.part(StepPartId::attention).share);
  }
}

TEST_CASE("MoE step: EP all-to-alls, DP attention tokens at the experts, and layout problems", "[model][step]") {
  const Preset& p = find_preset("dsv3_mla", "test");
  Hardware hw = find_hardware("h200_sxm", "test");
  hw.calibration.reset();
  const FfnShape& f = *p.body.ffn;
  // EP 8, DP attention 8 of 32 sequences each: the experts see 256 tokens, a device 256 x 8 / 8
  // token-expert pairs of its 32 experts.
  const DecodePoint ep = point(1, 32, 4096, 8, 8, Dtype::fp8_e4m3);
  const Cost moe = ffn_layer_cost(f, true, ep);
  CHECK(moe.flops_of("routed_experts") == Approx(2.0 * 256 * 8 / 8 * kExpert));
  CHECK(moe.flops_of("shared_experts") == Approx(2.0 * 32 * kExpert));
  REQUIRE(moe.n_collectives == 1);  // tp 1: no all-reduce, the dispatch and combine only
  CHECK(moe.collectives[0].kind == CollectiveKind::all_to_all);
  CHECK(moe.collectives[0].count == 2);
  CHECK(moe.collectives[0].group == 8);
  CHECK(moe.collectives[0].elems == Approx(32.0 * 8 * kD));
  const Estimate e = estimate(moe, ep, hw);
  CHECK(e.t_comm_s > 0);
  // Touched experts: 32 x (1 - (1 - 8/256)^256) on each device.
  double routed_bytes = 0;
  for (int i = 0; i < moe.n_ops; ++i)
    if (moe.ops[std::size_t(i)].name == "routed_experts") routed_bytes = moe.ops[std::size_t(i)].weight_bytes;
  CHECK(routed_bytes == Approx(32 * (1 - std::pow(1 - 8.0 / 256, 256)) * kExpert));
  // A measured skew (half the experts hot) reads half.
  const Cost skewed = ffn_layer_cost(f, true, ep, 0.5);
  double skewed_bytes = 0;
  for (int i = 0; i < skewed.n_ops; ++i)
    if (skewed.ops[std::size_t(i)].name == "routed_experts") skewed_bytes = skewed.ops[std::size_t(i)].weight_bytes;
  CHECK(skewed_bytes == Approx(16 * kExpert));

  // TP 8, EP 1: one all-reduce over the 8 devices, experts split 8 ways.
  const DecodePoint tp8 = point(8, 32, 4096, 1, 1, Dtype::fp8_e4m3);
  const Cost moe_tp = ffn_layer_cost(f, true, tp8);
  REQUIRE(moe_tp.n_collectives == 1);
  CHECK(moe_tp.collectives[0].kind == CollectiveKind::all_reduce);
  CHECK(moe_tp.collectives[0].group == 8);
  CHECK(moe_tp.flops_of("routed_experts") == Approx(2.0 * 32 * 8 * kExpert / 8));

  // The whole step at the EP layout: per-GPU throughput counts one group's batch over its tp.
  const Cost attention = p.variant->decode_cost(ep);
  const StepEstimate s = step_estimate(attention, estimate(attention, ep, hw), p.body, 61, ep, hw);
  CHECK(s.part(StepPartId::moe).layers == 58);
  CHECK(s.part(StepPartId::dense_mlp).layers == 3);
  CHECK(s.tokens_per_s_per_gpu == Approx(32 / s.t_step_s));
  CHECK(s.tokens_per_s == Approx(256 / s.t_step_s));
  CHECK(s.part(StepPartId::attention).t_comm_s == 0);  // attention at TP 1

  // Layout problems.
  CHECK(step_problems(p.body, point(1, 1, 64, 8, 8)).empty());
  CHECK(step_problems(p.body, point(1, 1, 64, 3, 3)).size() == 1);  // 3 does not divide 256
  CHECK(step_problems(find_preset("llama3_70b", "test").body, point(8, 1, 64, 8)).size() == 1);
  CHECK(point(8, 1, 64, 3).check().size() == 1);  // 3 does not divide the 8 devices
}

TEST_CASE("import-hf describes the FFN, the vocabulary and fp8 weights as the builtin presets do", "[model][step]") {
  const std::string dir = std::string(ATTNROOF_SOURCE_DIR) + "/tests/model/data/hf/";
  const Preset v3 = import_hf_file(dir + "deepseek_v3.json", "2026-12-02").preset;
  const Preset& builtin = find_preset("dsv3_mla", "test");
  CHECK(v3.weight_dtype == Dtype::fp8_e4m3);  // quantization_config quant_method fp8
  REQUIRE(v3.body.ffn);
  REQUIRE(v3.body.ffn->moe);
  CHECK(v3.body.ffn->moe->top_k == 8);
  CHECK(v3.body.ffn->moe->n_shared == 1);
  CHECK(v3.body.ffn->first_dense_layers == 3);
  CHECK(ffn_params(*v3.body.ffn) == ffn_params(*builtin.body.ffn));
  CHECK(v3.body.embedding_params() == builtin.body.embedding_params());
  const Preset l70 = import_hf_file(dir + "llama3_1_70b.json", "2026-12-02").preset;
  REQUIRE(l70.body.ffn);
  CHECK_FALSE(l70.body.ffn->moe);
  CHECK(l70.body.ffn->dense.d_ff == 28672);
  CHECK(l70.weight_dtype == Dtype::bf16);
  CHECK(ffn_params(*l70.body.ffn) == ffn_params(*find_preset("llama3_70b", "test").body.ffn));
}

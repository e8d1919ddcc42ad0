#include "model/step.h"

#include <fmt/format.h>

#include <algorithm>

#include "model/error.h"

namespace attnroof::model {

double ModelBody::embedding_params() const {
  if (!ffn || vocab <= 0) return 0;
  return double(tied_embeddings ? 1 : 2) * double(vocab) * double(ffn->d_model);
}

namespace {

MlpKind parse_mlp_kind(ObjectReader& r, const char* key) {
  const std::string k = r.get_string(key, "gated");
  if (k == "gated") return MlpKind::gated;
  if (k == "plain") return MlpKind::plain;
  r.fail(key, fmt::format("{} = '{}' is unknown; known: gated (SwiGLU/GeGLU: gate, up, down), plain "
                          "(up, down)",
                          key, excerpt(k)));
}

FfnLayout layout_of(const DecodePoint& p, std::optional<double> touched_fraction) {
  return FfnLayout{.tp = p.tp, .ep = p.ep, .dp = p.dp_attention, .touched_fraction = touched_fraction};
}

}  // namespace

ModelBody parse_model_body(ObjectReader& r, int64_t d_model, int64_t n_layers) {
  ModelBody b;
  if (r.has("ffn")) {
    ObjectReader f = r.get_object("ffn");
    FfnShape s;
    s.d_model = d_model;
    s.n_layers = n_layers;
    if (f.has("moe")) {
      ObjectReader m = f.get_object("moe");
      MoeShape moe;
      moe.n_routed = m.get_positive_int("n_routed");
      moe.top_k = m.get_positive_int("top_k");
      moe.n_shared = m.get_int("n_shared", 0);
      if (moe.n_shared < 0) m.fail("n_shared", "must be >= 0");
      moe.d_expert = m.get_positive_int("d_expert");
      moe.kind = parse_mlp_kind(m, "mlp");
      if (moe.top_k > moe.n_routed) {
        m.fail("top_k", fmt::format("top_k = {} exceeds n_routed = {}", moe.top_k, moe.n_routed));
      }
      m.finish();
      s.moe = moe;
      s.first_dense_layers = f.get_int("first_dense_layers", 0);
      if (s.first_dense_layers < 0 || s.first_dense_layers > n_layers) {
        f.fail("first_dense_layers",
               fmt::format("first_dense_layers = {} must be in [0, n_layers = {}]", s.first_dense_layers, n_layers));
      }
    }
    // A dense width is needed by dense models and by the leading dense layers of an MoE model.
    if (!s.moe || s.first_dense_layers > 0 || f.has("d_ff")) s.dense.d_ff = f.get_positive_int("d_ff");
    s.dense.kind = parse_mlp_kind(f, "mlp");
    f.finish();
    b.ffn = s;
  }
  b.vocab = r.get_int("vocab", 0);
  if (b.vocab < 0) r.fail("vocab", "must be >= 0");
  if (b.vocab > 0 && !b.ffn) r.fail("vocab", "needs an \"ffn\" description beside it (the step's other parts)");
  b.tied_embeddings = r.get_bool("tied_embeddings", false);
  return b;
}

Cost ffn_layer_cost(const FfnShape& f, bool moe_layer, const DecodePoint& p,
                    std::optional<double> touched_fraction) {
  const FfnLayout l = layout_of(p, touched_fraction);
  const FfnLayerStep s = ffn_layer_step(f, moe_layer, p.tokens(), l);
  const double wb = bytes_of(p.dtypes.weight), ab = bytes_of(p.dtypes.act);
  const double tokens = p.tokens(), d = double(f.d_model);
  Cost c;
  const auto gemm = [&](std::string_view name, std::string_view formula, const FfnPartStep& part,
                        double rows) {
    c.add(Op{.name = name, .formula = formula, .stage = Stage::projection, .flops = part.flops,
             .weight_bytes = part.weight_params * wb, .act_bytes = 2 * rows * d * ab});
  };
  const bool moe = moe_layer && f.moe;
  if (!moe) {
    gemm("dense_mlp", "2*T*m*d*d_ff/tp", s.dense, tokens);
  } else {
    gemm("router", "2*T*d*n_routed", s.router, tokens);
    if (f.moe->n_shared > 0) gemm("shared_experts", "2*T*n_shared*m*d*d_e/tp", s.shared, tokens);
    gemm("routed_experts", "2*T*dp*top_k/ep*m*d*d_e/(N/ep)", s.routed,
         tokens * double(p.dp_attention) * double(f.moe->top_k) / double(std::max<int64_t>(p.ep, 1)));
  }
  c.add(Op{.name = "norms_residuals", .formula = "2 RMSNorm+residual: 6*T*d", .stage = Stage::output,
           .act_bytes = 6 * tokens * d * ab});
  const int64_t n = p.devices();
  if (!moe) {
    if (p.tp > 1)
      c.add(Collective{.kind = CollectiveKind::all_reduce, .name = "mlp_all_reduce", .formula = "T*d",
                       .elems = tokens * d, .group = p.tp});
  } else if (p.ep <= 1) {
    if (n > 1)
      c.add(Collective{.kind = CollectiveKind::all_reduce, .name = "moe_all_reduce", .formula = "T*dp*d",
                       .elems = tokens * double(p.dp_attention) * d, .group = n});
  } else {
    c.add(Collective{.kind = CollectiveKind::all_to_all, .name = "moe_dispatch_combine",
                     .formula = "(T/tp)*top_k*d", .elems = tokens / double(p.tp) * double(f.moe->top_k) * d,
                     .count = 2, .group = p.ep});
    if (p.tp > 1)
      c.add(Collective{.kind = CollectiveKind::all_reduce, .name = "moe_tp_all_reduce", .formula = "T*d",
                       .elems = tokens * d, .group = p.tp});
  }
  return c;
}

Cost lm_head_cost(int64_t d_model, int64_t vocab, const DecodePoint& p) {
  const double tokens = p.tokens(), tp = double(p.tp);
  const double params = double(vocab) * double(d_model) / tp;
  Cost c;
  c.add(Op{.name = "lm_head", .formula = "2*T*vocab*d/tp", .stage = Stage::projection,
           .flops = 2 * tokens * params, .weight_bytes = params * bytes_of(p.dtypes.weight),
           .act_bytes = tokens * (double(d_model) + double(vocab) / tp) * bytes_of(p.dtypes.act)});
  if (p.tp > 1)
    c.add(Collective{.kind = CollectiveKind::all_gather, .name = "logits_all_gather", .formula = "T*vocab",
                     .elems = tokens * double(vocab), .group = p.tp});
  return c;
}

std::string_view to_string(StepPartId p) {
  switch (p) {
    case StepPartId::attention: return "attention";
    case StepPartId::dense_mlp: return "dense_mlp";
    case StepPartId::moe: return "moe";
    case StepPartId::lm_head: return "lm_head";
  }
  return "?";
}

namespace {

bool any_calibrated(const Estimate& e) {
  return std::any_of(e.stages.begin(), e.stages.end(),
                     [](const StageEstimate& s) { return !s.calibration.empty(); });
}

StepPart part_of(StepPartId id, int64_t layers, const Cost& c, const Estimate& e) {
  double weight_bytes = 0;
  for (int i = 0; i < c.n_ops; ++i) weight_bytes += c.ops[std::size_t(i)].weight_bytes;
  const double n = double(layers);
  return StepPart{.id = id, .layers = layers, .flops = c.flops() * n, .weight_bytes = weight_bytes * n,
                  .bytes = c.bytes() * n, .t_comm_s = e.t_comm_s * n, .t_s = e.t_layer_s * n,
                  .bound = e.bound, .calibrated = any_calibrated(e)};
}

}  // namespace

StepEstimate step_estimate(const Cost& attention, const Estimate& attention_est, const ModelBody& body,
                           int64_t n_layers, const DecodePoint& p, const Hardware& hw) {
  StepEstimate s;
  for (std::size_t i = 0; i < kAllStepParts.size(); ++i) s.parts[i].id = kAllStepParts[i];
  s.parts[0] = part_of(StepPartId::attention, n_layers, attention, attention_est);
  if (body.ffn) {
    s.ffn_modelled = true;
    const FfnShape& f = *body.ffn;
    if (f.dense_layers() > 0) {
      const Cost c = ffn_layer_cost(f, false, p, body.touched_fraction);
      s.parts[1] = part_of(StepPartId::dense_mlp, f.dense_layers(), c, estimate(c, p, hw));
    }
    if (f.moe_layers() > 0) {
      const Cost c = ffn_layer_cost(f, true, p, body.touched_fraction);
      s.parts[2] = part_of(StepPartId::moe, f.moe_layers(), c, estimate(c, p, hw));
    }
    if (body.vocab > 0) {
      const Cost c = lm_head_cost(f.d_model, body.vocab, p);
      s.parts[3] = part_of(StepPartId::lm_head, 1, c, estimate(c, p, hw));
    }
  }
  double largest = -1;
  for (const StepPart& part : s.parts) {
    s.t_step_s += part.t_s;
    if (part.t_s > largest) {
      largest = part.t_s;
      s.bound = part.bound;
    }
  }
  for (StepPart& part : s.parts) part.share = s.t_step_s > 0 ? part.t_s / s.t_step_s : 0;
  if (s.t_step_s > 0) {
    s.tokens_per_s_per_gpu = p.tokens() / (s.t_step_s * double(p.tp));
    s.tokens_per_s = p.tokens() * double(p.dp_attention) / s.t_step_s;
  }
  return s;
}

Capacity step_capacity(const AttentionVariant& variant, int64_t n_layers, double other_params,
                       const ModelBody& body, const DecodePoint& p, const Hardware& hw) {
  if (!body.ffn) return capacity(variant, n_layers, other_params, p, hw);
  const FfnShape& f = *body.ffn;
  const FfnLayout l = layout_of(p, std::nullopt);
  const double ffn = double(f.dense_layers()) * ffn_layer_resident_params(f, false, l) +
                     double(f.moe_layers()) * ffn_layer_resident_params(f, true, l);
  const double embeddings = body.embedding_params() / double(p.tp);
  // What other_params holds beyond the FFN and the embeddings: norms, replicated.
  const double rest = std::max(0.0, other_params - ffn_params(f) - body.embedding_params());
  return capacity_holding(variant, n_layers, ffn + embeddings + rest, p, hw);
}

std::vector<std::string> step_problems(const ModelBody& body, const DecodePoint& p) {
  std::vector<std::string> out;
  if (p.ep <= 1) return out;
  if (!body.ffn || !body.ffn->moe) {
    out.push_back(fmt::format("ep = {} needs routed experts: the model {}", p.ep,
                              body.ffn ? "has a dense FFN" : "describes no FFN"));
  } else if (body.ffn->moe->n_routed % p.ep != 0) {
    out.push_back(fmt::format("ep = {} does not divide the {} routed experts (whole experts per group)", p.ep,
                              body.ffn->moe->n_routed));
  }
  return out;
}

}  // namespace attnroof::model

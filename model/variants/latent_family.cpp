// The latent-block family's per-device cost (docs/variants.md "Latent family"), shared by
// MLA, GLA, MLRA-2/MLRA-4 and TPLA (each its own section there). Each variant supplies its
// placement at TP t:
// n_t blocks, P (block, head) instances, H_q query heads, and H_o output heads.
//
//   KV/device      n_t d_b + d_R
//   weights        d d_q' + d (n_t d_b + d_R) + d_q' H_q (d_n + d_R) + P d_b (d_n + d_v)
//                  + H_o d_v d
//   FLOPs/device   2 T d d_q'                          q_down_proj  (T = B * q_tokens)
//                + 2 T d (n_t d_b + d_R)               kv_down_proj (writes the new cache rows)
//                + 2 T d_q' H_q (d_n + d_R)            q_up_proj
//     absorbed   + P [ 2 T d_n d_b                     absorb    q~ = q^N W^UK^T
//                    + 2 A (d_b + d_R)                 scores    (A = attended (query, key) pairs)
//                    + 2 A d_b                         value     P . c
//                    + 2 T d_b d_v ]                   unabsorb  W^UV
//     materialized + P [ 2 N d_b (d_n + d_v)           materialize_kv (N = cached rows)
//                    + 2 A (d_n + d_R)                 scores
//                    + 2 A d_v ]                       value
//                + 2 T H_o d_v d                       out_proj
//   comm           1 all-reduce of T*d; with OutProj::sharded and partial outputs, first a
//                  reduce-scatter of T*h*d_v (the head slices land on their W^O owners).
//
// H_o = H_q, except with OutProj::sharded when outputs are partial sums across devices: then h/t.
// KV bytes are the ideal ones: each resident row is read once per step by a fused kernel (V
// aliases the latent row). Implementations that make one kernel call per block re-read k^R
// (docs/variants.md "MLRA", "Open choices"); that is a kernel property, not modelled here.
#include "model/variants/latent_family.h"

#include "model/variants/dense_projections.h"

#include <fmt/format.h>

#include <algorithm>

#include "model/checked_math.h"
#include "model/divisors.h"

namespace attnroof::model {

OutProj read_out_proj(ObjectReader& r) {
  const std::string v = r.get_string("out_proj");
  if (const std::optional<OutProj> o = out_proj_from_string(v)) return *o;
  r.fail("out_proj", fmt::format("out_proj = '{}' is unknown; valid: 'replicated' (option A: W^O "
                                 "replicated, one all-reduce) or 'sharded' (option B: "
                                 "reduce-scatter, then row-parallel W^O and an all-reduce)",
                                 v));
}

std::vector<ConfigKey> latent_keys(std::initializer_list<ConfigKey> own) {
  std::vector<ConfigKey> keys = {
      kKeyDModel,
      kKeyQHeads,
      {"d_q_latent", "query latent rank d_q' (q_lora_rank)", "rank", true},
      {"d_rope", "decoupled RoPE key width d_R, one key shared by every head (qk_rope_head_dim)", "elements", true},
      {"d_nope", "per-head NoPE query/key width d_n (qk_nope_head_dim)", "elements", true},
      {"d_v", "per-head value width (v_head_dim)", "elements", true}};
  keys.insert(keys.end(), own);
  return keys;
}

ConfigKey out_proj_key() {
  return {"out_proj",
          "W^O under TP: 'replicated' (option A: one all-reduce) or 'sharded' (option B: reduce-scatter, "
          "row-parallel W^O, all-reduce)",
          "", true};
}

LatentDims read_latent_common(ObjectReader& r) {
  LatentDims c;
  c.d_model = r.get_positive_int("d_model");
  c.q_heads = r.get_positive_int("q_heads");
  c.d_q_latent = r.get_positive_int("d_q_latent");
  c.d_rope = r.get_positive_int("d_rope");
  c.d_nope = r.get_positive_int("d_nope");
  c.d_v = r.get_positive_int("d_v");
  return c;
}

bool all_heads_blocks_shardable(int64_t q_heads, int64_t n_blocks, int64_t tp) {
  if (tp <= 0) return false;
  if (n_blocks % tp == 0) return true;
  return tp % n_blocks == 0 && q_heads % (tp / n_blocks) == 0;
}

std::vector<int64_t> all_heads_blocks_degrees(int64_t q_heads, int64_t n_blocks) {
  std::vector<int64_t> out = divisors(n_blocks);
  for (int64_t k : divisors(q_heads)) {
    if (const auto t = product_if_fits(n_blocks, k)) out.push_back(*t);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

LatentPlacement all_heads_blocks_placement(int64_t q_heads, int64_t n_blocks, int64_t tp) {
  if (tp <= n_blocks) {
    const int64_t blocks = n_blocks / tp;
    return LatentPlacement{.blocks = blocks,
                           .instances = checked_product(
                               {{"latent blocks on the device", blocks}, {"q_heads", q_heads}},
                               "(block, head) attention instances on a device"),
                           .query_heads = q_heads,
                           .partial_outputs = tp > 1};
  }
  const int64_t heads = q_heads / (tp / n_blocks);
  return LatentPlacement{
      .blocks = 1, .instances = heads, .query_heads = heads, .partial_outputs = true};
}

int64_t LatentFamily::output_heads(int64_t tp) const {
  const LatentPlacement pl = placement(tp);
  if (pl.partial_outputs && out_proj_ == OutProj::sharded) return dims_.q_heads / tp;
  return pl.query_heads;
}

int64_t LatentFamily::kv_elems_per_token(int64_t tp) const {
  constexpr std::string_view what = "cached elements per token (latent blocks and the RoPE key)";
  const int64_t latent = checked_product(
      {{"latent blocks on the device", placement(tp).blocks}, {"d_block", dims_.d_block}}, what);
  return checked_sum({{"blocks x d_block", latent}, {"d_rope", dims_.d_rope}}, what);
}

double LatentFamily::weight_params(int64_t tp) const {
  const LatentPlacement pl = placement(tp);
  const double d = double(dims_.d_model), dq = double(dims_.d_q_latent);
  const double db = double(dims_.d_block), dr = double(dims_.d_rope);
  const double dn = double(dims_.d_nope), dv = double(dims_.d_v);
  return d * dq + d * (double(pl.blocks) * db + dr) + dq * double(pl.query_heads) * (dn + dr) +
         double(pl.instances) * db * (dn + dv) + double(output_heads(tp)) * dv * d;
}

Cost LatentFamily::decode_cost(const DecodePoint& p) const {
  const LatentPlacement pl = placement(p.tp);
  const double d = double(dims_.d_model), dq = double(dims_.d_q_latent);
  const double db = double(dims_.d_block), dr = double(dims_.d_rope);
  const double dn = double(dims_.d_nope), dv = double(dims_.d_v);
  const double n_t = double(pl.blocks), P = double(pl.instances), Hq = double(pl.query_heads);
  const double Ho = double(output_heads(p.tp));
  const double T = p.tokens(), A = p.attended_keys(), N = p.cached_rows();
  const double wb = bytes_of(p.dtypes.weight), kvb = bytes_of(p.dtypes.kv),
               ab = bytes_of(p.dtypes.act);
  const double latent_width = n_t * db;  // resident latent elements per cached row

  Cost cost;
  cost.kv_elems_per_token = double(kv_elems_per_token(p.tp));
  cost.weight_params = weight_params(p.tp);
  cost.add(Op{.name = "q_down_proj",
              .formula = "2*T*d*d_q'",
              .stage = Stage::projection,
              .flops = 2 * T * d * dq,
              .weight_bytes = d * dq * wb,
              .act_bytes = T * (d + dq) * ab});
  cost.add(Op{.name = "kv_down_proj",
              .formula = "2*T*d*(n_t*d_b+d_R)",
              .stage = Stage::projection,
              .flops = 2 * T * d * (latent_width + dr),
              .weight_bytes = d * (latent_width + dr) * wb,
              .kv_write_bytes = T * cost.kv_elems_per_token * kvb,
              .act_bytes = T * d * ab});
  cost.add(Op{.name = "q_up_proj",
              .formula = "2*T*d_q'*H_q*(d_n+d_R)",
              .stage = Stage::projection,
              .flops = 2 * T * dq * Hq * (dn + dr),
              .weight_bytes = dq * Hq * (dn + dr) * wb,
              .act_bytes = T * (dq + Hq * (dn + dr)) * ab});
  if (p.form == Form::absorbed) {
    // One latent block per KV unit, its instances as that unit's query heads; each block's row
    // carries the shared RoPE key (a device with several blocks reads it once per block here).
    cost.attention_kernel = {.present = true,
                             .family = KernelFamily::shared_latent,
                             .q_heads = pl.instances,
                             .kv_heads = pl.blocks,
                             .d_qk = dims_.d_block + dims_.d_rope,
                             .d_v = dims_.d_block};
    cost.add(Op{.name = "absorb",
                .formula = "2*T*P*d_n*d_b",
                .stage = Stage::projection,
                .flops = 2 * T * P * dn * db,
                .weight_bytes = P * dn * db * wb,
                .act_bytes = T * P * (dn + db) * ab});
    cost.add(Op{.name = "scores",
                .formula = "2*A*P*(d_b+d_R)",
                .stage = Stage::attention,
                .flops = 2 * A * P * (db + dr),
                .kv_read_bytes = N * (latent_width + dr) * kvb,
                .act_bytes = T * P * (db + dr) * ab});
    cost.add(Op{.name = "value",
                .formula = "2*A*P*d_b",
                .stage = Stage::attention,
                .flops = 2 * A * P * db,
                .act_bytes = T * P * db * ab});
    cost.add(Op{.name = "unabsorb",
                .formula = "2*T*P*d_b*d_v",
                .stage = Stage::output,
                .flops = 2 * T * P * db * dv,
                .weight_bytes = P * db * dv * wb,
                .act_bytes = T * P * (db + dv) * ab});
  } else {
    // Every cached latent is up-projected to per-instance K^N and V each step, then attended as
    // MHA with head dims (d_n + d_R, d_v); the materialized K/V round-trip through memory.
    cost.add(Op{.name = "materialize_kv",
                .formula = "2*N*P*d_b*(d_n+d_v)",
                .stage = Stage::attention,
                .flops = 2 * N * P * db * (dn + dv),
                .weight_bytes = P * db * (dn + dv) * wb,
                .kv_read_bytes = N * latent_width * kvb,
                .act_bytes = N * P * (dn + dv) * ab});
    cost.add(Op{.name = "scores",
                .formula = "2*A*P*(d_n+d_R)",
                .stage = Stage::attention,
                .flops = 2 * A * P * (dn + dr),
                .kv_read_bytes = N * dr * kvb,
                .act_bytes = (N * P * dn + T * P * (dn + dr)) * ab});
    cost.add(Op{.name = "value",
                .formula = "2*A*P*d_v",
                .stage = Stage::attention,
                .flops = 2 * A * P * dv,
                .act_bytes = (N * P * dv + T * P * dv) * ab});
  }
  if (p.tp > 1 && pl.partial_outputs && out_proj_ == OutProj::sharded) {
    // Option B: sum the branches and land each head slice on its owner before W^O.
    cost.add(Collective{.kind = CollectiveKind::reduce_scatter,
                        .name = "head_output_reduce_scatter",
                        .formula = "T*h*d_v",
                        .elems = T * double(dims_.q_heads) * dv,
                        .count = 1});
  }
  add_row_parallel_output(cost, p, Ho, dv, d, "2*T*H_o*d_v*d");
  return cost;
}

nlohmann::json LatentFamily::config_json() const {
  nlohmann::json j = {{"d_model", dims_.d_model},       {"q_heads", dims_.q_heads},
                      {"d_q_latent", dims_.d_q_latent}, {"d_rope", dims_.d_rope},
                      {"d_nope", dims_.d_nope},         {"d_v", dims_.d_v}};
  add_config_json(j);
  return j;
}

}  // namespace attnroof::model

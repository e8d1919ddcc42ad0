// defines: LatentDims, LatentPlacement, LatentFamily (the shared cost model of the
// latent-block family: MLA, GLA, MLRA-2, MLRA-4, TPLA; docs/variants.md "Latent family")
//
// Every member caches latent blocks of width d_b plus one RoPE key of width d_R shared by all heads
// and replicated on every device. A variant is a set of (block, head) attention instances, each an
// MLA-style attention; the variants differ only in where the instances live under TP, which each
// subclass states as a LatentPlacement. The cost formulas themselves are in latent_family.cpp.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/attention_options.h"
#include "model/attention_variant.h"
#include "model/config_keys.h"
#include "model/json_reader.h"

namespace attnroof::model {

// Model dimensions (never look at tp).
struct LatentDims {
  int64_t d_model = 0;     // d
  int64_t q_heads = 0;     // h
  int64_t d_q_latent = 0;  // d_q': query latent rank (q_lora_rank)
  int64_t d_block = 0;     // d_b: width of one cached latent block
  int64_t n_blocks = 0;    // n_c: latent blocks in the cache (d_c = n_c * d_b)
  int64_t d_rope = 0;      // d_R: decoupled RoPE key/query width (one shared key head)
  int64_t d_nope = 0;      // d_n: per-head NoPE query/key width
  int64_t d_v = 0;         // per-head value width
};

// What one device holds at a TP degree (docs/variants.md "Latent family"), worst device.
struct LatentPlacement {
  int64_t blocks = 0;       // n_t: distinct latent blocks resident on the device
  int64_t instances = 0;    // P: (block, head) attention instances computed on the device
  int64_t query_heads = 0;  // H_q: heads whose queries are formed on the device
  // True when a head's attention output is a sum of instances that live on different devices
  // (MLRA branches, TPLA slices): W^O then either runs on partial sums (replicated rows) or
  // waits for a reduce-scatter (sharded rows); see OutProj.
  bool partial_outputs = false;
};

OutProj read_out_proj(ObjectReader& r);

// Blocks each used by every query head (MLRA-4's 4 blocks, TPLA's g slices). A degree t that
// divides n_blocks gives each device n/t blocks and all h heads on each; t = k n (k | h) replicates
// each block on k devices, each replica taking h/k of the heads. Other degrees cannot shard.
bool all_heads_blocks_shardable(int64_t q_heads, int64_t n_blocks, int64_t tp);
// Every degree that can satisfy the rule above, ascending: the divisors of n_blocks and n_blocks
// times each divisor of q_heads (those within int64). Error messages list valid degrees from it.
std::vector<int64_t> all_heads_blocks_degrees(int64_t q_heads, int64_t n_blocks);
LatentPlacement all_heads_blocks_placement(int64_t q_heads, int64_t n_blocks, int64_t tp);

// The keys every member has (read by read_latent_common) followed by a member's own.
std::vector<ConfigKey> latent_keys(std::initializer_list<ConfigKey> own);
// The out_proj key (read by read_out_proj).
ConfigKey out_proj_key();
// Reads d_model, q_heads, d_q_latent, d_rope, d_nope and d_v (the keys every member has).
LatentDims read_latent_common(ObjectReader& r);

class LatentFamily : public AttentionVariant {
 public:
  LatentFamily(LatentDims dims, OutProj out_proj) : dims_(dims), out_proj_(out_proj) {}

  int64_t d_model() const override { return dims_.d_model; }
  int64_t q_heads() const override { return dims_.q_heads; }
  // KV sizes are quoted in multiples of the per-head NoPE width (128 = d_h in every preset).
  int64_t d_head() const override { return dims_.d_nope; }

  int64_t kv_elems_per_token(int64_t tp) const override;
  double weight_params(int64_t tp) const override;
  Cost decode_cost(const DecodePoint& point) const override;
  nlohmann::json config_json() const override;

  // Precondition: check_tp(tp) is empty.
  virtual LatentPlacement placement(int64_t tp) const = 0;

  // H_o: heads whose W^O rows are on the device.
  int64_t output_heads(int64_t tp) const;

 protected:
  const LatentDims& dims() const { return dims_; }
  OutProj out_proj() const { return out_proj_; }
  // The variant's own keys (n_blocks, groups, out_proj, ...), added to the common ones.
  virtual void add_config_json(nlohmann::json& j) const = 0;

 private:
  LatentDims dims_;
  OutProj out_proj_;
};

}  // namespace attnroof::model

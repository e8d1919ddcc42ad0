// defines: AttentionVariant (the one interface every variant's cost model implements)
//
// Everything is per device at TP degree `tp`, per layer, per decode step. Model-intrinsic
// quantities (dimensions) are fixed at construction; parallelism enters only through the
// DecodePoint / tp arguments. Objects are immutable: every method is a pure function.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/cost.h"
#include "model/decode_point.h"
#include "model/variant_list.h"

namespace attnroof::model {

class AttentionVariant {
 public:
  AttentionVariant() = default;
  AttentionVariant(const AttentionVariant&) = delete;
  AttentionVariant& operator=(const AttentionVariant&) = delete;
  virtual ~AttentionVariant() = default;

  virtual VariantId id() const = 0;
  // Human label with the defining sizes, e.g. "GQA 64q/8kv", "GLA-2", "MLRA-4".
  virtual std::string label() const = 0;
  virtual int64_t d_model() const = 0;
  virtual int64_t q_heads() const = 0;
  // The d_h that KV sizes are quoted in multiples of ("4.5 d_h").
  virtual int64_t d_head() const = 0;

  // Every reason this variant cannot run at TP degree tp (empty = it can), each naming the rule
  // and the valid degrees.
  virtual std::vector<std::string> check_tp(int64_t tp) const = 0;

  // Cached elements per token per layer on the worst device (docs/variants.md "KV formulas").
  // Largest at tp 1, where make_variant evaluates it: a config whose sizes pass the int64 range is
  // an InputError naming its dimensions (model/checked_math.h).
  virtual int64_t kv_elems_per_token(int64_t tp) const = 0;

  // Attention weight parameters per layer on the worst device.
  virtual double weight_params(int64_t tp) const = 0;

  // The step's cost. Precondition: point.check() and check_tp(point.tp) are empty.
  virtual Cost decode_cost(const DecodePoint& point) const = 0;

  // The effective configuration (every dimension and option), echoed into reports.
  virtual nlohmann::json config_json() const = 0;
};

using VariantPtr = std::shared_ptr<const AttentionVariant>;

}  // namespace attnroof::model

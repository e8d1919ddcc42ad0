// defines: Cache, ScoreRecord, RefModel (one variant's attention block, or one TP device's
// part of it), Device, make_ref_model, shard_model, tp_append, tp_decode
//
// Four ways to compute one attention block (docs/architecture.md "kernels/reference/"):
//   forward()            full causal forward over a sequence, K and V materialized (as trained);
//   append() + decode(Form::materialized)
//                        incremental decode: the cache holds exactly what the variant caches,
//                        and K/V are rebuilt from it for each step;
//   append() + decode(Form::absorbed)
//                        no K/V materialization (latent: q absorbed into W_UK, W_UV applied after
//                        attention; TPA/LRKV: factorized scores and values; GTA: FA3 qv trick);
//   shard_model() + tp_append() + tp_decode()
//                        each device holds only its weight and cache shard, computes its partial
//                        output, and the partials are summed as the all-reduce would.
// Shapes: x [L, d_model]; y [L, heads * d_v] (per-head outputs before W^O, branch scale applied);
// out = y * W^O [L, d_model]. Positions are integers; the causal mask follows token order.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kernels/reference/config.h"
#include "kernels/reference/numerics.h"
#include "kernels/reference/weights.h"

namespace attnroof::ref {

// The KV cache of one device for one sequence. parts[k] holds one cached row per token; the
// bytes the reference caches per token are sum_k parts[k].cols() elements (cached_elems_per_token).
// positions and key_valid are metadata (what a kernel gets as ctx_lens / cache_leftpad), not
// cached elements.
template <class T>
struct Cache {
  std::vector<std::string> names;
  std::vector<MatT<T>> parts;  // storage: capacity rows; the first len are valid
  std::vector<int64_t> positions;
  std::vector<char> key_valid;
  int64_t len = 0;

  void add_part(std::string name, int64_t width);
  // rows[k] is the new token's row of part k.
  void append(std::span<const RowT<T>> rows, int64_t pos, bool valid);
  auto part(std::size_t k) const { return parts[k].topRows(len); }
  // Elements actually stored, divided by the tokens stored.
  int64_t cached_elems_per_token() const;
};

// Score tensors of the full forward, per named component (e.g. "h2", "b1.h0.rope",
// "h3.residual"), each [L, L] with the upper (non-causal) triangle zeroed.
template <class T>
struct ScoreRecord {
  std::vector<std::string> names;
  std::vector<MatT<T>> scores;
  void add(std::string name, const MatT<T>& s);
};

template <class T>
struct Device;

template <class T>
class RefModel {
 public:
  RefModel(const RefModel&) = delete;
  RefModel& operator=(const RefModel&) = delete;
  virtual ~RefModel() = default;

  const RefConfig& config() const { return config_; }
  // Global ids of the query heads this (sub-)model computes, in the order of y's segments.
  const std::vector<int64_t>& head_ids() const { return head_ids_; }
  int64_t d_v() const { return d_v_; }
  const MatT<T>& wo() const { return wo_; }  // rows of head_ids() only

  virtual bool has_absorbed() const = 0;
  // Why there is no distinct absorbed form, or what it is.
  virtual std::string absorbed_note() const = 0;

  virtual MatT<T> forward_y(const MatT<T>& x, std::span<const int64_t> pos,
                            std::span<const char> key_valid, ScoreRecord<T>* record) const = 0;
  MatT<T> forward(const MatT<T>& x, std::span<const int64_t> pos, std::span<const char> key_valid,
                  ScoreRecord<T>* record = nullptr) const {
    return forward_y(x, pos, key_valid, record) * wo_;
  }

  virtual Cache<T> new_cache() const = 0;
  virtual void append(Cache<T>& cache, const RowT<T>& x, int64_t pos, bool valid) const = 0;
  // The query is the token appended last (ctx_len includes it).
  virtual RowT<T> decode_y(const Cache<T>& cache, const RowT<T>& x, int64_t pos,
                           Form form) const = 0;
  RowT<T> decode(const Cache<T>& cache, const RowT<T>& x, int64_t pos, Form form) const {
    return decode_y(cache, x, pos, form) * wo_;
  }

  // Every reason the variant cannot be sharded over tp devices (empty = it can).
  virtual std::vector<std::string> check_tp(int64_t tp) const = 0;
  // Device r's weights (sliced copies) per the variant's sharding rules. Precondition:
  // check_tp(tp) is empty and this is the unsharded model.
  virtual std::vector<Device<T>> shard(int64_t tp) const = 0;

 protected:
  // head_ids: the query heads the model computes, each d_v wide in y; wo: their W^O rows.
  RefModel(const RefConfig& config, const Numerics& numerics, std::vector<int64_t> head_ids,
           int64_t d_v, MatT<T> wo)
      : config_(config),
        numerics_(numerics),
        head_ids_(std::move(head_ids)),
        d_v_(d_v),
        wo_(std::move(wo)) {}

  RefConfig config_;
  Numerics numerics_;
  std::vector<int64_t> head_ids_;
  int64_t d_v_ = 0;
  MatT<T> wo_;
};

template <class T>
struct Device {
  std::unique_ptr<RefModel<T>> model;
  // out_proj = sharded: the query heads whose W^O rows this device holds (head-parallel slice)
  // and those rows; the device receives the all-device sum of y for these heads
  // (reduce-scatter) and applies them.
  std::vector<int64_t> owned_heads;
  MatT<T> wo_owned;
};

// T = float builds the precision study's model: weights cast (rounded to bf16 first when
// numerics.bf16_inputs).
template <class T>
std::unique_ptr<RefModel<T>> make_ref_model(const Weights& w, const Numerics& numerics = {});

template <class T>
void tp_append(const std::vector<Device<T>>& devices, std::vector<Cache<T>>& caches,
               const RowT<T>& x, int64_t pos, bool valid);
// Sum of the devices' partial outputs (the all-reduce). out_proj = replicated: each device
// projects its own y with its W^O rows. sharded: y is reduce-scattered to the head owners first.
template <class T>
RowT<T> tp_decode(const std::vector<Device<T>>& devices, const std::vector<Cache<T>>& caches,
                  const RowT<T>& x, int64_t pos, Form form, OutProj out_proj);

// Helpers shared by the variant files.
template <class T>
MatT<T> cast_weight(const Mat& w, const Numerics& n) {
  Mat m = w;
  if (n.bf16_inputs) round_to_bf16_inplace(m);
  return m.cast<T>();
}
// Columns [lo, hi) of every segment of width seg: segments lo..hi-1 concatenated.
template <class T>
MatT<T> take_segments(const MatT<T>& m, int64_t lo, int64_t hi, int64_t seg) {
  return m.middleCols(lo * seg, (hi - lo) * seg);
}
// Query heads lo, lo + 1, ..., hi - 1.
std::vector<int64_t> consecutive_heads(int64_t lo, int64_t hi);
// Every reason the query heads cannot split evenly over tp devices (empty = they can).
std::vector<std::string> check_head_split_ref(int64_t q_heads, int64_t tp);
// The even head split, for the variants whose every per-head weight goes with its query head:
// device r computes query heads [r h/tp, (r+1) h/tp) and holds, and owns, their W^O rows.
// make_model(lo, hi, heads, wo) builds the model of heads [lo, hi) (their ids and W^O rows)
// from the full model's weights. Precondition: check_head_split_ref(q_heads, tp) is empty.
template <class T, class MakeModel>
std::vector<Device<T>> shard_heads(const RefModel<T>& full, int64_t tp, MakeModel make_model) {
  const int64_t per = full.config().q_heads / tp, dv = full.d_v();
  std::vector<Device<T>> out;
  for (int64_t r = 0; r < tp; ++r) {
    const int64_t lo = r * per, hi = lo + per;
    Device<T> d;
    d.owned_heads = consecutive_heads(lo, hi);
    d.wo_owned = full.wo().middleRows(lo * dv, per * dv);
    d.model = make_model(lo, hi, d.owned_heads, d.wo_owned);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace attnroof::ref

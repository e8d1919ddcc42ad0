// defines: add_qkv_projection, add_row_parallel_output (the dense projections that open and close
// the head-parallel variants' decode step)
#pragma once
#include <string_view>

#include "model/cost.h"
#include "model/decode_point.h"

namespace attnroof::model {

// The fused input projection x -> [q | new cache row | ...] of `width` columns per token
// (qkv_proj op, projection stage): reads its weights once, writes the step's new cache rows
// (cost.kv_elems_per_token each, so set that first) and `formula` names the width as the variant
// does ("2*T*d*d_h*(h_t+2*k_t)").
void add_qkv_projection(Cost& cost, const DecodePoint& p, double width, double d_model,
                        std::string_view formula);

// Megatron-style row-parallel W^O (docs/variants.md "TP rules"): the device multiplies the outputs
// of its `heads` heads, each `head_width` wide, by their rows of W^O (out_proj op, output stage),
// and when tp > 1 one all-reduce of T*d sums the devices' partial outputs. `formula` names the
// heads and width as the variant's own formulas do ("2*T*h_t*d_h*d").
void add_row_parallel_output(Cost& cost, const DecodePoint& p, double heads, double head_width,
                             double d_model, std::string_view formula);

}  // namespace attnroof::model

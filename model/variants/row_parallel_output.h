// defines: add_row_parallel_output (the output projection every variant ends with)
#pragma once
#include <string_view>

#include "model/cost.h"
#include "model/decode_point.h"

namespace attnroof::model {

// Megatron-style row-parallel W^O (variants.md §1): the device multiplies the outputs of its
// `heads` heads, each `head_width` wide, by their rows of W^O (out_proj op, output stage), and
// when tp > 1 one all-reduce of T*d sums the devices' partial outputs. `formula` names the heads
// and width as the variant's own formulas do ("2*T*h_t*d_h*d").
void add_row_parallel_output(Cost& cost, const DecodePoint& p, double heads, double head_width,
                             double d_model, std::string_view formula);

}  // namespace attnroof::model

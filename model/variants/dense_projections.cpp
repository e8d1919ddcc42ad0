#include "model/variants/dense_projections.h"

namespace attnroof::model {

void add_qkv_projection(Cost& cost, const DecodePoint& p, double width, double d_model,
                        std::string_view formula) {
  const double T = p.tokens();
  cost.add(Op{.name = "qkv_proj",
              .formula = formula,
              .stage = Stage::projection,
              .flops = 2 * T * d_model * width,
              .weight_bytes = d_model * width * bytes_of(p.dtypes.weight),
              .kv_write_bytes = T * cost.kv_elems_per_token * bytes_of(p.dtypes.kv),
              .act_bytes = T * (d_model + width) * bytes_of(p.dtypes.act)});
}

void add_row_parallel_output(Cost& cost, const DecodePoint& p, double heads, double head_width,
                             double d_model, std::string_view formula) {
  const double T = p.tokens();
  cost.add(Op{.name = "out_proj",
              .formula = formula,
              .stage = Stage::output,
              .flops = 2 * T * heads * head_width * d_model,
              .weight_bytes = heads * head_width * d_model * bytes_of(p.dtypes.weight),
              .act_bytes = T * (heads * head_width + d_model) * bytes_of(p.dtypes.act)});
  if (p.tp > 1) {
    cost.add(Collective{.kind = CollectiveKind::all_reduce,
                        .name = "out_proj_all_reduce",
                        .formula = "T*d",
                        .elems = T * d_model,
                        .count = 1});
  }
}

}  // namespace attnroof::model

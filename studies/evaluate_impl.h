// The template body of for_each_point (included by evaluate.h only).
#pragma once
#include <span>

namespace attnroof::cli {

template <class OnRow, class OnSkip>
uint64_t for_each_point(const Axes& axes, OnRow&& on_row, OnSkip&& on_skip) {
  uint64_t visited = 0;
  Row row;
  for (const ModelEntry& m : axes.models) {
    const std::vector<int64_t> pinned = {m.pinned_tp};
    const std::vector<int64_t>& tps = m.pinned_tp > 0 ? pinned : axes.tp;
    std::vector<std::vector<std::string>> tp_problems;
    tp_problems.reserve(tps.size());
    for (int64_t tp : tps) tp_problems.push_back(m.variant->check_tp(tp));
    for (const model::Hardware* hw : axes.hardware) {
      for (model::Form form : axes.forms) {
        for (model::Dtype kv : axes.kv_dtypes) {
          const std::vector<model::Dtype> native = {m.weight_dtype};
          for (model::Dtype wt : axes.weight_dtypes.empty() ? native : axes.weight_dtypes) {
            for (model::Dtype act : axes.act_dtypes) {
              const bool act_ok = hw->supports(act);
              for (std::size_t ti = 0; ti < tps.size(); ++ti) {
                for (int64_t s : axes.q_tokens) {
                 for (int64_t ep : axes.ep) {
                 for (int64_t dp : axes.dp_attention) {
                  auto visit = [&](model::DecodePoint p) {
                    p.dtypes = model::Dtypes{.kv = kv, .weight = wt, .act = act};
                    p.form = form;
                    p.ep = ep;
                    p.dp_attention = dp;
                    ++visited;
                    // Fast path: nothing wrong with the point (no allocation).
                    if (tp_problems[ti].empty() && act_ok && p.ctx_len_min >= p.q_tokens &&
                        p.batch >= 1 && p.ctx_len_min >= 1 && ep == 1 && dp == 1) {
                      evaluate_point(m, *hw, p, row);
                      on_row(static_cast<const Row&>(row));
                      return;
                    }
                    std::vector<std::string> reasons = point_problems(m, *hw, p);
                    if (reasons.empty()) {  // a layout (ep, dp_attention) that is valid here
                      evaluate_point(m, *hw, p, row);
                      on_row(static_cast<const Row&>(row));
                      return;
                    }
                    on_skip(Skip{.model = &m, .hw = hw, .point = p, .reasons = std::move(reasons)});
                  };
                  if (!axes.ragged_contexts.empty()) {
                    visit(model::DecodePoint::ragged(
                        tps[ti], std::span<const int64_t>(axes.ragged_contexts), s));
                    continue;
                  }
                  for (int64_t b : axes.batch) {
                    for (int64_t ctx : axes.ctx_len) {
                      visit(model::DecodePoint::uniform(tps[ti], b, ctx, s));
                    }
                  }
                 }
                 }
                }
              }
            }
          }
        }
      }
    }
  }
  return visited;
}

}  // namespace attnroof::cli

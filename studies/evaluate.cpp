#include "studies/evaluate.h"

#include <fmt/format.h>

#include <algorithm>

#include "model/checked_math.h"
#include "model/registry.h"

namespace attnroof::cli {

using model::checked_product;
using model::checked_sum;

uint64_t Axes::size() const {
  check_context_totals();
  constexpr std::string_view what = "the sweep's point count";
  const auto count = [](const auto& axis) { return int64_t(axis.size()); };
  const int64_t contexts =
      ragged_contexts.empty()
          ? checked_product({{"batch values", count(batch)}, {"ctx_len values", count(ctx_len)}},
                            what)
          : 1;
  const int64_t per_tp = checked_product({{"hardware", count(hardware)},
                                          {"forms", count(forms)},
                                          {"kv_dtypes", count(kv_dtypes)},
                                          {"weight_dtypes", std::max<int64_t>(count(weight_dtypes), 1)},
                                          {"ep values", count(ep)},
                                          {"dp_attention values", count(dp_attention)},
                                          {"act_dtypes", count(act_dtypes)},
                                          {"q_tokens values", count(q_tokens)},
                                          {"batch x ctx_len values", contexts}},
                                         what);
  int64_t n = 0;
  for (const ModelEntry& m : models) {
    const int64_t tps = m.pinned_tp > 0 ? 1 : count(tp);
    const int64_t points =
        checked_product({{"points per TP degree", per_tp}, {"tp values", tps}}, what);
    n = checked_sum({{"points of the models before", n}, {"points of " + m.name, points}}, what);
  }
  return uint64_t(n);
}

void Axes::check_context_totals() const {
  if (!ragged_contexts.empty()) {
    (void)model::DecodePoint::ragged(1, ragged_contexts);
    return;
  }
  // The largest positive batch and ctx_len form the largest total; non-positive values are
  // points that are skipped, not multiplied.
  const auto largest = [](const std::vector<int64_t>& v) {
    int64_t m = 0;
    for (int64_t x : v) m = std::max(m, x);
    return m;
  };
  (void)model::DecodePoint::uniform(1, largest(batch), largest(ctx_len));
}

nlohmann::json Axes::to_json() const {
  nlohmann::json j;
  j["models"] = nlohmann::json::array();
  for (const ModelEntry& m : models) {
    nlohmann::json e = m.to_json();
    if (m.pinned_tp > 0) e["tp"] = m.pinned_tp;
    j["models"].push_back(e);
  }
  j["hardware"] = nlohmann::json::array();
  for (const model::Hardware* h : hardware) j["hardware"].push_back(h->id);
  auto names = [](const auto& values) {
    nlohmann::json a = nlohmann::json::array();
    for (auto v : values) a.push_back(std::string(model::to_string(v)));
    return a;
  };
  j["form"] = names(forms);
  j["kv_dtype"] = names(kv_dtypes);
  j["weight_dtype"] = weight_dtypes.empty() ? nlohmann::json("native") : names(weight_dtypes);
  j["act_dtype"] = names(act_dtypes);
  j["tp"] = tp;
  j["ep"] = ep;
  j["dp_attention"] = dp_attention;
  j["q_tokens"] = q_tokens;
  if (ragged_contexts.empty()) {
    j["batch"] = batch;
    j["ctx_len"] = ctx_len;
  } else {
    j["ragged_contexts"] = ragged_contexts;
  }
  j["points"] = size();
  return j;
}

double Row::kv_bytes_per_token() const {
  return cost.kv_elems_per_token * model::bytes_of(point.dtypes.kv);
}

double Row::weight_bytes() const {
  return cost.weight_params * model::bytes_of(point.dtypes.weight);
}

double Row::kv_d_h_multiple() const {
  return cost.kv_elems_per_token / double(model->variant->d_head());
}

const model::StageEstimate& Row::stage(model::Stage s) const {
  for (const model::StageEstimate& e : est.stages) {
    if (e.stage == s) return e;
  }
  return est.stages[0];
}

nlohmann::json Skip::to_json() const {
  nlohmann::json j = {{"model", model->name},
                      {"hardware", hw->id},
                      {"tp", point.tp},
                      {"ep", point.ep},
                      {"dp_attention", point.dp_attention},
                      {"batch", point.batch},
                      {"ctx_len", point.ctx_len_max},
                      {"q_tokens", point.q_tokens},
                      {"form", std::string(model::to_string(point.form))},
                      {"kv_dtype", std::string(model::to_string(point.dtypes.kv))},
                      {"weight_dtype", std::string(model::to_string(point.dtypes.weight))},
                      {"act_dtype", std::string(model::to_string(point.dtypes.act))},
                      {"reasons", reasons}};
  return j;
}

std::vector<std::string> point_problems(const ModelEntry& m, const model::Hardware& hw,
                                        const model::DecodePoint& p) {
  std::vector<std::string> problems = p.check();
  for (std::string& s : m.variant->check_tp(p.tp)) problems.push_back(std::move(s));
  for (std::string& s : model::step_problems(m.body, p)) problems.push_back(std::move(s));
  if (!hw.supports(p.dtypes.act)) {
    problems.push_back(fmt::format("act_dtype = {} is not supported on {} (no {} tensor cores)",
                                   model::to_string(p.dtypes.act), hw.id,
                                   model::to_string(p.dtypes.act)));
  }
  return problems;
}

void evaluate_point(const ModelEntry& m, const model::Hardware& hw, const model::DecodePoint& p,
                    Row& row) {
  row.model = &m;
  row.hw = &hw;
  row.point = p;
  row.cost = m.variant->decode_cost(p);
  row.est = model::estimate(row.cost, p, hw);
  row.cap = model::step_capacity(*m.variant, m.n_layers, m.other_params, m.body, p, hw);
  row.step = model::step_estimate(row.cost, row.est, m.body, m.n_layers, p, hw);
  row.comm_algorithm = row.est.n_comm > 0 ? row.est.comm[0].algorithm : std::string_view("none");
}

}  // namespace attnroof::cli

#include "studies/evaluate.h"

#include <fmt/format.h>

#include "model/registry.h"

namespace attnroof::cli {

uint64_t Axes::size() const {
  const uint64_t per_tp = uint64_t(hardware.size()) * forms.size() * kv_dtypes.size() *
                          weight_dtypes.size() * act_dtypes.size() * q_tokens.size() *
                          (ragged_contexts.empty() ? batch.size() * ctx_len.size() : 1);
  uint64_t n = 0;
  for (const ModelEntry& m : models) n += per_tp * (m.pinned_tp > 0 ? 1 : tp.size());
  return n;
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
  j["weight_dtype"] = names(weight_dtypes);
  j["act_dtype"] = names(act_dtypes);
  j["tp"] = tp;
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
  row.cap = model::capacity(*m.variant, m.n_layers, m.other_params, p, hw);
  row.comm_algorithm = row.est.n_comm > 0 ? row.est.comm[0].algorithm : std::string_view("none");
}

}  // namespace attnroof::cli

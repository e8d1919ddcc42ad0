#include "calibrate/fidelity.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "model/error.h"

namespace attnroof::calibrate {

namespace {

std::string shape_key(const DecodeMeasurement& m) {
  return fmt::format("{} h{}/{} d{}/{}", m.kernel, m.q_heads, m.kv_heads, m.d_qk, m.d_v);
}

// Fits `train` and predicts `test` into `out`; a fit that cannot be made is recorded as skipped.
void fit_and_predict(const std::vector<DecodeMeasurement>& train,
                     const std::vector<const DecodeMeasurement*>& test, FidelitySection& out) {
  model::CalibrationProfile profile;
  try {
    profile = calibrate_profile(train);
  } catch (const InputError& e) {
    out.skipped.push_back(fmt::format("{} points not predicted: {}", test.size(), e.what()));
    return;
  }
  for (const DecodeMeasurement* m : test) {
    const RecordPrediction p = predict_record(profile, *m);
    if (!p.prediction) {
      out.skipped.push_back(fmt::format("{}: {}", m->source, p.reason));
      continue;
    }
    out.points.push_back({.record = m,
                          .predicted_s = p.prediction->t_s,
                          .bound = std::string(model::to_string(p.prediction->bound))});
  }
}

std::vector<DecodeMeasurement> copy_of(const std::vector<const DecodeMeasurement*>& v) {
  std::vector<DecodeMeasurement> out;
  out.reserve(v.size());
  for (const DecodeMeasurement* m : v) out.push_back(*m);
  return out;
}

}  // namespace

model::ErrorSummary FidelitySection::summary() const {
  std::vector<double> e;
  for (const FidelityPoint& p : points) e.push_back(std::abs(p.rel_error()));
  return model::summarize_errors(e);
}

std::vector<std::pair<std::string, model::ErrorSummary>> FidelitySection::per_kernel() const {
  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> errors;
  for (const FidelityPoint& p : points) {
    if (!errors.contains(p.record->kernel)) order.push_back(p.record->kernel);
    errors[p.record->kernel].push_back(std::abs(p.rel_error()));
  }
  std::vector<std::pair<std::string, model::ErrorSummary>> out;
  for (const std::string& k : order) out.emplace_back(k, model::summarize_errors(errors[k]));
  return out;
}

FidelitySection predict_all(const model::CalibrationProfile& profile,
                            const std::vector<DecodeMeasurement>& records, std::string name,
                            std::string description) {
  FidelitySection out{.name = std::move(name), .description = std::move(description)};
  for (const DecodeMeasurement& m : records) {
    const RecordPrediction p = predict_record(profile, m);
    if (!p.prediction) {
      out.skipped.push_back(fmt::format("{}: {}", m.source, p.reason));
      continue;
    }
    out.points.push_back({.record = &m,
                          .predicted_s = p.prediction->t_s,
                          .bound = std::string(model::to_string(p.prediction->bound))});
  }
  return out;
}

FidelitySection kfold_held_out(const std::vector<DecodeMeasurement>& records, int folds) {
  if (folds < 2) throw InputError(fmt::format("k-fold: folds = {}: must be >= 2", folds));
  FidelitySection out{.name = "kfold",
                      .description = fmt::format(
                          "{}-fold held-out: the records in a fixed shuffled order (mt19937, seed "
                          "9) dealt into {} folds; each fold predicted by a fit of the others",
                          folds, folds)};
  std::vector<std::size_t> order(records.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(9));
  for (int k = 0; k < folds; ++k) {
    std::vector<const DecodeMeasurement*> train, test;
    for (std::size_t i = 0; i < order.size(); ++i)
      (int(i % std::size_t(folds)) == k ? test : train).push_back(&records[order[i]]);
    fit_and_predict(copy_of(train), test, out);
  }
  return out;
}

FidelitySection extrapolation(const std::vector<DecodeMeasurement>& records, int64_t train_max,
                              int64_t test_min) {
  FidelitySection out{.name = "extrapolation",
                      .description = fmt::format("fit on contexts <= {}, predict contexts >= {}",
                                                 train_max, test_min)};
  std::vector<const DecodeMeasurement*> train, test;
  for (const DecodeMeasurement& m : records) {
    if (m.ctx_len_max() <= train_max) train.push_back(&m);
    if (m.ctx_len_max() >= test_min) test.push_back(&m);
  }
  fit_and_predict(copy_of(train), test, out);
  return out;
}

FidelitySection leave_one_shape_out(const std::vector<DecodeMeasurement>& records) {
  FidelitySection out{.name = "leave_one_shape_out",
                      .description = "each shape (kernel, heads, widths) predicted by a fit of the "
                                     "other shapes of its GPU"};
  std::vector<std::string> shapes;
  for (const DecodeMeasurement& m : records)
    if (std::find(shapes.begin(), shapes.end(), shape_key(m)) == shapes.end())
      shapes.push_back(shape_key(m));
  for (const std::string& shape : shapes) {
    std::vector<const DecodeMeasurement*> train, test;
    for (const DecodeMeasurement& m : records) (shape_key(m) == shape ? test : train).push_back(&m);
    const std::size_t before = out.points.size();
    fit_and_predict(copy_of(train), test, out);
    if (out.points.size() == before)
      out.skipped.push_back(fmt::format("shape {}: no other shape of its family to fit on", shape));
  }
  return out;
}

FidelitySection cross_gpu_transfer(const std::vector<DecodeMeasurement>& from,
                                   const std::vector<DecodeMeasurement>& to, std::string name) {
  FidelitySection out{
      .name = std::move(name),
      .description = fmt::format(
          "fit on {} ({} points), predict {} ({} points): only the target's measured read "
          "ceiling, SM count and the plans its launcher chose change",
          from.empty() ? "?" : from.front().gpu, from.size(), to.empty() ? "?" : to.front().gpu,
          to.size())};
  std::vector<const DecodeMeasurement*> test;
  for (const DecodeMeasurement& m : to) test.push_back(&m);
  fit_and_predict(from, test, out);
  return out;
}

FidelitySection between_files(const MeasurementSet& set) {
  FidelitySection out{.name = "between_calls",
                      .description = "each measurement file (one device call: another machine, "
                                     "another time) predicted by a fit of the other files"};
  if (set.files.size() < 2) return out;
  for (std::size_t f = 0; f < set.files.size(); ++f) {
    std::vector<DecodeMeasurement> train;
    std::vector<const DecodeMeasurement*> test;
    for (std::size_t i = 0; i < set.records.size(); ++i) {
      if (set.file_of[i] == f) test.push_back(&set.records[i]);
      else train.push_back(set.records[i]);
    }
    fit_and_predict(train, test, out);
  }
  return out;
}

FidelitySection external_half_split(const std::vector<DecodeMeasurement>& records) {
  FidelitySection out{.name = "external_half_split",
                      .description = "kernels without a known plan (plan-free form): fit on every "
                                     "other point in (kernel, batch, context) order, predict the "
                                     "rest"};
  std::vector<const DecodeMeasurement*> ext;
  for (const DecodeMeasurement& m : records)
    if (!m.plan.known()) ext.push_back(&m);
  std::stable_sort(ext.begin(), ext.end(), [](const DecodeMeasurement* a, const DecodeMeasurement* b) {
    return std::tuple(a->kernel, a->batch(), a->ctx_len_max(), a->q_heads) <
           std::tuple(b->kernel, b->batch(), b->ctx_len_max(), b->q_heads);
  });
  std::vector<const DecodeMeasurement*> train, test;
  for (std::size_t i = 0; i < ext.size(); ++i) (i % 2 == 0 ? train : test).push_back(ext[i]);
  if (!ext.empty()) fit_and_predict(copy_of(train), test, out);
  return out;
}

nlohmann::json section_json(const FidelitySection& s, bool with_points) {
  nlohmann::json per = nlohmann::json::array();
  for (const auto& [kernel, summary] : s.per_kernel()) {
    nlohmann::json k = summary.to_json();
    k["kernel"] = kernel;
    per.push_back(k);
  }
  nlohmann::json j{{"name", s.name},
                   {"description", s.description},
                   {"summary", s.summary().to_json()},
                   {"per_kernel", per},
                   {"skipped", s.skipped}};
  if (with_points) {
    nlohmann::json pts = nlohmann::json::array();
    for (const FidelityPoint& p : s.points) {
      const DecodeMeasurement& m = *p.record;
      pts.push_back({{"kernel", m.kernel},
                     {"q_heads", m.q_heads},
                     {"kv_heads", m.kv_heads},
                     {"page_size", m.page_size},
                     {"batch", m.batch()},
                     {"ctx_len_max", m.ctx_len_max()},
                     {"ragged", m.ragged()},
                     {"q_tokens", m.q_tokens},
                     {"measured_s", m.time_s},
                     {"predicted_s", p.predicted_s},
                     {"rel_error", p.rel_error()},
                     {"bound", p.bound}});
    }
    j["points"] = pts;
  }
  return j;
}

std::string section_csv(const FidelitySection& s) {
  std::string csv = "kernel,gpu,q_heads,kv_heads,d_qk,d_v,page_size,batch,ctx_len_max,ragged,"
                    "q_tokens,measured_s,predicted_s,rel_error,bound\n";
  for (const FidelityPoint& p : s.points) {
    const DecodeMeasurement& m = *p.record;
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{:.6g},{:.6g},{:.5f},{}\n", m.kernel, m.gpu,
                       m.q_heads, m.kv_heads, m.d_qk, m.d_v, m.page_size, m.batch(), m.ctx_len_max(),
                       m.ragged() ? 1 : 0, m.q_tokens, m.time_s, p.predicted_s, p.rel_error(), p.bound);
  }
  return csv;
}

}  // namespace attnroof::calibrate

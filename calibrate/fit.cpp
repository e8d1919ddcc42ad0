#include "calibrate/fit.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "model/error.h"

namespace attnroof::calibrate {

namespace {

using Predict = std::function<double(const model::WorkFeatures&, const std::vector<double>&)>;

struct Bounds {
  double lo, hi;
};

// Physical ranges: a fit that runs into one says so through its parameter sitting on the bound.
constexpr std::array<Bounds, model::SplitKvParams::kCount> kSplitKvBounds = {{
    {1e-7, 1e-4},    // launch_s
    {1e-9, 1e-4},    // cta_start_s
    {0.05, 1.05},    // bw_efficiency (of the read ceiling measured in the same run)
    {1e9, 1e12},     // sm_bandwidth_Bps
    {1e-8, 1e-4},    // mem_latency_s
    {1e10, 1e14},    // sm_flops_per_s
    {1e-8, 1e-4},    // merge_launch_s
    {1e-9, 1e-4},    // merge_wave_s
    {1e-9, 1e-5},    // merge_step_s (an L2 round trip: ~0.5 us, far below 10 us)
}};
constexpr std::array<Bounds, model::PlanFreeParams::kCount> kPlanFreeBounds = {{
    {1e-7, 1e-3},    // fixed_s
    {1e-11, 1e-4},   // per_sequence_s
    {0.05, 1.5},     // bw_efficiency
    {1e12, 1e16},    // flops_per_s
}};

// Solves A x = b (n <= 8) by Gaussian elimination with partial pivoting; A is positive definite
// here (J^T J + damping), so a zero pivot means a parameter has no effect: it is left alone.
std::vector<double> solve(std::vector<std::vector<double>> a, std::vector<double> b) {
  const std::size_t n = b.size();
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t piv = i;
    for (std::size_t r = i + 1; r < n; ++r)
      if (std::abs(a[r][i]) > std::abs(a[piv][i])) piv = r;
    std::swap(a[i], a[piv]);
    std::swap(b[i], b[piv]);
    if (std::abs(a[i][i]) < 1e-300) continue;
    for (std::size_t r = 0; r < n; ++r) {
      if (r == i) continue;
      const double f = a[r][i] / a[i][i];
      for (std::size_t c = i; c < n; ++c) a[r][c] -= f * a[i][c];
      b[r] -= f * b[i];
    }
  }
  std::vector<double> x(n, 0);
  for (std::size_t i = 0; i < n; ++i) x[i] = std::abs(a[i][i]) < 1e-300 ? 0 : b[i] / a[i][i];
  return x;
}

template <std::size_t N>
FitResult levenberg_marquardt(const std::vector<FitPoint>& points, const Predict& predict,
                              const std::array<Bounds, N>& bounds,
                              const std::vector<std::array<double, N>>& starts) {
  if (points.size() < N)
    throw InputError(fmt::format("calibrate: {} points cannot fit {} parameters; measure more "
                                 "points",
                                 points.size(), N));
  auto clamp_log = [&](std::vector<double>& u) {
    for (std::size_t k = 0; k < N; ++k)
      u[k] = std::clamp(u[k], std::log(bounds[k].lo), std::log(bounds[k].hi));
  };
  auto params_of = [](const std::vector<double>& u) {
    std::vector<double> x(u.size());
    for (std::size_t k = 0; k < u.size(); ++k) x[k] = std::exp(u[k]);
    return x;
  };
  auto residuals = [&](const std::vector<double>& u) {
    const std::vector<double> x = params_of(u);
    std::vector<double> r(points.size());
    for (std::size_t i = 0; i < points.size(); ++i)
      r[i] = std::log(predict(points[i].features, x) / points[i].time_s);
    return r;
  };
  auto cost_of = [](const std::vector<double>& r) {
    double c = 0;
    for (double v : r) c += v * v;
    return c;
  };
  FitResult best;
  best.cost = INFINITY;
  for (const auto& start : starts) {
    std::vector<double> u(N);
    for (std::size_t k = 0; k < N; ++k) u[k] = std::log(start[k]);
    clamp_log(u);
    std::vector<double> r = residuals(u);
    double cost = cost_of(r);
    double lambda = 1e-3;
    int it = 0;
    for (; it < 150; ++it) {
      // Forward-difference Jacobian in log-parameter space.
      std::vector<std::vector<double>> jac(N, std::vector<double>(points.size()));
      for (std::size_t k = 0; k < N; ++k) {
        std::vector<double> uk = u;
        const double h = 1e-6;
        uk[k] += h;
        const std::vector<double> rk = residuals(uk);
        for (std::size_t i = 0; i < points.size(); ++i) jac[k][i] = (rk[i] - r[i]) / h;
      }
      std::vector<std::vector<double>> jtj(N, std::vector<double>(N, 0));
      std::vector<double> jtr(N, 0);
      for (std::size_t a = 0; a < N; ++a) {
        for (std::size_t b = 0; b <= a; ++b) {
          double s = 0;
          for (std::size_t i = 0; i < points.size(); ++i) s += jac[a][i] * jac[b][i];
          jtj[a][b] = jtj[b][a] = s;
        }
        double s = 0;
        for (std::size_t i = 0; i < points.size(); ++i) s += jac[a][i] * r[i];
        jtr[a] = -s;
      }
      bool stepped = false;
      double gain = 0;
      while (lambda < 1e12) {
        std::vector<std::vector<double>> damped = jtj;
        for (std::size_t k = 0; k < N; ++k) damped[k][k] += lambda * std::max(jtj[k][k], 1e-12);
        const std::vector<double> step = solve(damped, jtr);
        std::vector<double> trial = u;
        for (std::size_t k = 0; k < N; ++k) trial[k] += step[k];
        clamp_log(trial);
        const std::vector<double> rt = residuals(trial);
        const double ct = cost_of(rt);
        if (ct < cost) {
          gain = cost - ct;
          u = trial;
          r = rt;
          cost = ct;
          lambda = std::max(lambda / 3, 1e-12);
          stepped = true;
          break;
        }
        lambda *= 4;
      }
      if (!stepped || gain < 1e-9 * std::max(cost, 1e-30)) break;
    }
    if (cost < best.cost) {
      best.cost = cost;
      best.params = params_of(u);
      best.iterations = it;
    }
  }
  return best;
}

double split_kv_time(const model::WorkFeatures& f, const std::vector<double>& x) {
  return model::predict_split_kv(f, model::SplitKvParams::from_array(x)).t_s;
}

double plan_free_time(const model::WorkFeatures& f, const std::vector<double>& x) {
  return model::predict_plan_free(f, model::PlanFreeParams::from_array(x)).t_s;
}

// Starting points: the defaults, with the compute and per-SM bandwidth limits placed low and high (the cost surface has a valley for each limit that binds).
std::vector<std::array<double, model::SplitKvParams::kCount>> split_kv_starts() {
  std::vector<std::array<double, model::SplitKvParams::kCount>> out;
  for (double flops : {3e12, 1e13})
    for (double sm_bw : {20e9, 100e9}) {
      model::SplitKvParams p;
      p.sm_flops_per_s = flops;
      p.sm_bandwidth_Bps = sm_bw;
      out.push_back(p.to_array());
    }
  return out;
}

std::vector<std::array<double, model::PlanFreeParams::kCount>> plan_free_starts() {
  std::vector<std::array<double, model::PlanFreeParams::kCount>> out;
  for (double flops : {3e14, 1e15}) {
    model::PlanFreeParams p;
    p.flops_per_s = flops;
    out.push_back(p.to_array());
  }
  return out;
}

std::string gpu_of(const std::vector<DecodeMeasurement>& records) {
  std::set<std::string> gpus;
  for (const DecodeMeasurement& m : records) gpus.insert(m.gpu);
  if (gpus.size() > 1)
    throw InputError(fmt::format("calibrate: the measurements come from {} GPUs ({}); a profile "
                                 "describes one: calibrate each GPU's files separately",
                                 gpus.size(), fmt::join(gpus, ", ")));
  return *gpus.begin();
}

model::ErrorSummary in_sample(const std::vector<FitPoint>& points, const Predict& predict,
                              const std::vector<double>& x) {
  std::vector<double> e;
  for (const FitPoint& p : points) e.push_back(std::abs(predict(p.features, x) / p.time_s - 1));
  return model::summarize_errors(e);
}

}  // namespace

FitResult fit_split_kv(const std::vector<FitPoint>& points) {
  return levenberg_marquardt(points, split_kv_time, kSplitKvBounds, split_kv_starts());
}

FitResult fit_plan_free(const std::vector<FitPoint>& points) {
  return levenberg_marquardt(points, plan_free_time, kPlanFreeBounds, plan_free_starts());
}

double median_read_ceiling(const std::vector<DecodeMeasurement>& records) {
  std::vector<double> c;
  for (const DecodeMeasurement& m : records)
    if (m.read_ceiling_Bps > 0) c.push_back(m.read_ceiling_Bps);
  if (c.empty()) return 0;
  std::sort(c.begin(), c.end());
  return c[c.size() / 2];
}

namespace {

std::vector<FitPoint> gemm_points(const std::vector<GemmMeasurement>& gemms, double read_ceiling_Bps) {
  std::vector<FitPoint> out;
  for (const GemmMeasurement& g : gemms) {
    model::WorkFeatures f;
    f.bytes = g.bytes;
    f.flops = g.flops;
    f.batch = double(g.m);
    f.read_ceiling_Bps = read_ceiling_Bps;
    out.push_back({.features = f, .time_s = g.time_s});
  }
  return out;
}

}  // namespace

model::ErrorSummary gemm_half_split(const std::vector<GemmMeasurement>& gemms, double read_ceiling_Bps) {
  std::vector<GemmMeasurement> sorted = gemms;
  std::stable_sort(sorted.begin(), sorted.end(), [](const GemmMeasurement& a, const GemmMeasurement& b) {
    return std::tuple(a.k, a.n, a.m) < std::tuple(b.k, b.n, b.m);
  });
  std::vector<GemmMeasurement> train, test;
  for (std::size_t i = 0; i < sorted.size(); ++i) (i % 2 == 0 ? train : test).push_back(sorted[i]);
  const FitResult fit = fit_plan_free(gemm_points(train, read_ceiling_Bps));
  return in_sample(gemm_points(test, read_ceiling_Bps), plan_free_time, fit.params);
}

model::CalibrationProfile calibrate_profile(const std::vector<DecodeMeasurement>& records,
                                            double read_ceiling_Bps,
                                            const std::vector<GemmMeasurement>& gemms) {
  if (records.empty()) throw InputError("calibrate: no measurement records");
  model::CalibrationProfile profile;
  profile.gpu = gpu_of(records);
  profile.read_ceiling_Bps = read_ceiling_Bps > 0 ? read_ceiling_Bps : median_read_ceiling(records);
  if (!(profile.read_ceiling_Bps > 0))
    throw InputError("calibrate: no record carries the read ceiling measured in its run "
                     "(read_ceiling_Bps); pass --read-ceiling B/s (a streaming-read measurement "
                     "on the same GPU)");
  std::map<model::KernelFamily, std::vector<const DecodeMeasurement*>> own;
  std::map<std::string, std::vector<const DecodeMeasurement*>> external;
  for (const DecodeMeasurement& m : records) {
    if (m.plan.known()) {
      own[m.family].push_back(&m);
      profile.sm_count = m.plan.sm_count;
    } else {
      external[m.kernel].push_back(&m);
    }
  }
  if (profile.sm_count == 0) profile.sm_count = 132;  // only plan-free fits: unused
  {
    std::vector<double> clocks;
    for (const DecodeMeasurement& m : records)
      if (m.sm_clock_mhz > 0) clocks.push_back(m.sm_clock_mhz);
    std::sort(clocks.begin(), clocks.end());
    profile.typical_sm_clock_mhz = clocks.empty() ? 0 : clocks[clocks.size() / 2];
  }
  auto point_of = [&](const DecodeMeasurement& m) {
    model::DecodeWork w = to_work(m);
    if (read_ceiling_Bps > 0 || !(w.read_ceiling_Bps > 0)) w.read_ceiling_Bps = profile.read_ceiling_Bps;
    return FitPoint{.features = model::work_features(w), .time_s = m.time_s};
  };
  for (const auto& [family, recs] : own) {
    std::vector<FitPoint> points;
    std::map<std::string, std::vector<FitPoint>> per_kernel;
    model::FamilyCalibration c;
    c.family = family;
    for (const DecodeMeasurement* m : recs) {
      points.push_back(point_of(*m));
      per_kernel[m->kernel].push_back(points.back());
      if (c.kernel(m->kernel) == nullptr)
        c.kernels.push_back({.kernel = m->kernel, .family = family, .d_qk = m->d_qk, .d_v = m->d_v,
                             .tile_m = m->plan.tile_m, .tile_n = m->plan.tile_n,
                             .stages = m->plan.stages, .ctas_per_sm = m->plan.ctas_per_sm});
    }
    const FitResult fit = fit_split_kv(points);
    c.params = model::SplitKvParams::from_array(fit.params);
    c.fit = in_sample(points, split_kv_time, fit.params);
    for (model::KernelCalibration& k : c.kernels) {
      const std::vector<FitPoint>& kp = per_kernel[k.kernel];
      if (int64_t(kp.size()) < model::kMinPointsPerParam * int64_t(model::SplitKvParams::kCount)) continue;
      const FitResult own_fit = fit_split_kv(kp);
      k.fitted = true;
      k.params = model::SplitKvParams::from_array(own_fit.params);
      k.fit = in_sample(kp, split_kv_time, own_fit.params);
    }
    profile.families.push_back(std::move(c));
  }
  for (const auto& [kernel, recs] : external) {
    std::vector<FitPoint> points;
    model::ExternalCalibration c;
    c.kernel = kernel;
    c.family = recs.front()->family;
    for (const DecodeMeasurement* m : recs) {
      if (m->family != c.family)
        throw InputError(fmt::format("calibrate: kernel '{}' is listed as both {} and {} ({})",
                                     kernel, model::to_string(c.family), model::to_string(m->family),
                                     m->source));
      points.push_back(point_of(*m));
    }
    const FitResult fit = fit_plan_free(points);
    c.params = model::PlanFreeParams::from_array(fit.params);
    c.fit = in_sample(points, plan_free_time, fit.params);
    profile.external.push_back(std::move(c));
  }
  if (!gemms.empty()) {
    const std::vector<FitPoint> points = gemm_points(gemms, profile.read_ceiling_Bps);
    const FitResult fit = fit_plan_free(points);
    profile.projection.present = true;
    profile.projection.params = model::PlanFreeParams::from_array(fit.params);
    profile.projection.fit = in_sample(points, plan_free_time, fit.params);
  }
  return profile;
}

RecordPrediction predict_record(const model::CalibrationProfile& profile,
                                const DecodeMeasurement& record) {
  RecordPrediction out;
  model::DecodeWork work = to_work(record);
  if (!(work.read_ceiling_Bps > 0)) work.read_ceiling_Bps = profile.read_ceiling_Bps;
  if (record.plan.known()) {
    out.form = "split_kv";
    const model::FamilyCalibration* fam = profile.family(record.family);
    if (fam == nullptr) {
      out.reason = fmt::format("the profile has no {} fit", model::to_string(record.family));
      return out;
    }
    out.prediction = model::predict_split_kv(model::work_features(work), fam->params_for(record.kernel));
    return out;
  }
  out.form = "plan_free";
  const model::ExternalCalibration* ext = profile.external_kernel(record.kernel);
  if (ext == nullptr) {
    out.reason = fmt::format("the profile has no plan-free fit of kernel '{}'", record.kernel);
    return out;
  }
  out.prediction = model::predict_plan_free(model::work_features(work), ext->params);
  return out;
}

nlohmann::json noise_floor(const std::vector<DecodeMeasurement>& records) {
  std::map<std::string, std::vector<double>> by_point;
  std::vector<double> within;
  for (const DecodeMeasurement& m : records) {
    const std::string key =
        fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", m.gpu, m.kernel, m.q_heads, m.kv_heads, m.d_qk,
                    m.page_size, m.q_tokens, fmt::join(m.ctx_lens, ";"));
    by_point[key].push_back(m.time_s);
    if (m.time_s_min > 0 && m.time_s_max > 0) within.push_back((m.time_s_max - m.time_s_min) / m.time_s);
  }
  std::vector<double> between;
  for (const auto& [key, times] : by_point)
    for (std::size_t i = 1; i < times.size(); ++i) between.push_back(std::abs(times[i] / times[0] - 1));
  nlohmann::json j{{"within_runs_max_minus_min_over_median", model::summarize_errors(within).to_json()}};
  j["between_passes_abs_rel_difference"] = model::summarize_errors(between).to_json();
  j["note"] = between.empty()
                  ? "every point was measured once: no spread between passes is known"
                  : "the same point measured in different passes of one call (interleaved order)";
  return j;
}

}  // namespace attnroof::calibrate

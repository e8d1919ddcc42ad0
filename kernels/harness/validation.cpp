#include "kernels/harness/validation.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "kernels/harness/check_support.h"
#include "kernels/cuda_util/cuda_check.h"
#include "kernels/harness/decode_check.h"
#include "kernels/harness/layer_check.h"
#include "model/error.h"

namespace attnroof::kernels {

nlohmann::json run_kernel_validation(const ValidationOptions& o) {
  // A shape name that is not in the grid, or a filter that keeps nothing, is a typo: say so
  // rather than validating zero cases and passing.
  std::vector<std::string> known_shapes;
  for (const CheckCase& c : validation_grid(false))
    if (std::find(known_shapes.begin(), known_shapes.end(), c.shape) == known_shapes.end())
      known_shapes.push_back(c.shape);
  for (const std::string& s : o.shapes)
    if (std::find(known_shapes.begin(), known_shapes.end(), s) == known_shapes.end())
      throw InputError(fmt::format("--shapes: '{}' is not a shape of the grid; valid: {}", s,
                                   fmt::join(known_shapes, ", ")));
  // The cases of a grid that --shapes and --filter keep.
  const auto selected_cases = [&](bool reduced) {
    std::vector<CheckCase> kept;
    for (const CheckCase& c : validation_grid(reduced)) {
      const bool shape_ok = o.shapes.empty() ||
                            std::find(o.shapes.begin(), o.shapes.end(), c.shape) != o.shapes.end();
      if (shape_ok && (o.filter.empty() || describe(c).find(o.filter) != std::string::npos))
        kept.push_back(c);
    }
    return kept;
  };
  const std::vector<CheckCase> grid = selected_cases(o.reduced);
  std::vector<LayerCheckCase> layers;
  if (o.layer_check)
    for (const LayerCheckCase& c : layer_check_grid(o.reduced))
      if (o.filter.empty() || describe_layer(c).find(o.filter) != std::string::npos)
        layers.push_back(c);
  if (grid.empty() && layers.empty())
    throw InputError(fmt::format("no case matches{}{}; `attnroof validate-kernels --list` shows them",
                                 o.shapes.empty() ? "" : fmt::format(" --shapes {}", fmt::join(o.shapes, ",")),
                                 o.filter.empty() ? "" : fmt::format(" --filter '{}'", o.filter)));
  if (o.list_only) {
    nlohmann::json list = nlohmann::json::array();
    for (const CheckCase& c : grid) list.push_back(describe(c));
    for (const LayerCheckCase& c : layers) list.push_back(describe_layer(c));
    return nlohmann::json{{"cases", list}};
  }
  const int threads = check_threads(o.cpu_threads);
  if (!cuda_device_available()) throw CudaError("run_kernel_validation: no CUDA device");
  const uint64_t seed = o.seed.value_or(std::random_device{}());
  cudaDeviceProp prop{};
  ATTNROOF_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  auto say = [&](const std::string& line) {
    if (o.progress) o.progress(line);
  };

  const auto t0 = std::chrono::steady_clock::now();
  int n_pass = 0, n_fail = 0;
  nlohmann::json cases = nlohmann::json::array(), layer_json = nlohmann::json::array(),
                 alternative_json = nlohmann::json::array();
  const auto check = [&](const std::string& tag, const CheckCase& c, uint64_t case_seed,
                         const KernelChoice& choice, nlohmann::json& into) {
    const CheckResult r = run_check(c, case_seed, threads, choice);
    (r.passed ? n_pass : n_fail)++;
    say(fmt::format("{:>4} {:<4} {:<58} splits {:>4}  err-u {:.2e} tol {:.2e}  lse {:.1e}  rel {:.1e}"
                    "{}{}",
                    tag, r.passed ? "ok" : "FAIL", describe(r.c), r.plan.n_splits, r.out.max_excess,
                    r.out.tolerance, r.out.max_lse_err, r.out.rel_l2,
                    r.partials_checked ? fmt::format("  part {:.1e}/{:.1e}", r.partials.max_err,
                                                     r.partials.tolerance)
                                       : "",
                    r.passed ? "" : "  <- " + r.failure));
    into.push_back(check_result_json(r));
  };
  for (std::size_t i = 0; i < grid.size(); ++i)
    check(std::to_string(i), grid[i], seed + i, o.choice, cases);
  if (o.alternatives && o.choice.alternative == 0) {
    // The reduced grid's cases that the filters keep, with each alternative plan.
    const std::vector<CheckCase> reduced = selected_cases(true);
    for (int alternative = 1; alternative <= kernel_alternatives(); ++alternative) {
      KernelChoice choice = o.choice;
      choice.alternative = alternative;
      for (std::size_t i = 0; i < reduced.size(); ++i)
        check(fmt::format("a{}.{}", alternative, i), reduced[i], seed + 2000 * alternative + i,
              choice, alternative_json);
    }
    // The mma.sync latent kernels the warpgroup-MMA ones replace on compute capability 9.0 (the
    // plans of every other GPU).
    if (o.choice.wgmma) {
      KernelChoice choice = o.choice;
      choice.wgmma = false;
      for (std::size_t i = 0; i < reduced.size(); ++i)
        if (reduced[i].family == KernelFamily::shared_latent)
          check(fmt::format("nw.{}", i), reduced[i], seed + 9000 + i, choice, alternative_json);
    }
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerCheckResult r = run_layer_check(layers[i], seed + 1000 + i, threads);
    (r.passed ? n_pass : n_fail)++;
    say(fmt::format("L{:<3} {:<4} {:<58} err {:.2e} tol {:.2e} (rel {:.1e}, harness {:.1e}){}", i,
                    r.passed ? "ok" : "FAIL", describe_layer(r.c), r.max_err, r.tolerance,
                    r.rel_err, r.harness_rel_err, r.passed ? "" : "  <- " + r.failure));
    layer_json.push_back(layer_check_json(r));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return nlohmann::json{
      {"gpu", prop.name},
      {"seed", seed},
      {"reduced", o.reduced},
      {"tolerance_rule",
       fmt::format("every element |o-ref| - u(o) <= {} * max|o_emu-ref| + {}, u(o) half a bf16 ulp "
                   "at o (the kernel's own output rounding; o_emu: the same bf16 inputs on the CPU "
                   "with fp32 accumulation and the kernel's bf16 roundings of P and o); "
                   "max|lse-ref| <= {}; no NaN/Inf; rows without keys give o == 0, lse == -inf. "
                   "Split partials (where checked: fp32, u = 0) and the MLRA-4 layer output "
                   "(through the float64 W^UV / branch-sum / W^O finish, u = 0) follow the same rule",
                   kToleranceEmuFactor, kToleranceAbs, kToleranceLse)},
      {"reference",
       "ref::decode_reference / decode_reference_split (kernels/reference, float64); layer: "
       "RefModel::decode(Form::absorbed) of an MLRA-4 layer from ref::init_weights"},
      {"passed", n_pass},
      {"failed", n_fail},
      {"seconds", secs},
      {"cases", cases},
      {"layer_checks", layer_json},
      {"alternative_cases", alternative_json}};
}

}  // namespace attnroof::kernels

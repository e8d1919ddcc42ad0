// bench_kernels: a thin wrapper over run_kernel_benchmark (benchmark.h): the device's ceilings,
// then every benchmark decode shape over layout, batch and context, the kernels' targets scored
// (benchmark.cpp), and every timed point as a measurement record (calibrate/measurement.h).
//   bench_kernels --out DIR [--reduced] [--shapes a,b] [--batches 1,8,64] [--contexts a,b]
//                 [--ctx-min 1024] [--ctx-max 2097152] [--runs 20] [--warmup 3]
//                 [--layouts paged,contiguous] [--ragged] [--passes N] [--seed N] [--graph-only]
//                 [--gemm-probe] [--max-cache-gb 40] [--skip-ceilings] [--flush clean|dirty]
//                 [--split-len N]
// Writes DIR/bench_kernels.json, DIR/bench_kernels.csv and DIR/measurements.csv; exits 2 on bad
// input (before touching a GPU), 3 on errors.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>

#include "kernels/cuda/benchmark.h"
#include "kernels/cuda/launch_decode.h"
#include "model/error.h"
#include "studies/build_info.h"

int main(int argc, char** argv) {
  using namespace attnroof;
  CLI::App app{"Benchmark the CUDA decode kernels against the measured ceilings and write the "
               "measurement records the time model is fitted to"};
  // A repeated single-value flag takes its last value (gpu-run.sh's CAL_ARGS override the plan);
  // list flags (--batches, --layouts, ...) add up.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  kernels::BenchOptions o;
  o.choice = kernels::KernelChoice::from_environment();
  int64_t seed = int64_t(o.seed);
  // Range checks whose messages read well ("--runs: Value 0 not in range 1 to 2147483647").
  constexpr int kMaxInt = std::numeric_limits<int>::max();
  constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();
  const CLI::Range at_least_1(1, kMaxInt), at_least_0(0, kMaxInt);
  const CLI::Range ctx_range(int64_t(1), int64_t(std::numeric_limits<int32_t>::max()));
  const CLI::Validator positive(
      [](std::string& v) -> std::string {
        char* end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        return end != v.c_str() && *end == '\0' && x > 0 ? "" : "'" + v + "' is not a number > 0";
      },
      "> 0");
  std::string out_dir = "reports/kernels/local";
  bool skip_ceilings = false;
  std::string flush = "clean";
  app.add_option("--out", out_dir, "output folder (bench_kernels.json, bench_kernels.csv, "
                                   "measurements.csv)")
      ->capture_default_str();
  app.add_flag("--reduced", o.reduced,
               "decision grid: 4 shapes x batch 1 x {16K, 128K, 1M} + MLA-128 batch 64 ctx 8K");
  app.add_option("--shapes", o.shapes, "comma list of shape names (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember(kernels::bench_shape_names()));
  app.add_option("--batches", o.batches, "comma list of batch sizes")
      ->delimiter(',')
      ->check(CLI::Range(int64_t(1), int64_t(65535)))
      ->capture_default_str();
  app.add_option("--contexts", o.contexts, "comma list of contexts (default: doubling)")
      ->delimiter(',')
      ->check(ctx_range);
  app.add_option("--q-tokens", o.q_tokens,
                 "comma list of new tokens per sequence (causal among them), each measured at "
                 "every point")
      ->delimiter(',')
      ->check(CLI::Range(int64_t(1), int64_t(kernels::kMaxQTokens)))
      ->capture_default_str();
  app.add_option("--ctx-min", o.ctx_min, "smallest context (doubling up to --ctx-max)")
      ->check(ctx_range)
      ->capture_default_str();
  app.add_option("--ctx-max", o.ctx_max, "largest context")->check(ctx_range)
      ->capture_default_str();
  app.add_option("--runs", o.runs, "timed runs per point (median; >= 20 for reports)")
      ->check(at_least_1)
      ->capture_default_str();
  app.add_option("--warmup", o.warmup, "untimed runs first")->check(at_least_0)
      ->capture_default_str();
  app.add_option("--layouts,--layout", o.layouts,
                 "cache layouts, each measured at every point: paged (shuffled page table), "
                 "contiguous, or paged,contiguous")
      ->delimiter(',')
      ->check(CLI::IsMember({"paged", "contiguous"}))
      ->capture_default_str();
  app.add_flag("--ragged", o.ragged,
               "for every batch > 1 also a ragged batch: lengths uniform in [ctx/8, ctx], one "
               "exactly ctx (seeded by --seed, shape, batch and ctx)");
  app.add_option("--passes", o.passes,
                 "measure every point this many times, each pass in a new shuffled order (drift "
                 "shows as a difference between passes)")
      ->check(at_least_1)
      ->capture_default_str();
  app.add_option("--seed", seed, "seed of the point order and of the ragged lengths")
      ->check(CLI::Range(int64_t(0), kMaxI64))
      ->capture_default_str();
  app.add_flag("--graph-only", o.graph_only,
               "time through CUDA-graph replay only, no per-call CUDA events (half the device time)");
  app.add_flag("--gemm-probe", o.gemm_probe,
               "also time the decode projection GEMMs (cublasGemmEx bf16, M 1..128 x 9 weight "
               "shapes) into gemm_records");
  app.add_option("--max-cache-gb", o.max_cache_gb, "skip points whose cache exceeds this")
      ->check(positive)
      ->capture_default_str();
  app.add_flag("--skip-ceilings", skip_ceilings,
               "do not measure ceilings (quick runs; records then carry read_ceiling_Bps 0)");
  app.add_option("--flush", flush,
                 "L2 flush before each run: clean (read sweep) or dirty (memset; the timed run "
                 "pays the write-back)")
      ->check(CLI::IsMember({"clean", "dirty"}))
      ->capture_default_str();
  app.add_option("--split-len", o.split_len,
                 "keys per split instead of the planned split (tuning; 0: planned)")
      ->check(CLI::Range(int64_t(0), int64_t(std::numeric_limits<int32_t>::max())));
  app.footer(
      "Example, the calibration plan of scripts/gpu-run.sh calibrate (86 s measured on an "
      "H200):\n"
      "  bench_kernels --out gpu-out/calibrate --batches 1,2,4,8,16,32,64,128 --ctx-min 1024 \\\n"
      "    --ctx-max 2097152 --layouts paged,contiguous --ragged --passes 2 --graph-only \\\n"
      "    --gemm-probe --runs 15 --max-cache-gb 40\n"
      "Exit status 2: bad input (nothing ran); 3: CUDA or other failure.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  std::string command = "bench_kernels";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  o.flush = *calibrate::parse_l2_flush(flush);  // CLI::IsMember checked the name
  o.seed = uint64_t(seed);
  o.ceilings = !skip_ceilings;
  o.commit = std::string(ATTNROOF_GIT_COMMIT) == "unknown"
                 ? std::string()
                 : std::string(ATTNROOF_GIT_COMMIT) + (ATTNROOF_GIT_DIRTY ? "-dirty" : "");
  o.progress = [](const std::string& line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  try {
    kernels::check_bench_options(o);
    nlohmann::json report = kernels::run_kernel_benchmark(o);
    report["command"] = command;
    for (const auto& t : report["targets"])
      fmt::print("target: {:<95} measured {:.3f} (need {:.2f}) {}\n", t["target"].get<std::string>(),
                 t["measured"].get<double>(), t["required"].get<double>(),
                 t["met"].get<bool>() ? "met" : "SHORT");
    std::filesystem::create_directories(out_dir);
    std::ofstream(out_dir + "/bench_kernels.json") << report.dump(1) << "\n";
    std::ofstream(out_dir + "/bench_kernels.csv") << kernels::bench_csv(report);
    std::string measurements;
    try {
      measurements = kernels::bench_measurements_csv(report);
    } catch (const InputError& e) {  // our own record failed its check: a bug, not bad input
      throw std::runtime_error(std::string("a measurement record failed its check: ") + e.what());
    }
    std::ofstream(out_dir + "/measurements.csv") << measurements;
    fmt::print("bench_kernels: {} points, {} records written to {}/\n", report["points"].size(),
               report["records"].size(), out_dir);
    return 0;
  } catch (const InputError& e) {
    std::cerr << "bench_kernels: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bench_kernels: " << e.what() << "\n";
    return 3;
  }
}

// bench_kernels: a thin wrapper over run_kernel_benchmark (benchmark.h): the device's ceilings,
// then every benchmark decode shape over batch and context, and the issue-4 targets scored.
//   bench_kernels --out DIR [--reduced] [--shapes a,b] [--batches 1,8,64] [--contexts a,b]
//                 [--ctx-min 1024] [--ctx-max 2097152] [--runs 20] [--warmup 3]
//                 [--layout paged|contiguous] [--max-cache-gb 40] [--skip-ceilings]
//                 [--flush clean|dirty] [--split-len N]
// Writes DIR/bench_kernels.json and DIR/bench_kernels.csv; exits 2 on bad input, 3 on errors.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "kernels/cuda/benchmark.h"
#include "model/error.h"

int main(int argc, char** argv) {
  using namespace attnroof;
  CLI::App app{"Benchmark the CUDA decode kernels against the measured ceilings"};
  kernels::BenchOptions o;
  std::string out_dir = "reports/kernels/local", layout = "paged";
  bool skip_ceilings = false;
  std::string flush = "clean";
  app.add_option("--out", out_dir, "output folder (JSON + CSV)");
  app.add_flag("--reduced", o.reduced,
               "decision grid: 4 shapes x batch 1 x {16K, 128K, 1M} + MLA-128 batch 64 ctx 8K");
  app.add_option("--shapes", o.shapes, "comma list of shape names (default: all)")->delimiter(',');
  app.add_option("--batches", o.batches, "comma list of batch sizes")->delimiter(',');
  app.add_option("--contexts", o.contexts, "comma list of contexts (default: doubling)")
      ->delimiter(',');
  app.add_option("--ctx-min", o.ctx_min, "smallest context (doubling up to --ctx-max)");
  app.add_option("--ctx-max", o.ctx_max, "largest context");
  app.add_option("--runs", o.runs, "timed runs per point (median; >= 20 for reports)");
  app.add_option("--warmup", o.warmup, "untimed runs first");
  app.add_option("--layout", layout, "paged (shuffled page table) or contiguous")
      ->check(CLI::IsMember({"paged", "contiguous"}));
  app.add_option("--max-cache-gb", o.max_cache_gb, "skip points whose cache exceeds this");
  app.add_flag("--skip-ceilings", skip_ceilings, "do not measure ceilings (quick runs)");
  app.add_option("--flush", flush,
                 "L2 flush before each run: clean (read sweep) or dirty (memset; the timed run "
                 "pays the write-back)")
      ->check(CLI::IsMember({"clean", "dirty"}));
  app.add_option("--split-len", o.split_len,
                 "keys per split instead of the planned split (tuning; 0: planned)");
  CLI11_PARSE(app, argc, argv);
  std::string command = "bench_kernels";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  o.paged = layout == "paged";
  o.flush = *calibrate::parse_l2_flush(flush);  // CLI::IsMember checked the name
  o.ceilings = !skip_ceilings;
  o.progress = [](const std::string& line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  try {
    nlohmann::json report = kernels::run_kernel_benchmark(o);
    report["command"] = command;
    for (const auto& t : report["targets"])
      fmt::print("target: {:<95} measured {:.3f} (need {:.2f}) {}\n", t["target"].get<std::string>(),
                 t["measured"].get<double>(), t["required"].get<double>(),
                 t["met"].get<bool>() ? "met" : "SHORT");
    std::filesystem::create_directories(out_dir);
    std::ofstream(out_dir + "/bench_kernels.json") << report.dump(1) << "\n";
    std::ofstream(out_dir + "/bench_kernels.csv") << kernels::bench_csv(report);
    return 0;
  } catch (const InputError& e) {
    std::cerr << "bench_kernels: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bench_kernels: " << e.what() << "\n";
    return 3;
  }
}

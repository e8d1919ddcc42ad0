// validate_kernels: a thin wrapper over run_kernel_validation (validation.h): every decode kernel
// against the float64 reference over the validation grid, then the whole-MLRA-4-layer check.
// Writes a JSON report; exits 1 when a case fails, 2 on bad input, 3 on a CUDA or other error.
//   validate_kernels [--reduced] [--filter SUBSTR] [--shapes a,b] [--seed N] [--threads N]
//                    [--no-layer] [--list] [--out FILE]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <fstream>
#include <iostream>

#include "kernels/cuda/validation.h"
#include "model/error.h"

int main(int argc, char** argv) {
  using namespace attnroof;
  CLI::App app{"Validate the CUDA decode kernels against the float64 reference"};
  kernels::ValidationOptions o;
  std::string out;
  uint64_t seed = 0;
  bool no_layer = false;
  app.add_flag("--reduced", o.reduced, "small grid (contexts <= 4097): sanitizers, quick checks");
  app.add_option("--filter", o.filter, "only cases whose description contains this");
  app.add_option("--shapes", o.shapes, "only these grid shapes (e.g. mla_576_512)")->delimiter(',');
  auto* seed_opt = app.add_option("--seed", seed, "base seed (default: fresh; case i uses seed + i)");
  app.add_option("--threads", o.cpu_threads, "CPU threads for the reference (0: all)");
  app.add_flag("--no-layer", no_layer, "skip the MLRA-4 layer check");
  app.add_flag("--list", o.list_only, "print the cases and exit (no GPU needed)");
  app.add_option("--out", out, "JSON report file");
  CLI11_PARSE(app, argc, argv);
  std::string command = "validate_kernels";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  if (seed_opt->count() > 0) o.seed = seed;
  o.layer_check = !no_layer;
  o.choice = kernels::KernelChoice::from_environment();
  o.progress = [](const std::string& line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  try {
    nlohmann::json report = kernels::run_kernel_validation(o);
    if (o.list_only) {
      for (const auto& c : report["cases"]) fmt::print("{}\n", c.get<std::string>());
      return 0;
    }
    report["command"] = command;
    const int failed = report["failed"].get<int>();
    fmt::print("validate_kernels: {} passed, {} failed ({:.0f} s, seed {})\n",
               report["passed"].get<int>(), failed, report["seconds"].get<double>(),
               report["seed"].get<uint64_t>());
    if (!out.empty()) std::ofstream(out) << report.dump(1) << "\n";
    return failed == 0 ? 0 : 1;
  } catch (const InputError& e) {
    std::cerr << "validate_kernels: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "validate_kernels: " << e.what() << "\n";
    return 3;
  }
}

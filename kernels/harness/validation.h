// defines: ValidationOptions, run_kernel_validation
//
// The library entry point behind `attnroof validate-kernels`: every
// decode kernel over the validation grid against the float64 reference (decode_check.h), then
// the whole-MLRA-4-layer check (layer_check.h). Host-clean header: no CUDA types.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kernels/cuda/launch_decode.h"

namespace attnroof::kernels {

struct ValidationOptions {
  bool reduced = false;           // small grid (contexts <= 4097): sanitizers, quick checks
  std::optional<uint64_t> seed;   // base seed (case i uses seed + i); empty: fresh each run
  std::string filter;             // only cases whose description contains this
  std::vector<std::string> shapes;  // only these grid shapes ("latent_d576_v512", ...); empty: all
  int cpu_threads = 0;            // reference and emulation threads; 0: all hardware threads
  bool layer_check = true;        // run the MLRA-4 layer check after the grid
  KernelChoice choice;            // the plans the grid runs (launch_decode.h)
  // With the default choice: then the reduced grid once more for each alternative plan
  // (KernelChoice::alternative 1..kernel_alternatives()) and its latent cases with the mma.sync
  // kernels (KernelChoice::wgmma false), so that every compiled entry is checked; a case whose
  // shape has no such alternative runs its default again.
  bool alternatives = true;
  bool list_only = false;         // describe the cases, run nothing (no GPU needed)
  std::function<void(const std::string&)> progress;  // one line per case; may be empty
};

// Runs the cases on the current CUDA device and returns the report:
//   {"gpu", "seed", "tolerance_rule", "reference", "passed", "failed", "seconds", "cases": [...],
//    "layer_checks": [...], "alternative_cases": [...]}   (list_only: {"cases": [descriptions]}).
// Each case names its kernel and alternative; passed / failed count all of them.
// Throws CudaError when no device can be used, InputError for bad options.
nlohmann::json run_kernel_validation(const ValidationOptions& options);

}  // namespace attnroof::kernels

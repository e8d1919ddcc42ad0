// Unit tests of the one GPU folder name (studies/gpu_slug.h): bench-kernels' reports/kernels/<slug>
// and tp-step's / tp-collectives' reports/tp/<slug>.
#include <catch2/catch.hpp>

#include "studies/gpu_slug.h"

using attnroof::cli::gpu_slug;

TEST_CASE("a GPU's folder is its whole device name, lower-cased, dashes between words", "[gpu_slug]") {
  // The device names CUDA reported on the machines whose reports are in reports/.
  CHECK(gpu_slug("NVIDIA H100 80GB HBM3") == "nvidia-h100-80gb-hbm3");  // reports/tp/ has it
  CHECK(gpu_slug("NVIDIA H200") == "nvidia-h200");
  // Boards of one chip stay apart (the first word alone would put them in one folder).
  CHECK(gpu_slug("NVIDIA H100 PCIe") == "nvidia-h100-pcie");
  CHECK(gpu_slug("NVIDIA H100 NVL") != gpu_slug("NVIDIA H100 PCIe"));
  // Runs of other characters are one dash, none at the ends; nothing left is "unknown-gpu".
  CHECK(gpu_slug("  NVIDIA  A100-SXM4-80GB (MIG 1g.10gb) ") == "nvidia-a100-sxm4-80gb-mig-1g-10gb");
  CHECK(gpu_slug("../x/") == "x");
  CHECK(gpu_slug("") == "unknown-gpu");
  CHECK(gpu_slug(" /.. ") == "unknown-gpu");
  CHECK(gpu_slug("Gr\xc3\xa4" "fik") == "gr-fik");  // non-ASCII bytes are separators
}

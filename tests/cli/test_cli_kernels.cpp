// validate-kernels and bench-kernels on a machine without a GPU (CI, this machine): a CPU build
// says how to get the kernels (exit 2); a CUDA build says the GPU is missing (exit 1). Neither
// crashes or writes a report. The GPU itself runs them through scripts/gpu-run.sh.
#include <catch2/catch.hpp>

#include "tests/cli/cli_test_util.h"

using attnroof::test::run_cli_binary;
using attnroof::test::TempDir;
using Catch::Matchers::Contains;

TEST_CASE("kernel commands without a GPU fail clearly and write nothing", "[cli][kernels]") {
  const auto command = GENERATE(as<std::string>{}, "validate-kernels --reduced -o out.json",
                                "validate-kernels --stress 3 --seed 9 -o out.json",
                                "bench-kernels --reduced --out-dir out");
  TempDir dir;
  const auto version = run_cli_binary("--version");
  const bool cuda_build = version.out.find("build: cuda") != std::string::npos;
  const auto r = run_cli_binary(command, dir.path().string());
  INFO(command << "\nstderr: " << r.err);
  if (cuda_build) {
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Contains("needs an NVIDIA GPU, and none is usable"));
  } else {
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains("this build has none"));
  }
  CHECK(dir.count() == 0);
}

TEST_CASE("bench-kernels rejects bad options before touching a GPU", "[cli][kernels]") {
  const auto [args, option] = GENERATE(table<std::string, std::string>({
      {"--runs 0", "--runs"},
      {"--flush sideways", "--flush"},
      {"--split-len -5", "--split-len"},
  }));
  const auto r = run_cli_binary("bench-kernels " + args);
  INFO(args << "\nstderr: " << r.err);
  // The options are checked as they are parsed, in CPU and CUDA builds alike, before either
  // looks for kernels or a GPU: the message names the bad option, not the missing GPU.
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains(option));
  CHECK_THAT(r.err, !Contains("GPU") && !Contains("this build has none"));
}

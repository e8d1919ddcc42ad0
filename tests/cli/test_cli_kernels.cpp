// validate-kernels, bench-kernels, tp-step and tp-collectives on a machine without a GPU (CI,
// this machine): a CPU build says how to get the kernels (exit 2), a CUDA build without NCCL how
// to get NCCL (tp-*, exit 2); a build with them says the GPU is missing (exit 1). None crashes or
// writes a report. The GPU itself runs them through scripts/gpu-run.sh.
#include <catch2/catch.hpp>

#include "tests/cli/cli_test_util.h"

using attnroof::test::run_cli_binary;
using attnroof::test::TempDir;
using Catch::Matchers::Contains;

TEST_CASE("kernel commands without a GPU fail clearly and write nothing", "[cli][kernels]") {
  const auto command = GENERATE(as<std::string>{}, "validate-kernels --reduced -o out.json",
                                "validate-kernels --stress 3 --seed 9 -o out.json",
                                "bench-kernels --reduced --out-dir out",
                                "bench-kernels --reduced --skip-ceilings --out-dir out",
                                // a repeated option takes its last value (gpu-run.sh's CAL_ARGS)
                                "bench-kernels --runs 0 --runs 5 --reduced --out-dir out",
                                "tp-step --runs 2 --out-dir out", "tp-step --ranks 8",
                                "tp-collectives --ranks 2 --out-dir out", "tp-collectives");
  TempDir dir;
  const auto version = run_cli_binary("--version");
  const bool cuda_build = version.out.find("build: cuda") != std::string::npos;
  const auto r = run_cli_binary(command, dir.path().string());
  INFO(command << "\nstderr: " << r.err);
#ifndef ATTNROOF_HAVE_NCCL
  if (cuda_build && command.rfind("tp-", 0) == 0) {  // a CUDA build without NCCL
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains("needs NCCL, and this build has none"));
    CHECK(dir.count() == 0);
    return;
  }
#endif
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
      {"--runs 5 --runs 0", "--runs"},  // the last value counts
  }));
  const auto r = run_cli_binary("bench-kernels " + args);
  INFO(args << "\nstderr: " << r.err);
  // The options are checked as they are parsed, in CPU and CUDA builds alike, before either
  // looks for kernels or a GPU: the message names the bad option, not the missing GPU.
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains(option));
  CHECK_THAT(r.err, !Contains("GPU") && !Contains("this build has none"));
}

TEST_CASE("tp-step and tp-collectives reject bad options before touching a GPU", "[cli][kernels]") {
  const auto [args, message] = GENERATE(table<std::string, std::string>({
      {"tp-step --ranks 0", "--ranks: '0' is invalid"},
      {"tp-step --ranks 65", "--ranks: 65 must be <= 64"},
      {"tp-step --variants gqa,bogus", "--variants: unknown 'bogus'"},
      {"tp-step --out-proj sideways", "--out-proj: 'sideways'"},
      {"tp-step --tp 0", "--tp"},
      {"tp-step --tp 128", "--tp: 128 must be <= 64"},
      {"tp-step --ctx 0", "--ctx: '0' is invalid"},
      {"tp-step --d-model 4", "--d-model: '4' is invalid"},
      {"tp-step --d-model 32768", "--d-model: 32768 must be in 8..16384"},
      {"tp-step --runs 0", "--runs: '0' is invalid"},
      {"tp-step --warmup 1001", "--warmup: 1001 must be <= 1000"},
      {"tp-step --cpu-threads 0", "--cpu-threads: '0' is invalid"},
      {"tp-collectives --ops broadcast", "--ops: 'broadcast' is not all_reduce"},
      {"tp-collectives --dtype fp8", "--dtype"},
      {"tp-collectives --min-bytes 32", "--min-bytes: '32' is invalid"},
      {"tp-collectives --min-bytes 4k --max-bytes 1k", "--min-bytes 4096 is larger than --max-bytes 1024"},
      {"tp-collectives --ranks 3", "is not a multiple of 3 ranks x 2 B"},
      {"tp-collectives --max-bytes 32g", "--max-bytes"},
  }));
  TempDir dir;
  const auto r = run_cli_binary(args + " --out-dir out", dir.path().string());
  INFO(args << "\nstderr: " << r.err);
  // Checked as they are parsed or first thing, in every build, before looking for kernels, NCCL
  // or a GPU: the message names the bad option.
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains(message));
  CHECK_THAT(r.err, !Contains("GPU") && !Contains("this build has none"));
  CHECK(dir.count() == 0);
}

TEST_CASE("tp-step --host-only checks the TP harness on the CPU", "[cli][kernels]") {
  TempDir dir;
  const auto r = run_cli_binary("tp-step --host-only --variants gqa,mlra4 --tp 1,4 --ctx 256 "
                                "--cpu-threads 2",
                                dir.path().string());
  INFO("stderr: " << r.err);
  CHECK(dir.count() == 0);  // it writes nothing
#ifdef ATTNROOF_HAVE_NCCL
  CHECK(r.status == 0);
  // GQA TP 1 and 4, MLRA-4 TP 1 and 4 with each W^O option; every TP 4 case with its negative
  // control (the last rank dropped must fail the rule).
  CHECK_THAT(r.out, Contains("host-only") && Contains("PASS") && !Contains("FAIL"));
  CHECK_THAT(r.out, Contains("negative control (rank 3 dropped)") && Contains("fails, as it must"));
#else
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("this build has none"));
#endif
}

// Random argument vectors through the real binary: every command, its options, and hostile
// values (empty, octal-looking, past int64, non-finite, huge ranges, paths, JSON fragments,
// control characters, invalid UTF-8). The invariants, whatever the input:
//   - the exit status is 0 (it made sense), 2 (bad input) or, for verify, 1 (a check failed);
//     never a signal, never a timeout, never "internal error";
//   - on exit 2 nothing is written: the output directory stays empty;
//   - memory stays bounded (an address-space limit outside the sanitizer build, where ASan's
//     shadow memory makes one meaningless).
// Deterministic: the seed is fixed, so a failure reproduces; ATTNROOF_FUZZ_CLI_RUNS (default 120;
// the first 60 under the sanitizers, where a run takes nearly 3 times as long) runs more on
// demand, ATTNROOF_FUZZ_CLI_SEED another sequence.
#include <catch2/catch.hpp>

#include <array>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "studies/cli.h"
#include "tests/sanitized.h"

using attnroof::test::CliResult;
using attnroof::test::kSanitized;
using attnroof::test::run_cli_binary;
using attnroof::test::TempDir;

namespace {

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v == nullptr ? fallback : std::strtoll(v, nullptr, 10);
}

// Values that have broken, or could break, a parser somewhere. Ranges stay small enough that the
// product of a few axes runs in seconds; the huge ones are past the axis limit and rejected.
const std::vector<std::string> kValues = {
    "", " ", "0", "1", "2", "-1", "-5", "8", "010", "08", "0x10", "+4", "1.5", "1e3", "1e400",
    "inf", "-inf", "nan", "99999999999999999999", "9223372036854775807", "-9223372036854775808",
    "4294967296", "4611686018427387904", "4k", "2m", "1g", "k", "1:16:+1", "4k:64k:x2",
    "1:99999999999:+1", "1:2:x1", "16:4:+1", "1,2,4,8", "1,,2", ",", "1:", "::", "a:b:c",
    "llama3_70b", "paper29b_*", "*", "nothing_*", "gqa", "mla", "mlra4", "mla5", "h100_sxm",
    "h200", "a100_sxm_80gb", "tpu9", "bf16", "fp8", "fp4", "absorbed", "materialized", "both",
    "table", "csv", "json", "xml", "none", "{}", "{", "[]", "{\"d_model\":4096}",
    "{\"d_model\":4096,\"q_heads\":32,\"kv_heads\":8,\"d_head\":128}",
    "{\"d_model\":4096,\"q_heads\":32,\"kv_heads\":8,\"d_head\":4611686018427387904}",
    "{\"a\":1,\"a\":2}", "/", ".", "..", "../x", "/nonexistent/dir/file.json", "x.json",
    "t_layer_s", "tp,batch", "bogus_column", "\xff\xfe", "\xc3\x28", "\xe2\x82\xac", "a\nb",
    "-", "--", "--help", std::string(300, '9'), std::string(2000, 'a')};

struct CommandSpec {
  std::string name;
  std::vector<std::string> options;  // each takes a value
  std::vector<std::string> flags;
  bool positional = false;
  bool has_out = true;  // takes -o FILE
};

// Runs shell text with stdout and stderr captured; the status of a signal death is -1.
CliResult run_shell(const std::string& command) {
  TempDir io;
  const std::string full = "( " + command + " ) >'" + (io / "out").string() + "' 2>'" +
                           (io / "err").string() + "'";
  const int raw = std::system(full.c_str());
  CliResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = attnroof::test::slurp(io / "out");
  r.err = attnroof::test::slurp(io / "err");
  return r;
}

// verify runs only with --variants (a whole preset takes minutes); study and the GPU commands
// (validate-kernels, bench-kernels, tp-step, tp-collectives) are left out: the study files are
// fuzzed by the JSON fuzz test and the GPU commands need a GPU.
const std::vector<CommandSpec> kCommands = {
    {"variants", {"--format"}, {}, true, false},
    {"presets", {"--format"}, {}, true, false},
    {"hardware", {"--format"}, {}, true, false},
    {"kv", {"--preset", "--tp", "--kv-dtype", "--format"}, {}, false},
    {"explain",
     {"--preset", "--variant", "--config", "--layers", "--other-params", "--hardware",
      "--calibration", "--tp", "--batch", "--context", "--contexts", "--q-tokens", "--form",
      "--kv-dtype", "--weight-dtype", "--act-dtype", "--format"},
     {},
     false},
    {"sweep",
     {"--preset", "--variant", "--config", "--layers", "--other-params", "--hardware",
      "--calibration", "--tp", "--batch", "--context", "--contexts", "--q-tokens", "--form",
      "--kv-dtype", "--weight-dtype", "--act-dtype", "--columns", "--format"},
     {"-q"},
     false},
    {"verify", {"--tp", "--seed", "--format"}, {}, false},
    {"calibrate", {"--read-ceiling", "--folds", "--train-max-ctx", "--test-min-ctx"}, {}, true},
    {"fidelity", {"--calibration", "--format"}, {}, true},
};

}  // namespace

TEST_CASE("random argument vectors exit 0 or 2, write nothing on 2, never crash", "[cli][fuzz]") {
  const int64_t runs = env_int("ATTNROOF_FUZZ_CLI_RUNS", kSanitized ? 60 : 120);
  std::mt19937_64 rng(uint64_t(env_int("ATTNROOF_FUZZ_CLI_SEED", 20261201)));
  auto pick = [&](std::size_t n) { return std::size_t(rng() % n); };
  int64_t by_status[3] = {0, 0, 0};
  for (int64_t run = 0; run < runs; ++run) {
    const CommandSpec& c = kCommands[pick(kCommands.size())];
    std::vector<std::string> args = {c.name};
    if (c.name == "verify") args.insert(args.end(), {"--variants", rng() % 2 ? "gqa" : "mla5"});
    if (c.name == "sweep" && rng() % 2) args.push_back("-q");
    if (c.positional && rng() % 2) args.push_back(kValues[pick(kValues.size())]);
    const std::size_t n_options = pick(5);
    for (std::size_t i = 0; i < n_options; ++i) {
      args.push_back(c.options[pick(c.options.size())]);
      args.push_back(kValues[pick(kValues.size())]);
    }
    TempDir dir;
    std::string command = "cd '" + dir.path().string() + "' && mkdir out && ";
    if (!kSanitized) command += "ulimit -v 4000000 && ";  // 4 GB of address space
    command += "timeout 60 '" + std::string(ATTNROOF_BINARY_PATH) + "'";
    // append, not += " " + ...: GCC 12 at -O3 warns (-Wrestrict, a false positive) on the
    // temporary's copy once this file shares a unity unit with its neighbours.
    for (const std::string& a : args) command.append(" ").append(attnroof::cli::shell_quote(a));
    if (c.has_out) command += " -o out/result";
    const CliResult r = run_shell(command);
    std::string shown;
    for (const std::string& a : args) shown.append(" ").append(attnroof::cli::shell_quote(a));
    INFO("run " << run << ": attnroof" << shown << (c.has_out ? " -o out/result" : "")
                << "\nexit " << r.status
                << "\nstderr: " << r.err.substr(0, 2000));
    const bool verify_failed = c.name == "verify" && r.status == 1;
    REQUIRE((r.status == 0 || r.status == 2 || verify_failed));
    CHECK(r.err.find("internal error") == std::string::npos);
    if (r.status == 2) {
      CHECK(std::filesystem::is_empty(dir / "out"));
      CHECK(r.out.empty());
    }
    ++by_status[r.status == 0 ? 0 : r.status == 2 ? 2 : 1];
  }
  // The generator must reach both outcomes, or it tests nothing.
  WARN("fuzz: " << runs << " runs: " << by_status[0] << " exit 0, " << by_status[2] << " exit 2");
  CHECK(by_status[0] > 0);
  CHECK(by_status[2] > 0);
}

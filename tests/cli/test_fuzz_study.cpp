// Deterministic fuzz of study loading through the real binary: hostile mutations
// (tests/model/json_mutations.h) of a small study with a section of each cheap kind (KV table,
// sweep, measured kernels against the committed H100 bench) and of studies/paper.json. The
// invariants: exit 0 or 2, never a signal or an internal error, a short message on exit 2, and
// nothing written on exit 2. ATTNROOF_FUZZ_ITERATIONS=N runs N mutants of each (default 12:
// each is a process start, and CI runs the suite twice).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/cli/cli_test_util.h"
#include "tests/model/json_mutations.h"

using attnroof::test::CliResult;
using attnroof::test::fuzz_iterations;
using attnroof::test::JsonMutator;
using attnroof::test::run_cli_binary;
using attnroof::test::slurp;
using attnroof::test::TempDir;

namespace {

std::string small_study() {
  const std::string bench = std::string(ATTNROOF_SOURCE_DIR) + "/reports/kernels/h100/bench_kernels.json";
  return R"({"schema_version": 1, "name": "fuzzed", "title": "t", "description": "d", "sections": [
    {"type": "kv_table", "id": "kv", "title": "kv", "models": [{"preset": "llama3_8b"}, {"preset": "dsv3_mla"}],
     "tp": "1,2"},
    {"type": "sweep", "id": "sw", "title": "sw", "models": [{"preset": "llama3_8b", "label": "L"}],
     "hardware": "h100_sxm", "tp": "1", "batch": "1", "context": "1k,4k"},
    {"type": "measured_kernels", "id": "m", "title": "m", "bench": ")" + bench + R"(", "hardware": "h100_sxm",
     "batch": "1", "shapes": [{"shape": "gqa_tp8"}]}]})";
}

void fuzz_study(const std::string& original, uint64_t seed, int n) {
  JsonMutator mutator(seed);
  for (int i = 0; i < n; ++i) {
    const JsonMutator::Mutant m = mutator.mutate(original);
    TempDir dir;
    std::ofstream(dir / "study.json", std::ios::binary) << m.text;
    const CliResult r = run_cli_binary("study study.json --no-plots --out-dir out", dir.path().string());
    INFO("mutant " << i << " (" << m.edit << "): exit " << r.status << "\n" << r.err.substr(0, 2000));
    REQUIRE((r.status == 0 || r.status == 2));
    if (r.status == 2) {
      CHECK(r.err.find("this is a bug") == std::string::npos);
      CHECK(!r.err.empty());
      CHECK(r.err.size() < attnroof::model::kMaxStringBytes + 2048);  // as in tests/model/test_fuzz_json.cpp
      // study.json alone: no report, no temporary, not even the --out-dir directory.
      CHECK(dir.count() == 1);
    }
  }
}

}  // namespace

TEST_CASE("Fuzz: mutated studies exit 0 or 2 and write nothing on 2", "[cli][fuzz][study]") {
  const int n = fuzz_iterations(12);
  // The unmutated small study runs: the mutants start from a working file.
  {
    TempDir dir;
    std::ofstream(dir / "study.json") << small_study();
    const CliResult r = run_cli_binary("study study.json --no-plots --out-dir out", dir.path().string());
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  fuzz_study(small_study(), 11, n);
  fuzz_study(slurp(std::string(ATTNROOF_SOURCE_DIR) + "/studies/paper.json"), 12, n);
}

// Every example printed by `attnroof COMMAND --help` must run: help that teaches a command that
// fails is worse than no help. (`study` and `verify` examples are exercised by their own tests:
// they write a report tree or run the float64 checks, which takes longer.)
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "tests/cli/cli_test_util.h"

using attnroof::test::CliResult;
using attnroof::test::run_cli_binary;
using attnroof::test::TempDir;

namespace {

std::vector<std::string> examples_of(const std::string& command) {
  const CliResult help = run_cli_binary(command + " --help");
  REQUIRE(help.status == 0);
  std::vector<std::string> out;
  std::istringstream lines(help.out);
  const std::string prefix = "  attnroof ";
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line.substr(prefix.size()));
  }
  return out;
}

}  // namespace

TEST_CASE("every --help example runs", "[cli][help]") {
  const auto command = GENERATE(as<std::string>{}, "variants", "presets", "hardware", "kv",
                                "explain", "sweep", "plot", "import-hf");
  const std::vector<std::string> examples = examples_of(command);
  CHECK(!examples.empty());
  // In order, in one directory: plot's first example writes the sweep the others read.
  TempDir dir;
  for (const std::string& example : examples) {
    // import-hf's, presets' and hardware's examples read files of the repository (the published
    // configs in tests/model/data/hf/, model/data/) and write nothing (-o /dev/null).
    const bool reads_repository = command == "import-hf" || command == "presets" || command == "hardware";
    const CliResult r = run_cli_binary(
        example, reads_repository ? std::string(ATTNROOF_SOURCE_DIR) : dir.path().string());
    INFO("attnroof " << example << "\nstderr: " << r.err);
    CHECK(r.status == 0);
  }
}

// Where `attnroof study NAME` looks NAME up (studies/data_dir.h): $ATTNROOF_DATA_DIR first,
// then the install's share/attnroof (tests/package checks the installed binary), then, for this
// build-tree binary, the source tree.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "cli_test_util.h"

using attnroof::test::run_cli_binary;
using attnroof::test::TempDir;

TEST_CASE("data dir: $ATTNROOF_DATA_DIR, else the source tree of a build-tree binary", "[cli][study]") {
  TempDir data;
  std::filesystem::create_directories(data / "studies");
  {
    std::ofstream f(data / "studies/mine.json");
    f << R"({"schema_version": 1, "name": "mine", "title": "Mine", "sections": [
      {"type": "kv_table", "id": "kv", "title": "KV", "models": [{"preset": "llama3_70b"}], "tp": "1,8"}]})";
  }
  TempDir out;
  const std::string env = "ATTNROOF_DATA_DIR='" + data.path().string() + "'";
  const auto found = run_cli_binary("study mine --no-plots --out-dir '" + out.path().string() + "'", "", env);
  CHECK(found.err.find("study mine: 1 sections written") != std::string::npos);
  CHECK(found.status == 0);

  // Without the variable, the build tree's binary lists the source tree's studies.
  const auto source = run_cli_binary("study mine", "", "ATTNROOF_DATA_DIR=");
  CHECK(source.status == 2);
  CHECK(source.err.find(std::string(ATTNROOF_SOURCE_DIR) + "/studies: paper") != std::string::npos);

  // A variable naming no directory is reported, not passed over.
  const auto missing = run_cli_binary("study paper", "", "ATTNROOF_DATA_DIR=/nonexistent/attnroof");
  CHECK(missing.status == 1);
  CHECK(missing.err ==
        "study: $ATTNROOF_DATA_DIR is '/nonexistent/attnroof', which is not a directory (it names attnroof's "
        "data directory, the one holding studies/)\n");
}

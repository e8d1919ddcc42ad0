// Hostile input files through the real binary: every file
// the commands read (--config, --hardware FILE, --calibration FILE, measurement files, a study's
// bench file) either loads or exits 2 with a short message naming the file, the position and the
// rule, and nothing is written. Nothing here crashes, hangs or grows without bound.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli/cli_test_util.h"
#include "tests/scratch_dir.h"

using attnroof::test::CliResult;
using attnroof::test::run_cli_binary;
using attnroof::test::TempDir;
using Catch::Matchers::Contains;

namespace {

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

const std::string kGqaFields = R"("d_model": 4096, "q_heads": 32, "kv_heads": 8, "d_head": 128)";

// `explain` of a GQA config file: the short command every config case goes through.
CliResult explain_config(const TempDir& dir, const std::string& config_text) {
  write_file(dir / "c.json", config_text);
  return run_cli_binary("explain --variant gqa --config c.json --batch 1 --context 1k",
                        dir.path().string());
}

}  // namespace

TEST_CASE("config files: repeated keys, deep nesting, huge and non-finite numbers exit 2", "[cli][files]") {
  TempDir dir;
  struct Case {
    std::string config, message;
  };
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  for (const Case& c : {Case{"{" + kGqaFields + R"(, "kv_heads": 4})", "c.json:1:73: at /: duplicate key 'kv_heads'"},
                        Case{R"({"d_model": )" + deep + "}", "nested deeper than the limit of 64"},
                        Case{R"({"d_model": 4096, "q_heads": 32, "kv_heads": 8, "d_head": 18446744073709551615})",
                             "at /d_head: 18446744073709551615 is out of range for an integer"},
                        Case{R"({"d_model": 4096, "q_heads": 32, "kv_heads": 8, "d_head": 1e400})",
                             "at /d_head: 1e400 is not a finite number"}}) {
    const CliResult r = explain_config(dir, c.config);
    INFO(r.err.substr(0, 2000));
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains(c.message));
    CHECK(r.err.size() < 1024);
    CHECK(r.out.empty());
    CHECK(dir.count() == 1);  // c.json alone
  }
  // The unchanged config still runs.
  CHECK(explain_config(dir, "{" + kGqaFields + "}").status == 0);
}

TEST_CASE("config files: a directory, a truncated big file and an endless fifo exit 2 promptly", "[cli][files]") {
  TempDir dir;
  std::filesystem::create_directory(dir / "cfg_dir");
  CliResult r = run_cli_binary("explain --variant gqa --config cfg_dir --batch 1 --context 1k", dir.path().string());
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("cfg_dir: is a directory, not a file"));

  // 20 MB cut inside a string: the message stays short.
  write_file(dir / "cut.json", "{" + kGqaFields + R"(, "note": ")" + std::string(20 << 20, 'n'));
  r = run_cli_binary("explain --variant gqa --config cut.json --batch 1 --context 1k", dir.path().string());
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("cut.json:1:") && Contains("malformed JSON"));
  CHECK(r.err.size() < 1024);

  // A fifo that never ends (what /dev/zero would be): the read stops at the size cap.
  const std::string fifo = (dir / "zero").string();
  std::thread writer = attnroof::test::endless_fifo(fifo, std::size_t(256) << 20);
  REQUIRE(std::filesystem::is_fifo(fifo));
  r = run_cli_binary("explain --variant gqa --config zero --batch 1 --context 1k", dir.path().string());
  writer.join();
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("zero: larger than the 64 MiB limit on input files"));
}

TEST_CASE("explain with a hardware or calibration FILE: broken files exit 2 naming the key", "[cli][files]") {
  TempDir dir;
  const std::string point = "explain --preset llama3_8b --batch 1 --context 1k";
  write_file(dir / "hw.json", R"({"id": "x", "name": "x", "hbm_bytes_per_s": "fast"})");
  CliResult r = run_cli_binary(point + " --hardware ./hw.json", dir.path().string());
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("hw.json: at /hbm_bytes_per_s: expected a number, got string \"fast\""));

  write_file(dir / "hw.json", R"({"id": "x", "id": "y"})");
  r = run_cli_binary(point + " --hardware ./hw.json", dir.path().string());
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("duplicate key 'id'"));

  write_file(dir / "cal.json", R"({"schema": "attnroof.calibration/1", "gpu": "g", "read_ceiling_Bps": 1e12,
                              "sm_count": 132, "families": {}, "external": []})");
  r = run_cli_binary(point + " --hardware h100 --calibration ./cal.json", dir.path().string());
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("cal.json: at /families: expected an array of kernel-family fits, got object"));

  write_file(dir / "cal.json", R"({"schema": "attnroof.calibration/1", "gpu": "g", "read_ceiling_Bps": 1e999})");
  r = run_cli_binary(point + " --hardware h100 --calibration ./cal.json", dir.path().string());
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("at /read_ceiling_Bps: 1e999 is not a finite number"));
}

TEST_CASE("calibrate and fidelity: malformed measurement files exit 2 naming file and key", "[cli][files]") {
  TempDir dir;
  const std::string record =
      R"({"kernel": "k", "family": "separate_kv", "q_heads": 8, "kv_heads": 1, "d_qk": 128,
          "d_v": 128, "batch": 1, "ctx_len": 1024, "time_s": 1e-5, "read_ceiling_Bps": 3e12})";
  write_file(dir / "no_family.json", R"({"records": [{"kernel": "k"}]})");
  write_file(dir / "typed.json", R"({"records": [)" + record + R"(], "gemm_records": [{"m": "1"}]})");
  write_file(dir / "ok.json", R"({"records": [)" + record + "]}");
  write_file(dir / "dup.json", R"({"records": [)" + record + R"(], "records": 1})");
  struct Case {
    std::string args, message;
  };
  for (const Case& c :
       {Case{"calibrate no_family.json -o p.json", "no_family.json: at /records/0/family: required key is missing"},
        Case{"calibrate typed.json -o p.json", "typed.json: at /gemm_records/0/m: expected an integer, got string \"1\""},
        Case{"calibrate ok.json -o p.json --report-dir rep --transfer dup.json", "dup.json:2:"},
        Case{"fidelity --calibration h100_sxm dup.json", "dup.json:2:"},
        Case{"fidelity --calibration h100_sxm .", ".: is a directory"}}) {
    const std::size_t before = dir.count();
    const CliResult r = run_cli_binary(c.args, dir.path().string());
    INFO(c.args << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains(c.message));
    CHECK(dir.count() == before);
  }
}

TEST_CASE("study: a measured_kernels bench file without ceilings or with wrong types exits 2", "[cli][files][study]") {
  TempDir dir;
  struct Case {
    std::string bench, message;
  };
  const std::string point = R"({"shape": "gqa_tp8", "batch": 1, "ctx": 1024, "kv_bytes": 1, "total_bytes": 1,
                                "time_us_graph_median": 10})";
  for (const Case& c :
       {Case{R"({"gpu": "test", "points": [)" + point + "]}", "bench.json: at /ceilings: required key is missing"},
        Case{R"({"gpu": "test", "ceilings": {"read_GBps": "3000"}, "points": []})",
             "bench.json: at /ceilings/read_GBps: expected a number, got string \"3000\""},
        Case{R"({"gpu": 1, "ceilings": {"read_GBps": 3000}, "points": []})", "bench.json: at /gpu: expected a string"},
        Case{R"({"gpu": "test", "ceilings": {"read_GBps": 3000}, "points": [{"shape": "gqa_tp8"}]})",
             "bench.json: at /points/0/batch: required key is missing"}}) {
    write_file(dir / "bench.json", c.bench);
    write_file(dir / "study.json", R"({"schema_version": 1, "name": "bad_bench", "title": "t",
      "sections": [{"type": "measured_kernels", "id": "m", "title": "m", "bench": ")" +
                                  (dir / "bench.json").string() + R"(",
        "shapes": [{"shape": "gqa_tp8"}]}]})");
    const CliResult r = run_cli_binary("study '" + (dir / "study.json").string() + "' --no-plots --out-dir '" +
                                       (dir / "out").string() + "'");
    INFO(c.bench << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains(c.message));
    CHECK(!std::filesystem::exists(dir / "out"));  // a failing study creates nothing
  }
}

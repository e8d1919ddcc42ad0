// Malformed measurement files (bench-kernels JSON "records" and "gemm_records", measurement
// CSV, the bench report a measured_kernels study section reads): each problem is an InputError
// naming the file, the JSON pointer or line, and the key, never another exception.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "calibrate/bench_report.h"
#include "calibrate/measurement.h"
#include "model/error.h"
#include "tests/scratch_dir.h"

using attnroof::InputError;
using attnroof::calibrate::read_bench_report;
using attnroof::calibrate::read_measurements;
using Catch::Matchers::Contains;

namespace {

using attnroof::test::Scratch;

const std::string kRecord =
    R"({"kernel": "k", "family": "separate_kv", "q_heads": 8, "kv_heads": 1, "d_qk": 128,
        "d_v": 128, "batch": 1, "ctx_len": 1024, "time_s": 1e-5})";
const std::string kGemm =
    R"({"m": 1, "n": 1536, "k": 7168, "flops": 2.2e7, "bytes": 2.2e7, "time_s": 1.2e-5})";

std::string records_error(const std::string& body) {
  Scratch dir;
  const std::string path = dir.file("bench.json", body);
  try {
    read_measurements({path});
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const std::string kPoint = R"({"shape": "gqa", "batch": 1, "ctx": 1024, "kv_bytes": 5e5, )"
                           R"("total_bytes": 5.3e5, "time_us_graph_median": 11.0})";

std::string bench_error(const std::string& body) {
  Scratch dir;
  const std::string path = dir.file("bench_kernels.json", body);
  try {
    read_bench_report(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("Bench JSON records: each break names the file, the pointer and the key", "[calibrate][files]") {
  CHECK(records_error(R"({"records": [)" + kRecord + "]}").empty());
  CHECK_THAT(records_error(R"({"points": []})"), Contains("bench.json: no \"records\" array"));
  CHECK_THAT(records_error(R"({"records": {"a": 1}})"),
             Contains("bench.json: at /records: expected an array of measurement records, got object"));
  CHECK_THAT(records_error(R"({"records": [1]})"),
             Contains("bench.json: at /records/0: expected a JSON object, got number 1"));
  CHECK_THAT(records_error(R"({"records": [{"kernel": "k"}]})"),
             Contains("bench.json: at /records/0/family: required key is missing"));
  std::string wrong = kRecord;
  wrong.replace(wrong.find("\"q_heads\": 8"), 12, "\"q_heads\": \"8\"");
  CHECK_THAT(records_error(R"({"records": [)" + wrong + "]}"),
             Contains("at /records/0/q_heads: expected an integer, got string \"8\""));
  std::string lens = kRecord;
  lens.replace(lens.find("\"ctx_len\": 1024"), 15, "\"ctx_lens\": [1.5]");
  CHECK_THAT(records_error(R"({"records": [)" + lens + "]}"),
             Contains("at /records/0/ctx_lens: element 0 = 1.5: must be an integer"));
  CHECK_THAT(records_error(R"({"records": [)" + kRecord + R"(], "commit": 7})"),
             Contains("bench.json: at /commit: expected a string"));
  CHECK_THAT(records_error(R"({"records": [)" + kRecord + R"(], "gemm_records": 3})"),
             Contains("at /gemm_records: expected an array of GEMM records"));
  CHECK_THAT(records_error(R"({"records": [)" + kRecord + R"(], "gemm_records": [{"m": 1}]})"),
             Contains("at /gemm_records/0/n: required key is missing"));
  std::string gemm = kGemm;
  gemm.replace(gemm.find("\"time_s\": 1.2e-5"), 16, "\"time_s\": 1e999");
  CHECK_THAT(records_error(R"({"records": [)" + kRecord + R"(], "gemm_records": [)" + gemm + "]}"),
             Contains("at /gemm_records/0/time_s: 1e999 is not a finite number"));
  CHECK_THAT(records_error(R"({"records": [)" + kRecord + "], \"records\": []}"),
             Contains("at /: duplicate key 'records'"));
  CHECK_THAT(records_error(R"({"records": [)" + kRecord), Contains("malformed JSON"));
}

TEST_CASE("Measurement files: directories, missing files and long cells", "[calibrate][files]") {
  Scratch dir;
  const std::string folder = dir.file("unused", "");
  CHECK_THROWS_WITH(read_measurements({std::filesystem::path(folder).parent_path().string()}),
                    Contains("is a directory"));
  CHECK_THROWS_WITH(read_measurements({folder + ".csv"}), Contains("cannot open: No such file"));
  const std::string header =
      "kernel,family,q_heads,kv_heads,d_qk,d_v,page_size,batch,ctx_len,q_tokens,kv_dtype,time_s\n";
  const std::string csv = dir.file(
      "long.csv", header + "k,separate_kv,8,1,128,128,0,1," + std::string(100000, '9') + ",1,bf16,1e-5\n");
  try {
    read_measurements({csv});
    FAIL("a 100000-digit context length was accepted");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Contains("long.csv:2") && Contains("ctx_len = '9999"));
    CHECK(std::string(e.what()).size() < 400);
  }
  const std::string huge = dir.file(
      "huge.csv", header + "k,separate_kv,99999999999999999999,1,128,128,0,1,1024,1,bf16,1e-5\n");
  CHECK_THROWS_WITH(read_measurements({huge}),
                    Contains("q_heads = '99999999999999999999': not an integer in the 64-bit range"));
}

TEST_CASE("Bench report of a measured_kernels section: checked fields", "[calibrate][files]") {
  const std::string ok = R"({"gpu": "H100", "ceilings": {"read_GBps": 3000}, "points": [)" + kPoint +
                         R"(, {"shape": "gqa", "batch": 64, "ctx": 2097152, "skipped": "cache too big"}]})";
  Scratch dir;
  const auto report = read_bench_report(dir.file("b.json", ok));
  CHECK(report.gpu == "H100");
  CHECK(report.read_ceiling_Bps == 3e12);
  REQUIRE(report.points.size() == 1);
  CHECK(report.points[0].time_s == Approx(11e-6));
  CHECK(report.points[0].ctx == 1024);

  CHECK_THAT(bench_error(R"({"gpu": "H100", "points": []})"),
             Contains("bench_kernels.json: at /ceilings: required key is missing"));
  CHECK_THAT(bench_error(R"({"gpu": "H100", "ceilings": {"read_GBps": "fast"}, "points": []})"),
             Contains("at /ceilings/read_GBps: expected a number, got string \"fast\""));
  CHECK_THAT(bench_error(R"({"gpu": "H100", "ceilings": {"read_GBps": 0}, "points": []})"),
             Contains("at /ceilings/read_GBps: read_GBps = 0: must be > 0"));
  CHECK_THAT(bench_error(R"({"gpu": "H100", "ceilings": [], "points": []})"),
             Contains("at /ceilings: expected a JSON object, got array"));
  CHECK_THAT(bench_error(R"({"ceilings": {"read_GBps": 3000}, "points": []})"),
             Contains("at /gpu: required key is missing"));
  CHECK_THAT(bench_error(R"({"gpu": "H100", "ceilings": {"read_GBps": 3000}, "points": 5})"),
             Contains("at /points: expected an array of timed points"));
  std::string no_time = kPoint;
  no_time.erase(no_time.find(", \"time_us_graph_median\": 11.0"), 30);
  CHECK_THAT(bench_error(R"({"gpu": "H100", "ceilings": {"read_GBps": 3000}, "points": [)" + no_time + "]}"),
             Contains("at /points/0/time_us_graph_median: required key is missing"));
  std::string bad_batch = kPoint;
  bad_batch.replace(bad_batch.find("\"batch\": 1"), 10, "\"batch\": -1");
  CHECK_THAT(bench_error(R"({"gpu": "H100", "ceilings": {"read_GBps": 3000}, "points": [)" + bad_batch + "]}"),
             Contains("at /points/0/batch: batch = -1 is invalid: must be a positive integer"));
}

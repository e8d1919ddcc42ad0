// The measurement record's CSV and JSON forms: every documented column, ragged batches, and a
// clear error naming the column or the field for every malformed input.
#include <catch2/catch.hpp>

#include <string>

#include "calibrate/measurement.h"
#include "model/error.h"

using attnroof::InputError;
using attnroof::calibrate::DecodeMeasurement;
using attnroof::calibrate::measurement_from_json;
using attnroof::calibrate::measurement_to_json;
using attnroof::calibrate::measurements_csv;
using attnroof::calibrate::parse_measurement_csv;

namespace {

const std::string kHeader =
    "kernel,family,q_heads,kv_heads,d_qk,d_v,page_size,batch,ctx_len,q_tokens,kv_dtype,time_s";

std::string error_of(const std::string& csv) {
  try {
    parse_measurement_csv(csv, "t.csv");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("CSV: required columns only, any order, uniform and ragged batches", "[calibrate][csv]") {
  const auto rows = parse_measurement_csv(
      "time_s,kernel,family,q_heads,kv_heads,d_qk,d_v,page_size,batch,ctx_len,q_tokens,kv_dtype\n"
      "3.2e-4,flashmla,shared_latent,64,1,576,512,64,1,1048576,1,bf16\n"
      "\n"
      "4.1e-5,flashmla,shared_latent,64,1,576,512,64,3,8192;16384;1024,2,fp8\n",
      "t.csv");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].kernel == "flashmla");
  CHECK(rows[0].family == attnroof::model::KernelFamily::shared_latent);
  CHECK(rows[0].batch() == 1);
  CHECK(rows[0].ctx_len_max() == 1048576);
  CHECK(rows[0].time_s == Approx(3.2e-4));
  CHECK_FALSE(rows[0].plan.known());
  CHECK(rows[0].read_ceiling_Bps == 0);
  CHECK(rows[1].ragged());
  CHECK(rows[1].ctx_lens == std::vector<int64_t>{8192, 16384, 1024});
  CHECK(rows[1].q_tokens == 2);
  CHECK(rows[1].kv_dtype == attnroof::model::Dtype::fp8_e4m3);
  CHECK(rows[1].source == "t.csv:4");
}

TEST_CASE("CSV: measurements_csv round-trips through parse_measurement_csv", "[calibrate][csv]") {
  DecodeMeasurement m;
  m.kernel = "my,kernel \"v2\"";  // needs quoting
  m.family = attnroof::model::KernelFamily::separate_kv;
  m.q_heads = 32;
  m.kv_heads = 8;
  m.d_qk = m.d_v = 128;
  m.page_size = 16;
  m.ctx_lens = {100, 4000, 77};
  m.time_s = 1.25e-5;
  m.time_s_min = 1.2e-5;
  m.time_s_max = 1.4e-5;
  m.runs = 20;
  m.n_splits = 7;
  m.sm_clock_mhz = 1755;
  m.gpu = "NVIDIA H200";
  m.read_ceiling_Bps = 4.5e12;
  const auto back = parse_measurement_csv(measurements_csv({m}), "rt.csv");
  REQUIRE(back.size() == 1);
  CHECK(back[0].kernel == m.kernel);
  CHECK(back[0].ctx_lens == m.ctx_lens);
  CHECK(back[0].page_size == 16);
  CHECK(back[0].time_s == m.time_s);
  CHECK(back[0].time_s_max == m.time_s_max);
  CHECK(back[0].n_splits == 7);
  CHECK(back[0].sm_clock_mhz == 1755);
  CHECK(back[0].gpu == "NVIDIA H200");
  CHECK(back[0].read_ceiling_Bps == 4.5e12);
}

TEST_CASE("CSV: a bad header names the column", "[calibrate][csv]") {
  CHECK_THAT(error_of(kHeader + ",latency_us\n"), Catch::Contains("column 'latency_us' is not a measurement column"));
  CHECK_THAT(error_of("kernel,family\n"), Catch::Contains("required column 'time_s' is missing"));
  CHECK_THAT(error_of("kernel,family\n"), Catch::Contains("required column 'ctx_len' is missing"));
  CHECK_THAT(error_of(kHeader + ",kernel\n"), Catch::Contains("column 'kernel' appears twice"));
  CHECK_THAT(error_of(""), Catch::Contains("empty CSV"));
  CHECK_THAT(error_of(kHeader + "\n"), Catch::Contains("a header and no rows"));
}

TEST_CASE("CSV: a bad row names the line and the field", "[calibrate][csv]") {
  const std::string ok = "k,separate_kv,8,1,128,128,0,2,4096,1,bf16,1e-5";
  CHECK(error_of(kHeader + "\n" + ok + "\n").empty());
  CHECK_THAT(error_of(kHeader + "\nk,separate,8,1,128,128,0,2,4096,1,bf16,1e-5\n"),
             Catch::Contains("t.csv:2") && Catch::Contains("not a kernel family"));
  CHECK_THAT(error_of(kHeader + "\nk,separate_kv,8,3,128,128,0,2,4096,1,bf16,1e-5\n"),
             Catch::Contains("q_heads = 8 is not a multiple of kv_heads = 3"));
  CHECK_THAT(error_of(kHeader + "\nk,separate_kv,8,1,128,128,0,2,4096;10;5,1,bf16,1e-5\n"),
             Catch::Contains("ctx_len lists 3 lengths for batch = 2"));
  CHECK_THAT(error_of(kHeader + "\nk,separate_kv,8,1,128,128,0,2,4096,1,bf16,-1\n"),
             Catch::Contains("time_s = -1: must be > 0"));
  CHECK_THAT(error_of(kHeader + "\nk,separate_kv,8,1,128,128,0,2,4096,1,bf16,nan\n"),
             Catch::Contains("time_s = 'nan': not a finite number"));
  CHECK_THAT(error_of(kHeader + "\nk,separate_kv,8,1,128,128,0,2,1,2,bf16,1e-5\n"),
             Catch::Contains("ctx_len = 1: must be >= q_tokens = 2"));
  CHECK_THAT(error_of(kHeader + "\nk,separate_kv,8,1,128,128,0,2x,4096,1,bf16,1e-5\n"),
             Catch::Contains("batch = '2x': not an integer"));
  CHECK_THAT(error_of(kHeader + "\nk,separate_kv,8,1,128,128,0,2,4096,1,bf16\n"),
             Catch::Contains("11 fields, the header has 12"));
  CHECK_THAT(error_of(kHeader + "\nk,shared_latent,8,1,128,256,0,2,4096,1,bf16,1e-5\n"),
             Catch::Contains("d_v = 256 > d_qk = 128"));
}

TEST_CASE("JSON records: round trip with the plan, strict keys", "[calibrate][json]") {
  DecodeMeasurement m;
  m.kernel = "latent_wgmma_d192";
  m.family = attnroof::model::KernelFamily::shared_latent;
  m.q_heads = 64;
  m.kv_heads = 1;
  m.d_qk = 192;
  m.d_v = 128;
  m.ctx_lens = {65536};
  m.time_s = 2e-5;
  m.plan = {.tile_m = 64, .tile_n = 64, .stages = 3, .ctas_per_sm = 2, .sm_count = 132,
            .n_splits = 128, .split_len = 512};
  m.pass = 1;
  const nlohmann::json j = measurement_to_json(m);
  CHECK(j["ctx_len"] == 65536);
  CHECK_FALSE(j.contains("ctx_lens"));
  const DecodeMeasurement back = measurement_from_json(j, "r");
  CHECK(back.plan.known());
  CHECK(back.plan.split_len == 512);
  CHECK(back.pass == 1);
  nlohmann::json bad = j;
  bad["latency"] = 1;
  CHECK_THROWS_WITH(measurement_from_json(bad, "r"), Catch::Contains("latency"));
  bad = j;
  bad["plan"].erase("stages");
  CHECK_THROWS_WITH(measurement_from_json(bad, "r"), Catch::Contains("stages"));
  bad = j;
  bad["ctx_lens"] = {1, 2};
  bad.erase("ctx_len");
  CHECK_THROWS_WITH(measurement_from_json(bad, "r"), Catch::Contains("batch = 1 integers"));
}

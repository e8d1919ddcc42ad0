// Bring your own model and GPU (README, "My own model and GPU"): preset and hardware files in kv,
// explain, sweep and studies; Hugging Face configs (import-hf, --preset hf:); config keys and
// did-you-mean.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "tests/cli/cli_test_util.h"

using attnroof::test::run_cli_binary;
using attnroof::test::slurp;
using attnroof::test::TempDir;
using Catch::Matchers::Contains;

namespace {

const std::string kSource = ATTNROOF_SOURCE_DIR;
const std::string kHf = kSource + "/tests/model/data/hf/";

// A preset file with its own name: the builtin llama3_8b, renamed.
std::string write_preset(const TempDir& dir, const std::string& file, const std::string& name) {
  nlohmann::json p = nlohmann::json::parse(slurp(kSource + "/model/data/presets/llama3_8b.json"));
  p["name"] = name;
  std::ofstream(dir / file) << p.dump(2);
  return (dir / file).string();
}

std::string write_hardware(const TempDir& dir) {
  nlohmann::json h = nlohmann::json::parse(slurp(kSource + "/model/data/hardware/h100_sxm.json"));
  h["id"] = "my_gpu";
  h["hbm_bytes_per_s"] = 1e12;
  std::ofstream(dir / "my_gpu.json") << h.dump(2);
  return (dir / "my_gpu.json").string();
}

}  // namespace

TEST_CASE("a preset file in kv, explain and sweep (--preset FILE)", "[cli][own]") {
  TempDir dir;
  const std::string file = write_preset(dir, "mine.json", "my_model");
  auto r = run_cli_binary("kv --preset " + file + " --tp 1,2");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("my_model"));

  r = run_cli_binary("explain --preset " + file + " --tp 2 --batch 4 --context 8k --format json");
  REQUIRE(r.status == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["inputs"]["model"]["name"] == "my_model");
  CHECK(j["inputs"]["model"]["n_layers"] == 32);
  CHECK(j["inputs"]["model"]["origin"] == file);

  r = run_cli_binary("sweep --preset " + file + ",llama3_70b --tp 1 --format csv");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("my_model") && Contains("llama3_70b"));
}

TEST_CASE("a hardware file in explain and sweep (--hardware FILE)", "[cli][own]") {
  TempDir dir;
  const std::string hw = write_hardware(dir);
  auto r = run_cli_binary("explain --preset llama3_70b --hardware " + hw + " --format json");
  REQUIRE(r.status == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["hardware"]["id"] == "my_gpu");
  CHECK(j["hardware"]["hbm_bytes_per_s"] == 1e12);
  r = run_cli_binary("sweep --preset llama3_70b --hardware " + hw + ",h100_sxm --format csv");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("my_gpu") && Contains("h100_sxm"));
}

TEST_CASE("a study lists a preset file relative to the study and a hardware file", "[cli][own]") {
  TempDir dir;
  write_preset(dir, "mine.json", "my_model");
  write_hardware(dir);
  const nlohmann::json study = {
      {"schema_version", 1},
      {"name", "own"},
      {"title", "own model"},
      {"sections",
       {{{"type", "sweep"},
         {"id", "s"},
         {"title", "sweep"},
         {"models", {{{"preset", "mine.json"}, {"label", "mine"}}, {{"preset", "llama3_70b"}}}},
         {"hardware", "my_gpu.json"}}}}};
  std::ofstream(dir / "own.json") << study.dump(2);
  TempDir out;  // run from elsewhere: the paths are the study's, not the working directory's
  const auto r = run_cli_binary("study " + (dir / "own.json").string() + " --out-dir " + out.path().string() +
                                " --no-plots", out.path().string());
  REQUIRE(r.status == 0);
  const std::string csv = slurp(out / "own/s.csv");
  CHECK_THAT(csv, Contains("my_model") && Contains("mine") && Contains("my_gpu"));
  const nlohmann::json rep = nlohmann::json::parse(slurp(out / "own/report.json"));
  CHECK(rep["hardware"][0]["id"] == "my_gpu");
}

TEST_CASE("import-hf -o writes a preset that --preset reads", "[cli][own]") {
  TempDir dir;
  const std::string out = (dir / "llama.json").string();
  auto r = run_cli_binary("import-hf " + kHf + "llama3_1_8b.json -o " + out);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Contains("rope_scaling") && Contains("32 layers"));
  const nlohmann::json p = nlohmann::json::parse(slurp(out));
  CHECK(p["variant"] == "gqa");
  CHECK(p["n_layers"] == 32);
  CHECK(p["other_params"] == 6688083968);  // tests/model/test_hf_import.cpp works it out
  CHECK(p["config"] == nlohmann::json({{"d_model", 4096}, {"q_heads", 32}, {"d_head", 128}, {"kv_heads", 8}}));
  r = run_cli_binary("kv --preset " + out + " --tp 1 --format json");
  REQUIRE(r.status == 0);
  CHECK(nlohmann::json::parse(r.out)["rows"][0]["kv_elems_per_token"] == 2048);  // 2 * 8 * 128
}

TEST_CASE("a Hugging Face config as --preset hf:CONFIG imports on the fly and warns about the sliding window", "[cli][own]") {
  const auto r = run_cli_binary("explain --preset hf:" + kHf + "mistral_7b_instruct_v0_1.json --format json");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Contains("warning") && Contains("sliding_window = 4096"));
  CHECK(nlohmann::json::parse(r.out)["inputs"]["model"]["n_layers"] == 32);
}

TEST_CASE("a Hugging Face config where a preset or variant config belongs points at import-hf", "[cli][own]") {
  auto r = run_cli_binary("kv --preset " + kHf + "qwen3_32b.json");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("hf:") && Contains("import-hf"));
  r = run_cli_binary("explain --variant gqa --config " + kHf + "qwen3_32b.json");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("import-hf") && Contains("hidden_size -> d_model") && Contains("d_model"));
  r = run_cli_binary("import-hf " + kHf + "deepseek_v2_lite_chat.json");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("/q_lora_rank"));
}

TEST_CASE("an unknown config key is reported first, with a did-you-mean", "[cli][own]") {
  // d_heads is a typo of d_head, and kv_heads is missing too: the unknown key comes first.
  const auto r = run_cli_binary(R"(explain --variant gqa --config '{"d_model":4096,"q_heads":32,"d_heads":128}')");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("unknown key 'd_heads'") && Contains("did you mean 'd_head'?") &&
                        Contains("required and missing: kv_heads, d_head"));
}

TEST_CASE("variants NAME lists every config key with meaning, unit and whether it is required", "[cli][own]") {
  auto r = run_cli_binary("variants gqa");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("kv_heads") && Contains("required") && Contains("heads") &&
                        Contains("num_key_value_heads") && Contains("n_layers"));
  r = run_cli_binary("variants mfa --format json");
  REQUIRE(r.status == 0);
  const nlohmann::json keys = nlohmann::json::parse(r.out)[0]["config_keys"];
  REQUIRE(keys.size() == 5);
  CHECK(keys[4]["name"] == "key_reuse");
  CHECK(keys[4]["required"] == true);
}

TEST_CASE("a variant config may carry n_layers, and without it the 1-layer default is a warning", "[cli][own]") {
  const std::string dims = R"("d_model":4096,"q_heads":32,"kv_heads":8,"d_head":128)";
  auto r = run_cli_binary("explain --variant gqa --config '{" + dims + R"(,"n_layers":32}' --format json)");
  REQUIRE(r.status == 0);
  CHECK(nlohmann::json::parse(r.out)["inputs"]["model"]["n_layers"] == 32);
  CHECK(r.err.empty());
  r = run_cli_binary("explain --variant gqa --config '{" + dims + "}' --format json");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Contains("warning") && Contains("for 1 layer"));
  r = run_cli_binary("explain --variant gqa --config '{" + dims + R"(,"n_layers":32}' --layers 4)");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("/n_layers") && Contains("--layers 4"));
}

TEST_CASE("kv takes --variant and --config", "[cli][own]") {
  const auto r = run_cli_binary(
      R"(kv --variant gqa --config '{"d_model":4096,"q_heads":32,"kv_heads":8,"d_head":128}' --tp 1,16 --format json)");
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());  // KV is per layer: no layer-count warning
  const nlohmann::json rows = nlohmann::json::parse(r.out)["rows"];
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["kv_elems_per_token"] == 2048);  // 2 * 8 * 128
  CHECK(rows[1]["kv_elems_per_token"] == 256);   // tp 16 > 8 KV heads: one replicated head, 2 * 1 * 128
}

TEST_CASE("presets and hardware describe a file as they describe a builtin", "[cli][own]") {
  // The builtin's own file: the same description, but for where it was read from.
  auto builtin = run_cli_binary("presets llama3_70b --format json");
  auto file = run_cli_binary("presets " + kSource + "/model/data/presets/llama3_70b.json --format json");
  REQUIRE(builtin.status == 0);
  REQUIRE(file.status == 0);
  const auto b = nlohmann::json::parse(builtin.out), f = nlohmann::json::parse(file.out);
  CHECK(f["effective_config"] == b["effective_config"]);
  CHECK(f["per_device"] == b["per_device"]);
  CHECK(f["n_layers"] == 80);
  // A Hugging Face config, imported on the fly: DeepSeek-V3's latent row, 61 layers.
  auto hf = run_cli_binary("presets hf:" + kHf + "deepseek_v3.json --format json");
  REQUIRE(hf.status == 0);
  const auto h = nlohmann::json::parse(hf.out);
  CHECK(h["variant"] == "mla");
  CHECK(h["n_layers"] == 61);
  CHECK(h["per_device"][0]["kv_elems_per_token"] == 576);
  CHECK_THAT(hf.err, Contains("num_nextn_predict_layers"));
  // A file that is not a preset is refused with the file's own parse error.
  auto bad = run_cli_binary("presets " + kHf + "README.md");
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Contains("README.md:1:1: malformed JSON"));

  auto hw = run_cli_binary("hardware " + kSource + "/model/data/hardware/h200_sxm.json --format json");
  REQUIRE(hw.status == 0);
  CHECK(nlohmann::json::parse(hw.out)["id"] == "h200_sxm");
  auto two = run_cli_binary("hardware h100,h200");
  CHECK(two.status == 2);
  CHECK_THAT(two.err, Contains("one profile at a time"));
}

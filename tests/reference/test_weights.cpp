#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "helpers.h"
#include "kernels/reference/model.h"
#include "model/error.h"

using namespace attnroof::ref;
using namespace attnroof::ref::test;

TEST_CASE("weights: seeded init is deterministic and every tensor matches its spec",
          "[reference][weights]") {
  for (const VariantCase& vc : all_cases()) {
    const RefConfig c = ref_config(vc.id, 8, vc.option);
    const Weights a = init_weights(c, 42), b = init_weights(c, 42), other = init_weights(c, 43);
    for (const TensorSpec& t : weight_specs(c)) {
      INFO(c.label() << " " << t.name);
      REQUIRE(a.at(t.name).rows() == t.rows);
      REQUIRE(a.at(t.name).cols() == t.cols);
      CHECK(a.at(t.name) == b.at(t.name));
      CHECK(a.at(t.name) != other.at(t.name));
    }
  }
}

TEST_CASE("weights: save and load round-trip bit-exactly; a mismatched file is refused",
          "[reference][weights]") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  const std::string path = (dir / "attnroof_test_weights.bin").string();
  const Weights w = weights_for(VariantId::mlra2, 6, "sharded");
  save_weights(w, path);
  const Weights back = load_weights(path);
  CHECK(back.config.id == VariantId::mlra2);
  CHECK(back.config.out_proj == OutProj::sharded);
  CHECK(back.config.json == w.config.json);
  REQUIRE(back.tensors.size() == w.tensors.size());
  for (const auto& [name, m] : w.tensors) CHECK(back.at(name) == m);
  // The loaded weights compute the same outputs.
  const Mat x = random_tokens(5, w.config.d_model, 1);
  const std::vector<int64_t> pos = {0, 1, 2, 3, 4};
  const std::vector<char> valid(5, 1);
  CHECK(make_ref_model<double>(back)->forward(x, pos, valid) ==
        make_ref_model<double>(w)->forward(x, pos, valid));
  {  // truncate the file: loading must fail with an InputError naming it
    std::filesystem::resize_file(path, std::filesystem::file_size(path) - 8);
    CHECK_THROWS_AS(load_weights(path), attnroof::InputError);
  }
  {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << "not a weight file";
    CHECK_THROWS_AS(load_weights(path), attnroof::InputError);
  }
  std::filesystem::remove(path);
}

TEST_CASE("config: strict keys, and variant-specific rules are input errors", "[reference][config]") {
  using attnroof::model::JsonSource;
  nlohmann::json j = small_config(VariantId::mla, 3);
  j["d_lantent"] = 4;
  CHECK_THROWS_AS(parse_ref_config(VariantId::mla, j, JsonSource{"t"}), attnroof::InputError);
  CHECK_THROWS_AS(parse_ref_config(VariantId::mlra2, small_config(VariantId::mlra2, 3), JsonSource{"t"}),
                  attnroof::InputError);
  nlohmann::json mfa = small_config(VariantId::mfa, 3);
  mfa["key_reuse"] = true;
  CHECK_THROWS_AS(parse_ref_config(VariantId::mfa, mfa, JsonSource{"t"}), attnroof::InputError);
  const RefConfig gla = parse_ref_config(VariantId::gla, small_config(VariantId::gla, 4), JsonSource{"t"});
  CHECK(gla.n_blocks == 2);
  CHECK(gla.d_latent == 12);  // n_blocks x d_block
  nlohmann::json no_out_proj = small_config(VariantId::mlra4, 3);
  no_out_proj.erase("out_proj");  // required, as in the cost model
  CHECK_THROWS_AS(parse_ref_config(VariantId::mlra4, no_out_proj, JsonSource{"t"}), attnroof::InputError);
}

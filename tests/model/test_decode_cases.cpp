// The named decode cases (model/decode_cases.h): each case's kernel shape is the model's
// per-device attention kernel of its preset at its TP degree. These are the shapes the kernels
// were tuned and measured on (reports/kernels/): a change to a preset or a TP rule that moved one
// would silently change what bench-kernels times, so the shapes are pinned here.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "model/decode_cases.h"
#include "model/error.h"

using namespace attnroof::model;

namespace {

struct Expected {
  const char* name;
  KernelFamily family;
  int64_t d_qk, d_v, q_heads, kv_heads;
  int32_t page_size;
};

}  // namespace

TEST_CASE("each decode case runs the kernel shape it was measured on", "[model][decode_cases]") {
  const Expected expected[] = {
      {"gqa_tp8", KernelFamily::separate_kv, 128, 128, 8, 1, 128},
      {"mla", KernelFamily::shared_latent, 576, 512, 64, 1, 64},
      {"gla2_tp2", KernelFamily::shared_latent, 320, 256, 32, 1, 64},
      {"mlra4_tp4", KernelFamily::shared_latent, 192, 128, 64, 1, 64},
      {"mla_h128", KernelFamily::shared_latent, 576, 512, 128, 1, 64},
  };
  REQUIRE(decode_cases().size() == std::size(expected));
  for (std::size_t i = 0; i < std::size(expected); ++i) {
    const DecodeCase& c = decode_cases()[i];
    const Expected& e = expected[i];
    INFO(c.name);
    CHECK(c.name == e.name);
    CHECK(c.page_size == e.page_size);
    const AttentionKernelShape k = decode_case_kernel(c);
    CHECK(k.present);
    CHECK(k.family == e.family);
    CHECK(k.d_qk == e.d_qk);
    CHECK(k.d_v == e.d_v);
    CHECK(k.q_heads == e.q_heads);
    CHECK(k.kv_heads == e.kv_heads);
  }
}

TEST_CASE("a decode case is found by its exact name only", "[model][decode_cases]") {
  CHECK(find_decode_case("mlra4_tp4", "shape").tp == 4);
  CHECK(&find_decode_case("mla", "shape") == &decode_cases()[1]);
  CHECK_THROWS_WITH(find_decode_case("MLA", "--shapes"),
                    Catch::Contains("--shapes: unknown decode case 'MLA'") &&
                        Catch::Contains("gqa_tp8, mla, gla2_tp2, mlra4_tp4, mla_h128"));
  CHECK_THROWS_AS(find_decode_case("", "shape"), attnroof::InputError);
  const std::vector<std::string> names = decode_case_names();
  CHECK(names == std::vector<std::string>{"gqa_tp8", "mla", "gla2_tp2", "mlra4_tp4", "mla_h128"});
}

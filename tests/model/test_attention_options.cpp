// The decode choices' one spelling (model/attention_options.h): to_string and the parser agree,
// and the parser takes nothing else (the model's config reader and the TP step's --out-proj both
// use it).
#include <catch2/catch.hpp>

#include "model/attention_options.h"

using namespace attnroof::model;

TEST_CASE("OutProj is spelled once: to_string and out_proj_from_string agree", "[model]") {
  for (const OutProj o : {OutProj::replicated, OutProj::sharded}) {
    INFO(to_string(o));
    const auto back = out_proj_from_string(to_string(o));
    REQUIRE(back.has_value());
    CHECK(*back == o);
  }
  CHECK(to_string(OutProj::replicated) == "replicated");
  CHECK(to_string(OutProj::sharded) == "sharded");
  for (const char* bad : {"", "Sharded", "sharded ", "replicate", "option_b"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(out_proj_from_string(bad).has_value());
  }
}

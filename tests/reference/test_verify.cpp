#include <catch2/catch.hpp>

#include "kernels/reference/verify.h"
#include "model/error.h"

using namespace attnroof::ref;

TEST_CASE("verify: one report with every check per variant, all passing", "[reference][verify]") {
  VerifyOptions o;
  o.variants = {"mla", "lrkv:latent", "gqa"};
  o.tps = {1, 2};
  o.ctx_lens = {3};
  o.precision_study = false;
  const nlohmann::json report = run_verify(o);
  REQUIRE(report.at("variants").size() == 3);
  int64_t failed = 0, applicable = 0;
  for (const nlohmann::json& v : report.at("variants")) {
    REQUIRE_FALSE(v.at("checks").empty());
    for (const nlohmann::json& c : v.at("checks")) {
      REQUIRE(c.contains("max_abs_err"));
      REQUIRE(c.contains("max_rel_err"));
      if (!c.at("applicable").get<bool>()) continue;
      ++applicable;
      INFO(v.at("variant") << " " << c.at("check") << ": " << c.at("detail"));
      CHECK(c.at("pass").get<bool>());  // every variant's cost model exists: nothing may fail
      if (!c.at("pass").get<bool>()) ++failed;
    }
  }
  CHECK(applicable > 0);
  CHECK(failed == 0);
  CHECK(report.at("summary").at("failed").get<int64_t>() == 0);
  CHECK(verify_passed(report));
  const std::string table = format_verify_table(report);
  CHECK(table.find("equivalence.absorbed") != std::string::npos);
  CHECK(table.find("PASS (fails as required)") != std::string::npos);
  VerifyOptions bad;
  bad.variants = {"nope"};
  CHECK_THROWS_AS(run_verify(bad), attnroof::InputError);
  bad.variants = {"mla:latent"};
  CHECK_THROWS_AS(run_verify(bad), attnroof::InputError);
}

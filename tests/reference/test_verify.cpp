#include <catch2/catch.hpp>

#include "kernels/reference/verify.h"
#include "model/error.h"

using namespace attnroof::ref;

TEST_CASE("verify: one report with every check per variant; only one-truth may fail while a "
          "cost model is missing", "[reference][verify]") {
  VerifyOptions o;
  o.variants = {"mla", "lrkv:latent", "gqa"};
  o.tps = {1, 2};
  o.ctx_lens = {3};
  o.precision_study = false;
  const nlohmann::json report = run_verify(o);
  REQUIRE(report.at("variants").size() == 3);
  int64_t failed = 0;
  for (const nlohmann::json& v : report.at("variants")) {
    for (const nlohmann::json& c : v.at("checks")) {
      REQUIRE(c.contains("max_abs_err"));
      REQUIRE(c.contains("max_rel_err"));
      if (c.at("applicable").get<bool>() && !c.at("pass").get<bool>()) {
        ++failed;
        INFO(v.at("variant") << " " << c.at("check") << ": " << c.at("detail"));
        CHECK(c.at("check").get<std::string>().rfind("one_truth", 0) == 0);
        CHECK(c.at("detail").get<std::string>().find("could not be built") != std::string::npos);
      }
    }
  }
  CHECK(report.at("summary").at("failed").get<int64_t>() == failed);
  CHECK(verify_passed(report) == (failed == 0));
  const std::string table = format_verify_table(report);
  CHECK(table.find("equivalence.absorbed") != std::string::npos);
  CHECK(table.find("PASS (fails as required)") != std::string::npos);
  VerifyOptions bad;
  bad.variants = {"nope"};
  CHECK_THROWS_AS(run_verify(bad), attnroof::InputError);
  bad.variants = {"mla:latent"};
  CHECK_THROWS_AS(run_verify(bad), attnroof::InputError);
}

// Unit tests of the axis syntax (studies/ranges.h).
#include <catch2/catch.hpp>

#include "model/error.h"
#include "studies/ranges.h"

using attnroof::InputError;
using attnroof::cli::parse_int_axis;
using attnroof::cli::parse_real;
using attnroof::cli::parse_size;
using Catch::Matchers::Contains;

TEST_CASE("sizes take binary k and m suffixes", "[ranges]") {
  CHECK(parse_size("4096", "f") == 4096);
  CHECK(parse_size("4k", "f") == 4096);
  CHECK(parse_size("128K", "f") == 131072);
  CHECK(parse_size("2m", "f") == 2097152);
  CHECK(parse_size(" 7 ", "f") == 7);
  CHECK_THROWS_WITH(parse_size("4g", "--context"), Contains("--context") && Contains("'4g'"));
  CHECK_THROWS_AS(parse_size("", "f"), InputError);
  CHECK_THROWS_WITH(parse_size("99999999999999999999", "f"),
                    Contains("'99999999999999999999' is out of range") &&
                        Contains("9223372036854775807"));
  CHECK_THROWS_WITH(parse_size("9007199254740992m", "f"), Contains("out of range"));
  // One integer syntax: decimal only, whatever the leading zeros; no hex, no '+'.
  CHECK(parse_size("010", "f") == 10);
  CHECK(parse_size("08", "f") == 8);
  CHECK_THROWS_WITH(parse_size("0x10", "f"), Contains("'0x10' is not an integer"));
  CHECK_THROWS_AS(parse_size("+4", "f"), InputError);
  CHECK_THROWS_AS(parse_size("1.5", "f"), InputError);
}

TEST_CASE("reals are finite numbers", "[ranges]") {
  CHECK(parse_real("0.5", "f") == 0.5);
  CHECK(parse_real("7e10", "f") == 7e10);
  CHECK(parse_real("-2", "f") == -2.0);
  CHECK_THROWS_WITH(parse_real("inf", "--other-params"),
                    Contains("--other-params") && Contains("'inf' is not a finite number"));
  CHECK_THROWS_WITH(parse_real("nan", "f"), Contains("not a finite number"));
  CHECK_THROWS_WITH(parse_real("1e400", "f"), Contains("'1e400' is out of the range"));
  CHECK_THROWS_WITH(parse_real("1.5x", "f"), Contains("'1.5x' is not a number"));
  CHECK_THROWS_AS(parse_real(" ", "f"), InputError);
}

TEST_CASE("lists and ranges expand inclusively", "[ranges]") {
  CHECK(parse_int_axis("1,2,4,8", "tp") == std::vector<int64_t>{1, 2, 4, 8});
  CHECK(parse_int_axis("4k:64k:x2", "c") == std::vector<int64_t>{4096, 8192, 16384, 32768, 65536});
  // The end is included only when reached exactly.
  CHECK(parse_int_axis("3:20:x3", "c") == std::vector<int64_t>{3, 9});
  CHECK(parse_int_axis("1:10:+4", "c") == std::vector<int64_t>{1, 5, 9});
  CHECK(parse_int_axis("1:3:1", "c") == std::vector<int64_t>{1, 2, 3});
  const std::vector<int64_t> paper = parse_int_axis("128k:2m:+128k", "c");
  REQUIRE(paper.size() == 16);
  CHECK(paper.front() == 131072);
  CHECK(paper.back() == 2097152);
  CHECK(parse_int_axis("1,4k:8k:x2,3", "c") == std::vector<int64_t>{1, 4096, 8192, 3});
  CHECK(parse_int_axis("5:5:x2", "c") == std::vector<int64_t>{5});
}

TEST_CASE("bad axes name the field, the value and the rule", "[ranges]") {
  CHECK_THROWS_WITH(parse_int_axis("0", "--batch"),
                    Contains("--batch") && Contains("0") && Contains("must be >= 1"));
  CHECK_THROWS_WITH(parse_int_axis("1,-2", "--tp"), Contains("-2") && Contains("must be >= 1"));
  CHECK_THROWS_WITH(parse_int_axis("8:4:x2", "--context"), Contains("end 4 is below start 8"));
  CHECK_THROWS_WITH(parse_int_axis("1:8:x1", "--context"), Contains("factor 1 must be >= 2"));
  CHECK_THROWS_WITH(parse_int_axis("1:8:+0", "--context"), Contains("step 0 must be >= 1"));
  CHECK_THROWS_WITH(parse_int_axis("1:8", "--context"), Contains("a:b:xF"));
  CHECK_THROWS_WITH(parse_int_axis("1,,2", "--tp"), Contains("empty item"));
  CHECK_THROWS_WITH(parse_int_axis("1:100000000:+1", "--context"), Contains("more than"));
  // Overflow-safe geometric growth near the int64 limit.
  CHECK(parse_int_axis("1:4611686018427387904:x2", "c").size() == 63);
}

// Hostile JSON through the one bounded loader (model/json_reader.h): repeated keys, nesting past
// the depth limit, integers outside int64, numbers that overflow to infinity, files past the
// size cap (a sparse file, a fifo fed endlessly), directories, and truncated files, each an
// InputError with a short message naming the file, the position and the rule.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "model/calibration.h"
#include "model/error.h"
#include "model/hardware.h"
#include "model/json_reader.h"
#include "tests/model/model_test_util.h"
#include "tests/scratch_dir.h"

using namespace attnroof::model;
using attnroof::InputError;
using attnroof::model::test::variant_from_json;
using Catch::Matchers::Contains;

namespace {

const JsonSource kSource{"t.json"};

std::string parse_error(const std::string& text) {
  try {
    parse_json_text(text, kSource);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string load_error(const std::string& path) {
  try {
    load_json_file(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + "1" + std::string(depth, ']');
}

using attnroof::test::Scratch;

const std::string kGqa = R"("d_model": 4096, "q_heads": 32, "kv_heads": 8, "d_head": 128)";

}  // namespace

TEST_CASE("A repeated key is an error naming the object and the key", "[model][json]") {
  CHECK_THAT(parse_error(R"({"a": 1, "a": 2})"), Contains("t.json:1:") && Contains("at /:") &&
                                                     Contains("duplicate key 'a'"));
  CHECK_THAT(parse_error(R"({"config": {"x": [1, {"k": 1, "k": 1}]}})"),
             Contains("at /config/x/1: duplicate key 'k'"));
  // The same key in different objects is fine.
  CHECK_NOTHROW(parse_json_text(R"({"a": {"k": 1}, "b": {"k": 2}, "k": 3})", kSource));
  REQUIRE_THROWS_WITH(variant_from_json("gqa", "{" + kGqa + R"(, "d_head": 64})"),
                      Contains("duplicate key 'd_head'"));
}

TEST_CASE("Nesting is limited while parsing, and a deep value is never dumped whole", "[model][json]") {
  CHECK_NOTHROW(parse_json_text(nested_arrays(kMaxJsonDepth), kSource));
  const std::string at_limit = parse_error(nested_arrays(kMaxJsonDepth + 1));
  CHECK_THAT(at_limit, Contains("t.json:1:65:") && Contains("nested deeper than the limit of 64"));
  // 10^5 levels, as a config value: the error (not a stack overflow), short.
  const std::string deep = parse_error(R"({"d_model": )" + nested_arrays(100000) + "}");
  CHECK_THAT(deep, Contains("at /d_model/0/0/0") && Contains("nested deeper"));
  CHECK(deep.size() < 1024);
  REQUIRE_THROWS_AS(variant_from_json("gqa", R"({"d_model": )" + nested_arrays(100000) + "}"),
                    InputError);

  // A document built in code has no depth limit: the type error's echo stays bounded.
  nlohmann::json value = 1;
  for (int i = 0; i < 100000; ++i) {
    nlohmann::json outer = nlohmann::json::array();
    outer.push_back(std::move(value));
    value = std::move(outer);
  }
  nlohmann::json config = nlohmann::json::object();
  config["d_head"] = std::move(value);
  ObjectReader r(config, kSource);
  try {
    r.get_int("d_head");
    FAIL("a deep array was read as an integer");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Contains("at /d_head: expected an integer, got array [[[[") && Contains("..."));
    CHECK(what.size() < 200);
  }
}

TEST_CASE("Integers outside int64 and non-finite numbers are refused as written", "[model][json]") {
  CHECK_THAT(parse_error(R"({"d_head": 9223372036854775808})"),
             Contains("at /d_head: 9223372036854775808 is out of range for an integer (max "
                      "9223372036854775807)"));
  CHECK_THAT(parse_error(R"({"d_head": 18446744073709551615})"),
             Contains("18446744073709551615 is out of range"));
  CHECK_THAT(parse_error(R"({"n": [1, 18446744073709551616]})"),
             Contains("at /n/1: 18446744073709551616 is out of range for an integer"));
  CHECK_THAT(parse_error(R"({"n": -9223372036854775809})"), Contains("-9223372036854775809 is out of range"));
  CHECK_THAT(parse_error(R"({"other_params": 1e400})"), Contains("at /other_params: 1e400 is not a finite number"));
  CHECK_THAT(parse_error(R"({"x": -1.5E+999})"), Contains("-1.5E+999 is not a finite number"));
  CHECK_THAT(parse_error(R"({"x": 1)" + std::string(400, '0') + "}"),
             Contains("at /x: 1000000") && Contains("... is out of range for an integer"));
  const nlohmann::json edge = parse_json_text(
      R"({"max": 9223372036854775807, "min": -9223372036854775808, "tiny": 1e-400})", kSource);
  ObjectReader e(edge, kSource);
  CHECK(e.get_int("max") == std::numeric_limits<int64_t>::max());
  CHECK(e.get_int("min") == std::numeric_limits<int64_t>::min());
  CHECK(e.get_double("tiny") == 0);
  REQUIRE_THROWS_WITH(variant_from_json("gqa", R"({"d_model": 4096, "q_heads": 32, "kv_heads": 8,
                                                   "d_head": 18446744073709551615})"),
                      Contains("18446744073709551615 is out of range"));

  // Documents built in code reach the reader unparsed: it checks the same rules.
  nlohmann::json built = nlohmann::json::object();
  built["big"] = std::numeric_limits<uint64_t>::max();
  built["inf"] = std::numeric_limits<double>::infinity();
  ObjectReader b(built, kSource);
  CHECK_THROWS_WITH(b.get_int("big"),
                    Contains("at /big: 18446744073709551615 is out of range (max 9223372036854775807)"));
  CHECK_THROWS_WITH(b.get_double("inf"), Contains("at /inf: inf is not a finite number"));
}

TEST_CASE("Echoed values, keys and tokens are cut to kMaxEchoChars", "[model][json]") {
  const std::string long_text(100000, 'x');
  nlohmann::json doc = nlohmann::json::object();
  doc["d_head"] = long_text;
  doc[long_text] = 1;
  ObjectReader r(doc, kSource);
  try {
    r.get_int("d_head");
    FAIL("a string was read as an integer");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).size() < 200);
  }
  try {
    r.finish();
    FAIL("an unknown key was accepted");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Contains("unknown key 'xxxx") && Contains("...'"));
    CHECK(std::string(e.what()).size() < 400);
  }
  CHECK(excerpt(long_text) == std::string(kMaxEchoChars, 'x') + "...");
  // A string value is capped, so the messages that echo one whole stay short too.
  nlohmann::json names = nlohmann::json::object();
  names["ok"] = std::string(kMaxStringBytes, 'n');
  names["long"] = std::string(kMaxStringBytes + 1, 'n');
  ObjectReader n(names, kSource);
  CHECK(n.get_string("ok").size() == kMaxStringBytes);
  CHECK_THROWS_WITH(n.get_string("long"), Contains("at /long: a string of 4097 bytes (nnnn") &&
                                              Contains("is longer than the limit of 4096"));
  // A cut never splits a UTF-8 sequence ("é" is two bytes).
  const std::string accents = std::string(kMaxEchoChars - 1, 'a') + "\xc3\xa9\xc3\xa9";
  CHECK(excerpt(accents) == std::string(kMaxEchoChars - 1, 'a') + "...");
  CHECK(parse_error(R"({")" + long_text + R"(": 1, ")" + long_text + R"(": 2})").size() < 400);
}

TEST_CASE("A truncated or garbled file gives a short syntax error", "[model][json]") {
  Scratch dir;
  // A 10 MB file cut inside a string: nlohmann's "last read" token is the whole string.
  const std::string cut = dir.file("cut.json", R"({"d_model": 4096, "description": ")" +
                                                   std::string(10 << 20, 'a'));
  const std::string message = load_error(cut);
  CHECK_THAT(message, Contains(cut + ":1:") && Contains("malformed JSON") && Contains("last read"));
  CHECK(message.size() < 1024);
  CHECK_THAT(parse_error("{\"d_model\": 4096,\n \"q_heads\": 32,, }"),
             Contains("t.json:2:16: malformed JSON: syntax error"));
  CHECK_THAT(parse_error("{\"a\": \"\xff\"}"), Contains("malformed JSON") && Contains("UTF-8"));
  CHECK_THAT(parse_error(""), Contains("t.json:1:1: malformed JSON"));
}

TEST_CASE("Files: size cap, directories, missing files, fifos", "[model][json]") {
  Scratch dir;
  // Sparse: one byte past the cap costs no disk.
  const std::string big = dir.path("big.json");
  {
    std::ofstream(big) << "{}";
  }
  std::filesystem::resize_file(big, kMaxInputFileBytes + 1);
  CHECK_THAT(load_error(big), Contains(big + ": larger than the 64 MiB limit on input files"));
  std::filesystem::resize_file(big, 2);
  CHECK_NOTHROW(load_json_file(big));

  CHECK_THAT(load_error(dir.path("")), Contains(": is a directory, not a file"));
  CHECK_THAT(load_error(dir.path("missing.json")),
             Contains("missing.json: cannot open: No such file or directory"));
  CHECK_THROWS_WITH(load_hardware_file(dir.path("")), Contains("is a directory"));
  CHECK_THROWS_WITH(load_calibration_file(dir.path("missing.json")), Contains("cannot open"));

  // A fifo fed without end (as /dev/zero would be): reading stops one byte past the cap.
  const std::string fifo = dir.path("endless");
  std::thread writer = attnroof::test::endless_fifo(fifo, 2 * kMaxInputFileBytes);
  REQUIRE(std::filesystem::is_fifo(fifo));
  const std::string message = load_error(fifo);
  writer.join();
  CHECK_THAT(message, Contains(fifo + ": larger than the 64 MiB limit"));
}

// Deterministic fuzz of the model's file readers: hostile mutations (tests/model/json_mutations.h)
// of every builtin preset, hardware profile and calibration profile, read through the same
// entry points the binary uses (parse_json_text + parse_preset, which builds the variant with
// make_variant; parse_hardware; parse_calibration). The invariant: each mutant loads, or is an
// InputError with a short, non-empty message; never another exception or a crash.
// ATTNROOF_FUZZ_ITERATIONS=N runs N mutants per file kind (default 600; 150 under the
// sanitizers, where the three kinds' 600 took two minutes).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "model/calibration.h"
#include "model/error.h"
#include "model/hardware.h"
#include "model/json_reader.h"
#include "model/presets.h"
#include "tests/model/json_mutations.h"
#include "tests/sanitized.h"

using namespace attnroof::model;
using attnroof::InputError;
using attnroof::test::fuzz_iterations;
using attnroof::test::JsonMutator;

namespace {

// A message may echo one string value whole (at most kMaxStringBytes) next to its rule, whose
// longest text (a list of valid keys or choices) is well under 2 KB; the mutants are far longer.
constexpr std::size_t kMaxMessageBytes = kMaxStringBytes + 2048;

struct File {
  std::string path, text;
};

std::vector<File> data_files(const std::string& kind) {
  std::vector<File> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(ATTNROOF_SOURCE_DIR) + "/model/data/" + kind)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    out.push_back({e.path().string(), s.str()});
  }
  std::sort(out.begin(), out.end(), [](const File& a, const File& b) { return a.path < b.path; });
  return out;
}

// Reads every mutant with `read`; fails on the first that breaks the invariant.
void fuzz(const std::string& kind, uint64_t seed, const std::function<void(const std::string&, const JsonSource&)>& read) {
  const std::vector<File> files = data_files(kind);
  REQUIRE(!files.empty());
  JsonMutator mutator(seed);
  const int n = fuzz_iterations(attnroof::test::kSanitized ? 150 : 600);
  int loaded = 0, refused = 0;
  for (int i = 0; i < n; ++i) {
    const File& f = files[std::size_t(i) % files.size()];
    const JsonMutator::Mutant m = mutator.mutate(f.text);
    const JsonSource source{f.path};
    std::string problem;
    try {
      read(m.text, source);
      ++loaded;
    } catch (const InputError& e) {
      ++refused;
      const std::string what = e.what();
      if (what.empty() || what.size() > kMaxMessageBytes)
        problem = "InputError of " + std::to_string(what.size()) + " bytes: " + excerpt(what);
    } catch (const std::exception& e) {
      problem = std::string("not an InputError: ") + e.what();
    }
    if (!problem.empty()) {
      INFO(kind << " mutant " << i << " of " << f.path << " (" << m.edit << "): " << problem);
      FAIL("the reader broke the invariant");
    }
  }
  // The mutations both break files and leave some loadable (type swaps of optional fields...).
  INFO(kind << ": " << loaded << " loaded, " << refused << " refused");
  CHECK(refused > n / 2);
  CHECK(loaded > 0);
}

}  // namespace

TEST_CASE("Fuzz: mutated presets load or are input errors", "[model][fuzz]") {
  fuzz("presets", 1, [](const std::string& text, const JsonSource& source) {
    const nlohmann::json j = parse_json_text(text, source);
    ObjectReader r(j, source);
    parse_preset(r);
  });
}

TEST_CASE("Fuzz: mutated hardware profiles load or are input errors", "[model][fuzz]") {
  fuzz("hardware", 2, [](const std::string& text, const JsonSource& source) {
    const nlohmann::json j = parse_json_text(text, source);
    ObjectReader r(j, source);
    parse_hardware(r);
  });
}

TEST_CASE("Fuzz: mutated calibration profiles load or are input errors", "[model][fuzz]") {
  fuzz("calibration", 3, [](const std::string& text, const JsonSource& source) {
    parse_calibration(parse_json_text(text, source), source);
  });
}

// defines: JsonMutator, fuzz_iterations (deterministic hostile edits of JSON files, for the fuzz
// tests of every file reader)
//
// Each mutation starts from a valid document and makes one hostile edit: truncation, deleted
// bytes, a value swapped for another type, nesting around the depth limit and far past it, a
// large value, a repeated key, odd or invalid UTF-8, and numbers at and past the int64 and
// double ranges. The generator is a fixed-seed std::mt19937_64 reduced with %, so the sequence
// is the same on every platform and a failure names the iteration that reproduces it.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "model/json_reader.h"

namespace attnroof::test {

// ATTNROOF_FUZZ_ITERATIONS=N runs N (longer on demand); the default keeps CI's two runs (one under
// the sanitizers) within seconds.
inline int fuzz_iterations(int fallback) {
  const char* env = std::getenv("ATTNROOF_FUZZ_ITERATIONS");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : fallback;
}

class JsonMutator {
 public:
  explicit JsonMutator(uint64_t seed) : rng_(seed) {}

  struct Mutant {
    std::string text;
    std::string edit;  // what was done, for the failure message
  };

  // One hostile copy of `text`, which must be valid JSON.
  Mutant mutate(const std::string& text) {
    Mutant m = once(text);
    // Now and then a second, textual edit on top of the first.
    if (below(4) == 0) {
      Mutant again = textual(m.text);
      m.text = std::move(again.text);
      m.edit += " + " + again.edit;
    }
    return m;
  }

 private:
  std::mt19937_64 rng_;

  std::size_t below(std::size_t n) { return n == 0 ? 0 : std::size_t(rng_() % n); }

  template <class T>
  const T& pick(const std::vector<T>& options) {
    return options[below(options.size())];
  }

  Mutant once(const std::string& text) {
    switch (below(8)) {
      case 0: return truncated(text);
      case 1: return deleted(text);
      case 2: return odd_unicode(text);
      case 3: return swapped_type(text);
      case 4: return nested(text);
      case 5: return large(text);
      case 6: return duplicate_key(text);
      default: return big_number(text);
    }
  }

  Mutant textual(const std::string& text) {
    switch (below(3)) {
      case 0: return truncated(text);
      case 1: return deleted(text);
      default: return odd_unicode(text);
    }
  }

  Mutant truncated(const std::string& text) {
    const std::size_t at = below(text.size());
    return {text.substr(0, at), "truncated at byte " + std::to_string(at)};
  }

  Mutant deleted(const std::string& text) {
    const std::size_t at = below(text.size());
    const std::size_t n = 1 + below(8);
    std::string out = text;
    out.erase(at, n);
    return {out, "deleted " + std::to_string(n) + " bytes at " + std::to_string(at)};
  }

  Mutant odd_unicode(const std::string& text) {
    static const std::vector<std::string> odd = {
        "\xff", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xef\xbb\xbf", "\xe2\x80\xae",
        "\\ud800", "\\udc00\\ud800", "\\u0000", std::string(1, '\0'), "\x01", "\xc0\xaf"};
    // Inside a string (after a quote) most of the time, where the lexer checks UTF-8.
    std::vector<std::size_t> quotes;
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '"') quotes.push_back(i + 1);
    const std::size_t at = !quotes.empty() && below(4) != 0 ? pick(quotes) : below(text.size() + 1);
    const std::string& bytes = pick(odd);
    std::string out = text;
    out.insert(at, bytes);
    return {out, "inserted odd bytes (" + std::to_string(bytes.size()) + ") at " + std::to_string(at)};
  }

  // Every value's pointer in the document (the root excluded).
  static void pointers(const nlohmann::json& v, const nlohmann::json::json_pointer& at,
                       std::vector<nlohmann::json::json_pointer>& out) {
    if (v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        out.push_back(at / it.key());
        pointers(*it, at / it.key(), out);
      }
    } else if (v.is_array()) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        out.push_back(at / i);
        pointers(v[i], at / i, out);
      }
    }
  }

  // The document with the value at a random pointer replaced by `literal` (any text, which need
  // not be valid JSON, nor build a value nlohmann could hold or dump).
  Mutant replaced(const std::string& text, const std::string& literal, const std::string& what) {
    nlohmann::json doc = nlohmann::json::parse(text);
    std::vector<nlohmann::json::json_pointer> all;
    pointers(doc, nlohmann::json::json_pointer(), all);
    if (all.empty()) return {literal, what + " as the whole document"};
    const nlohmann::json::json_pointer& at = pick(all);
    const std::string placeholder = "\x01placeholder\x01";
    doc[at] = placeholder;
    std::string out = doc.dump(below(2) == 0 ? -1 : 1);
    const std::string quoted = nlohmann::json(placeholder).dump();
    out.replace(out.find(quoted), quoted.size(), literal);
    return {out, what + " at " + at.to_string()};
  }

  Mutant swapped_type(const std::string& text) {
    static const std::vector<std::string> values = {
        "\"x\"", "\"\"", "0", "-1", "1.5", "true", "false", "null", "[]", "{}", "[1, 2, 3]",
        "{\"k\": 1}", "\"0\"", "\"1e3\"", "[\"a\", null]"};
    const std::string& v = pick(values);
    return replaced(text, v, "replaced by " + v);
  }

  Mutant nested(const std::string& text) {
    const int limit = model::kMaxJsonDepth;
    static const std::vector<int> depths = {limit - 2, limit - 1, limit, limit + 1, 1000, 100000};
    const int depth = pick(depths);
    const bool arrays = below(2) == 0;
    std::string literal;
    if (arrays) {
      literal.assign(std::size_t(depth), '[');
      literal += '1';
      literal.append(std::size_t(depth), ']');
    } else {
      for (int i = 0; i < depth; ++i) literal += "{\"k\":";
      literal += '1';
      literal.append(std::size_t(depth), '}');
    }
    return replaced(text, literal, "nested " + std::to_string(depth) + (arrays ? " arrays" : " objects"));
  }

  Mutant large(const std::string& text) {
    if (below(2) == 0) {
      std::string literal(std::size_t(1) << 20, 'L');
      literal.front() = literal.back() = '"';
      return replaced(text, literal, "a 1 MiB string");
    }
    std::string literal = "[";
    for (int i = 0; i < 100000; ++i) {
      if (i > 0) literal += ',';
      literal += std::to_string(i);
    }
    literal += ']';
    return replaced(text, literal, "an array of 100000 numbers");
  }

  Mutant duplicate_key(const std::string& text) {
    static const std::regex key("\"([A-Za-z0-9_]+)\"\\s*:");
    std::vector<std::pair<std::size_t, std::string>> keys;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), key); it != std::sregex_iterator(); ++it)
      keys.emplace_back(std::size_t(it->position()), (*it)[1].str());
    if (keys.empty()) return truncated(text);
    const auto& [at, name] = pick(keys);
    static const std::vector<std::string> values = {"0", "\"x\"", "null", "{}"};
    std::string member = "\"";
    member += name;
    member += "\": ";
    member += pick(values);
    member += ", ";
    std::string out = text;
    out.insert(at, member);
    return {out, "repeated key '" + name + "' at byte " + std::to_string(at)};
  }

  Mutant big_number(const std::string& text) {
    static const std::vector<std::string> numbers = {
        "9223372036854775807",  "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "123456789012345678901234567890",
        "4611686018427387904",  "4294967296", "2147483648", "1e400", "-1e400", "1e-400", "1e308",
        "-0", "0.0", "1.7976931348623157e308", "4.9e-324", "1" + std::string(400, '0')};
    const std::string& n = pick(numbers);
    return replaced(text, n, "replaced by " + n.substr(0, 40));
  }
};

}  // namespace attnroof::test

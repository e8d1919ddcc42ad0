// defines: JsonSource, load_json_file, parse_json_text, ObjectReader (strict, typed JSON access)
//
// Every config, preset and hardware file is read through ObjectReader: a missing key, a wrong
// type or an unknown key is an InputError that names the file, the position (a JSON pointer such
// as /config/d_latent) and the key, and lists the keys that are valid there. nlohmann's
// *_WITH_DEFAULT macros silently ignore unknown keys, which is why they are not used.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace attnroof::model {

// Where a JSON document came from, for error messages ("studies/paper.json", "--config", ...).
struct JsonSource {
  std::string name;
};

// Parses a file; a syntax error names the file, line and column. Throws InputError.
nlohmann::json load_json_file(const std::string& path);
// Parses text from `source` (used for inline configs and tests). Throws InputError.
nlohmann::json parse_json_text(const std::string& text, const JsonSource& source);

class ObjectReader {
 public:
  // `pointer` is the JSON pointer of `obj` inside its document ("" for the root).
  ObjectReader(const nlohmann::json& obj, JsonSource source, std::string pointer = "");

  int64_t get_int(const char* key);
  int64_t get_int(const char* key, int64_t fallback);
  double get_double(const char* key);
  double get_double(const char* key, double fallback);
  std::string get_string(const char* key);
  std::string get_string(const char* key, const std::string& fallback);
  bool get_bool(const char* key, bool fallback);
  bool has(const char* key) const;
  // Sub-object; the returned reader reports positions below this one.
  ObjectReader get_object(const char* key);
  // Raw access for arrays and free-form values (marks the key as known).
  const nlohmann::json& get_raw(const char* key);
  // Positive integer (> 0); the error names the key and the rule.
  int64_t get_positive_int(const char* key);
  int64_t get_positive_int(const char* key, int64_t fallback);

  // Throws if the object holds keys that no getter asked for, listing the valid keys.
  void finish() const;

  const JsonSource& source() const { return source_; }
  // JSON pointer of `key` inside this object ("/sections/2/models"), for nested readers.
  std::string pointer(const char* key) const { return pointer_ + "/" + key; }
  std::string position(const char* key) const;  // "<file>: at /a/b/key"
  [[noreturn]] void fail(const char* key, const std::string& what) const;

 private:
  const nlohmann::json& obj_;
  JsonSource source_;
  std::string pointer_;
  std::set<std::string> known_;
  const nlohmann::json* find(const char* key);
};

}  // namespace attnroof::model

// defines: JsonSource, kMaxInputFileBytes, kMaxJsonDepth, kMaxEchoChars, kMaxStringBytes,
//          read_input_file,
//          load_json_file, parse_json_text, excerpt, excerpt_json, ObjectReader (strict, typed JSON access)
//
// Every config, preset, hardware, study, calibration profile and measurement file is read
// through read_input_file and parsed by parse_json_text, which enforce the limits below while
// parsing (a hostile file stops early instead of exhausting memory or the stack):
//   - kMaxInputFileBytes: at most this many bytes are read; a longer file (or /dev/zero) is an
//     error after reading one byte more.
//   - kMaxJsonDepth: arrays and objects nest at most this deep (the root counts as 1).
//   - a key that appears twice in one object is an error (nlohmann would keep the last).
//   - an integer literal outside the 64-bit signed range, or a number that overflows to
//     infinity (1e400), is an error echoing the literal as written.
// Messages echo input (values, keys, the last token of a syntax error) through excerpt() and
// excerpt_json(), cut to kMaxEchoChars, so no message grows with the input.
//
// ObjectReader: a missing key, a wrong type or an unknown key is an InputError that names the
// file, the position (a JSON pointer such as /config/d_latent) and the key, and lists the keys
// that are valid there. nlohmann's *_WITH_DEFAULT macros silently ignore unknown keys, which is
// why they are not used.
#pragma once
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace attnroof::model {

// The largest committed input is ~2 MB (a calibration measurement file); 64 MiB leaves room for
// much larger measurement campaigns.
inline constexpr std::size_t kMaxInputFileBytes = std::size_t(64) << 20;
// Our own files nest at most ~6 deep; the limit keeps recursive consumers (dump, comparisons,
// destructors of user code) far from the stack's end.
inline constexpr int kMaxJsonDepth = 64;
// How much of an input value, key or token a message echoes before "...".
inline constexpr std::size_t kMaxEchoChars = 80;
// The longest string ObjectReader::get_string returns (bytes). No name, label, note or
// description needs more (the longest committed is under 1000), and the many messages that
// echo a string they were given ("out_proj = 'X' is unknown") stay short.
inline constexpr std::size_t kMaxStringBytes = 4096;

// Where a JSON document came from, for error messages ("studies/paper.json", "--config", ...).
struct JsonSource {
  std::string name;
};

// The whole file, at most kMaxInputFileBytes. A directory, an unopenable path (with the system's
// reason) or a longer file is an InputError naming the path. Fifos and devices are read (capped).
std::string read_input_file(const std::string& path);
// read_input_file + parse_json_text. Throws InputError.
nlohmann::json load_json_file(const std::string& path);
// Parses text from `source` under the limits above; a syntax error names the source, line and
// column. Throws InputError.
nlohmann::json parse_json_text(std::string_view text, const JsonSource& source);

// Input text or a value as a message shows it: at most kMaxEchoChars, then "...". The JSON form
// is built only as far as it is shown, so a deep or huge value costs nothing.
// Control characters are shown escaped (\n, \x1b), so a message stays one line.
std::string excerpt(std::string_view text);
std::string excerpt_json(const nlohmann::json& value);

class ObjectReader {
 public:
  // `pointer` is the JSON pointer of `obj` inside its document ("" for the root).
  ObjectReader(const nlohmann::json& obj, JsonSource source, std::string pointer = "");

  int64_t get_int(const char* key);
  int64_t get_int(const char* key, int64_t fallback);
  // Finite numbers only (integers are converted).
  double get_double(const char* key);
  double get_double(const char* key, double fallback);
  // At most kMaxStringBytes (free-form text travels through get_raw).
  std::string get_string(const char* key);
  std::string get_string(const char* key, const std::string& fallback);
  bool get_bool(const char* key, bool fallback);
  bool has(const char* key) const;
  // Sub-object; the returned reader reports positions below this one.
  ObjectReader get_object(const char* key);
  // Raw access for arrays and free-form values (marks the key as known).
  const nlohmann::json& get_raw(const char* key);
  // An array (possibly empty); the error names the key and what the elements must be.
  const nlohmann::json& get_array(const char* key, const char* of_what);
  // Positive integer (> 0); the error names the key and the rule.
  int64_t get_positive_int(const char* key);
  int64_t get_positive_int(const char* key, int64_t fallback);

  // Throws if the object holds keys that no getter asked for, listing the valid keys.
  void finish() const;

  const JsonSource& source() const { return source_; }
  // The object read (for checks over all its keys, model/config_keys.h).
  const nlohmann::json& object() const { return obj_; }
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

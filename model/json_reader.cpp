#include "model/json_reader.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "model/error.h"

namespace attnroof::model {

namespace {

// Line and column (1-based) of a byte offset, for parse errors.
std::pair<int64_t, int64_t> line_col(const std::string& text, std::size_t byte) {
  int64_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

std::string type_name(const nlohmann::json& v) { return v.type_name(); }

}  // namespace

nlohmann::json parse_json_text(const std::string& text, const JsonSource& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    auto [line, col] = line_col(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string what = e.what();
    // nlohmann's message starts with "[json.exception.parse_error.101] parse error at line ..."
    const auto colon = what.find(": ", what.find("parse error"));
    throw InputError(fmt::format("{}:{}:{}: malformed JSON: {}", source.name, line, col,
                                 colon == std::string::npos ? what : what.substr(colon + 2)));
  }
}

nlohmann::json load_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open file", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_json_text(buf.str(), JsonSource{path});
}

ObjectReader::ObjectReader(const nlohmann::json& obj, JsonSource source, std::string pointer)
    : obj_(obj), source_(std::move(source)), pointer_(std::move(pointer)) {
  if (!obj_.is_object()) {
    throw InputError(fmt::format("{}: at {}: expected a JSON object, got {}", source_.name,
                                 pointer_.empty() ? "/" : pointer_, type_name(obj_)));
  }
}

std::string ObjectReader::position(const char* key) const {
  return fmt::format("{}: at {}/{}", source_.name, pointer_, key);
}

void ObjectReader::fail(const char* key, const std::string& what) const {
  throw InputError(fmt::format("{}: {}", position(key), what));
}

bool ObjectReader::has(const char* key) const { return obj_.contains(key); }

const nlohmann::json* ObjectReader::find(const char* key) {
  known_.insert(key);
  auto it = obj_.find(key);
  return it == obj_.end() ? nullptr : &*it;
}

int64_t ObjectReader::get_int(const char* key) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) fail(key, "required key is missing");
  if (!v->is_number_integer()) {
    fail(key, fmt::format("expected an integer, got {} {}", type_name(*v), v->dump()));
  }
  return v->get<int64_t>();
}

int64_t ObjectReader::get_int(const char* key, int64_t fallback) {
  return has(key) ? get_int(key) : (known_.insert(key), fallback);
}

int64_t ObjectReader::get_positive_int(const char* key) {
  const int64_t v = get_int(key);
  if (v <= 0) fail(key, fmt::format("{} = {} is invalid: must be a positive integer", key, v));
  return v;
}

int64_t ObjectReader::get_positive_int(const char* key, int64_t fallback) {
  return has(key) ? get_positive_int(key) : (known_.insert(key), fallback);
}

double ObjectReader::get_double(const char* key) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) fail(key, "required key is missing");
  if (!v->is_number()) {
    fail(key, fmt::format("expected a number, got {} {}", type_name(*v), v->dump()));
  }
  return v->get<double>();
}

double ObjectReader::get_double(const char* key, double fallback) {
  return has(key) ? get_double(key) : (known_.insert(key), fallback);
}

std::string ObjectReader::get_string(const char* key) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) fail(key, "required key is missing");
  if (!v->is_string()) {
    fail(key, fmt::format("expected a string, got {} {}", type_name(*v), v->dump()));
  }
  return v->get<std::string>();
}

std::string ObjectReader::get_string(const char* key, const std::string& fallback) {
  return has(key) ? get_string(key) : (known_.insert(key), fallback);
}

bool ObjectReader::get_bool(const char* key, bool fallback) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) {
    fail(key, fmt::format("expected true or false, got {} {}", type_name(*v), v->dump()));
  }
  return v->get<bool>();
}

ObjectReader ObjectReader::get_object(const char* key) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) fail(key, "required key is missing");
  return ObjectReader(*v, source_, pointer_ + "/" + key);
}

const nlohmann::json& ObjectReader::get_raw(const char* key) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) fail(key, "required key is missing");
  return *v;
}

void ObjectReader::finish() const {
  for (auto it = obj_.begin(); it != obj_.end(); ++it) {
    if (known_.count(it.key()) == 0) {
      std::string valid;
      for (const std::string& k : known_) valid += (valid.empty() ? "" : ", ") + k;
      throw InputError(fmt::format("{}: at {}/{}: unknown key '{}'; valid keys here: {}",
                                   source_.name, pointer_, it.key(), it.key(), valid));
    }
  }
}

}  // namespace attnroof::model

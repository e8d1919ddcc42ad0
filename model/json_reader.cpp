#include "model/json_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>

#include "model/error.h"

namespace attnroof::model {

namespace {

// Line and column (1-based) of a byte offset, for parse errors.
std::pair<int64_t, int64_t> line_col(std::string_view text, std::size_t byte) {
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

// The JSON text of `v` into `out`, stopping once `out` is longer than kMaxEchoChars (excerpt()
// then cuts it): the recursion ends after at most kMaxEchoChars levels, each adding a bracket.
void write_excerpt(const nlohmann::json& v, std::string& out) {
  const auto quoted = [](std::string_view s) {
    // A cut inside a UTF-8 sequence is replaced, not an error: the text is only shown.
    return nlohmann::json(std::string(s.substr(0, kMaxEchoChars + 1)))
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  if (v.is_string()) {
    out += quoted(v.get_ref<const std::string&>());
  } else if (v.is_array() || v.is_object()) {
    out += v.is_array() ? '[' : '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (out.size() > kMaxEchoChars) return;
      if (!first) out += ',';
      first = false;
      if (v.is_object()) out += quoted(it.key()) + ':';
      write_excerpt(*it, out);
    }
    out += v.is_array() ? ']' : '}';
  } else {
    out += v.dump();
  }
}

// nlohmann's lexer reads the text through this iterator, which remembers how far it got: the
// handler below raises its errors at a point nlohmann gives it no position for.
class TrackedChar {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  TrackedChar(const char* p, const char** furthest) : p_(p), furthest_(furthest) {}
  reference operator*() const { return *p_; }
  TrackedChar& operator++() {
    *furthest_ = ++p_;
    return *this;
  }
  TrackedChar operator++(int) {
    TrackedChar before = *this;
    ++*this;
    return before;
  }
  bool operator==(const TrackedChar& o) const { return p_ == o.p_; }
  bool operator!=(const TrackedChar& o) const { return p_ != o.p_; }

 private:
  const char* p_;
  const char** furthest_;
};

// Builds the document from nlohmann's SAX events, refusing what the DOM parser would accept
// silently: nesting past kMaxJsonDepth, a repeated key and an integer outside int64 (nlohmann
// would keep it as an unsigned or round it to a double). A number that overflows a double
// (1e400) is nlohmann's own error, reworded here with its position.
class LimitedDomBuilder {
 public:
  using json = nlohmann::json;

  LimitedDomBuilder(std::string_view text, const JsonSource& source) : text_(text), source_(source) {}

  const char* furthest = nullptr;  // how far the lexer has read (TrackedChar)
  json root;

  bool null() { return add(json(nullptr)); }
  bool boolean(bool v) { return add(json(v)); }
  bool number_integer(json::number_integer_t v) { return add(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) {
    if (v > json::number_unsigned_t(std::numeric_limits<int64_t>::max()))
      fail(fmt::format("{} is out of range for an integer (max {}); write it with an exponent "
                       "(1e19) if a real number is meant",
                       v, std::numeric_limits<int64_t>::max()));
    return add(json(v));
  }
  bool number_float(json::number_float_t v, const std::string& literal) {
    // nlohmann parses an integer literal too long for 64 bits as a rounded double.
    if (is_integer_literal(literal)) refuse_integer(literal);
    return add(json(v));
  }
  bool string(std::string& v) { return add(json(std::move(v))); }
  // Required by the SAX interface; JSON text has no binary values.
  bool binary(json::binary_t& v) { return add(json::binary(std::move(v))); }

  bool start_object(std::size_t /*elements*/) { return open(json::object()); }
  bool start_array(std::size_t /*elements*/) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(std::string& k) {
    json& obj = *stack_.back();
    if (obj.contains(k)) {
      keys_.back().reset();  // the pointer names the object; the message names the key
      fail(fmt::format("duplicate key '{}' (each key may appear once in an object)", excerpt(k)));
    }
    keys_.back() = k;
    member_ = &obj[k];
    return true;
  }

  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& e) {
    // nlohmann refuses a number that overflows a double (1e400) as out_of_range.406.
    if (e.id == 406) {
      if (is_integer_literal(last_token)) refuse_integer(last_token);
      fail(fmt::format("{} is not a finite number", excerpt(last_token)));
    }
    const auto [line, col] = line_col(text_, position == 0 ? 0 : position - 1);
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line L, column C:
    // syntax error while parsing value - ...; last read: 'TOKEN'; expected ..."; the token is
    // the whole unfinished string of a truncated file, so it is cut.
    std::string what = e.what();
    const auto colon = what.find(": ", what.find("parse error"));
    if (colon != std::string::npos) what = what.substr(colon + 2);
    const std::string read = "; last read: '" + last_token + "'";
    if (const auto at = what.find(read); at != std::string::npos)
      what.replace(at, read.size(), "; last read: '" + excerpt(last_token) + "'");
    throw InputError(
        fmt::format("{}:{}:{}: malformed JSON: {}", source_.name, line, col, what));
  }

 private:
  std::string_view text_;
  const JsonSource& source_;
  std::vector<json*> stack_;       // the open arrays and objects, outermost first
  std::vector<std::optional<std::string>> keys_;  // per open container: its current key
  json* member_ = nullptr;         // where the next value of the innermost object goes

  static bool is_integer_literal(const std::string& literal) {
    return literal.find_first_of(".eE") == std::string::npos;
  }

  [[noreturn]] void refuse_integer(const std::string& literal) const {
    fail(fmt::format("{} is out of range for an integer (min {}, max {})", excerpt(literal),
                     std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()));
  }

  bool add(json&& v) { return place(std::move(v)) != nullptr; }

  json* place(json&& v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    *member_ = std::move(v);
    return member_;
  }

  bool open(json&& container) {
    if (int64_t(stack_.size()) >= kMaxJsonDepth)
      fail(fmt::format("nested deeper than the limit of {} arrays and objects", kMaxJsonDepth));
    json* placed = place(std::move(container));
    stack_.push_back(placed);
    keys_.emplace_back();
    return true;
  }

  bool close() {
    stack_.pop_back();
    keys_.pop_back();
    return true;
  }

  // The pointer of the value being added: each open container's current member.
  std::string pointer() const {
    std::string out;
    for (std::size_t i = 0; i < stack_.size(); ++i) {
      if (stack_[i]->is_object()) {
        if (keys_[i]) out += "/" + excerpt(*keys_[i]);
      } else {
        // Inner levels are already placed (their element is the last); the innermost is not yet.
        const std::size_t n = stack_[i]->size();
        out += "/" + std::to_string(i + 1 < stack_.size() ? n - 1 : n);
      }
    }
    return out.empty() ? "/" : out;
  }

  [[noreturn]] void fail(const std::string& what) const {
    const std::size_t read = furthest == nullptr ? 0 : std::size_t(furthest - text_.data());
    const auto [line, col] = line_col(text_, read == 0 ? 0 : read - 1);
    throw InputError(fmt::format("{}:{}:{}: at {}: {}", source_.name, line, col, pointer(), what));
  }
};

// Closes the descriptor on every path out of read_input_file.
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string excerpt(std::string_view text) {
  std::size_t cut = text.size();
  if (cut > kMaxEchoChars) {
    cut = kMaxEchoChars;
    // Do not split a UTF-8 sequence: back up over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  // Control characters are shown escaped: a message stays one line, and input cannot send the
  // terminal escape sequences.
  std::string out;
  for (const char c : text.substr(0, cut)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out.push_back(c);
    }
  }
  return cut < text.size() ? out + "..." : out;
}

std::string excerpt_json(const nlohmann::json& value) {
  std::string out;
  write_excerpt(value, out);
  return excerpt(out);
}

std::string read_input_file(const std::string& path) {
  FileDescriptor f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw InputError(fmt::format("{}: is a directory, not a file", path));
  const auto too_large = [&] {
    return InputError(fmt::format("{}: larger than the {} MiB limit on input files", path,
                                  kMaxInputFileBytes >> 20));
  };
  if (S_ISREG(st.st_mode) && uint64_t(st.st_size) > kMaxInputFileBytes) throw too_large();
  // Read at most one byte past the limit: a fifo or device has no size to check first.
  std::string text;
  std::size_t used = 0;
  while (true) {
    if (text.size() - used < 65536) text.resize(std::min(used + 262144, kMaxInputFileBytes + 1));
    if (used == text.size()) throw too_large();
    const ssize_t n = ::read(f.fd, text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    if (n == 0) break;
    used += std::size_t(n);
  }
  text.resize(used);
  return text;
}

nlohmann::json parse_json_text(std::string_view text, const JsonSource& source) {
  LimitedDomBuilder builder(text, source);
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  builder.furthest = begin;
  // Every refusal throws from the handler; a false return cannot happen.
  nlohmann::json::sax_parse(TrackedChar(begin, &builder.furthest), TrackedChar(end, &builder.furthest),
                            &builder);
  return std::move(builder.root);
}

nlohmann::json load_json_file(const std::string& path) {
  return parse_json_text(read_input_file(path), JsonSource{path});
}

ObjectReader::ObjectReader(const nlohmann::json& obj, JsonSource source, std::string pointer)
    : obj_(obj), source_(std::move(source)), pointer_(std::move(pointer)) {
  if (!obj_.is_object()) {
    throw InputError(fmt::format("{}: at {}: expected a JSON object, got {} {}", source_.name,
                                 pointer_.empty() ? "/" : pointer_, type_name(obj_), excerpt_json(obj_)));
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
    fail(key, fmt::format("expected an integer, got {} {}", type_name(*v), excerpt_json(*v)));
  }
  // Parsed text never holds one (parse_json_text refuses it); a document built in code may.
  if (v->is_number_unsigned() &&
      v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
    fail(key, fmt::format("{} is out of range (max {})", v->get<uint64_t>(),
                          std::numeric_limits<int64_t>::max()));
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
    fail(key, fmt::format("expected a number, got {} {}", type_name(*v), excerpt_json(*v)));
  }
  const double d = v->get<double>();
  // Parsed text never holds one (parse_json_text refuses 1e400); a document built in code may.
  if (!std::isfinite(d)) fail(key, fmt::format("{} is not a finite number", d));
  return d;
}

double ObjectReader::get_double(const char* key, double fallback) {
  return has(key) ? get_double(key) : (known_.insert(key), fallback);
}

std::string ObjectReader::get_string(const char* key) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) fail(key, "required key is missing");
  if (!v->is_string()) {
    fail(key, fmt::format("expected a string, got {} {}", type_name(*v), excerpt_json(*v)));
  }
  const std::string& s = v->get_ref<const std::string&>();
  if (s.size() > kMaxStringBytes)
    fail(key, fmt::format("a string of {} bytes ({}) is longer than the limit of {}", s.size(),
                          excerpt(s), kMaxStringBytes));
  return s;
}

std::string ObjectReader::get_string(const char* key, const std::string& fallback) {
  return has(key) ? get_string(key) : (known_.insert(key), fallback);
}

bool ObjectReader::get_bool(const char* key, bool fallback) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) {
    fail(key, fmt::format("expected true or false, got {} {}", type_name(*v), excerpt_json(*v)));
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

const nlohmann::json& ObjectReader::get_array(const char* key, const char* of_what) {
  const nlohmann::json& v = get_raw(key);
  if (!v.is_array())
    fail(key, fmt::format("expected an array of {}, got {} {}", of_what, type_name(v), excerpt_json(v)));
  return v;
}

void ObjectReader::finish() const {
  for (auto it = obj_.begin(); it != obj_.end(); ++it) {
    if (known_.count(it.key()) == 0) {
      std::string valid;
      for (const std::string& k : known_) valid += (valid.empty() ? "" : ", ") + k;
      throw InputError(fmt::format("{}: at {}/{}: unknown key '{}'; valid keys here: {}",
                                   source_.name, pointer_, excerpt(it.key()), excerpt(it.key()),
                                   valid));
    }
  }
}

}  // namespace attnroof::model

#include "studies/report/columns.h"

#include "model/json_reader.h"

namespace attnroof::report {

Format parse_format(std::string_view name, std::string_view field, bool allow_markdown) {
  if (name == "table") return Format::table;
  if (name == "csv") return Format::csv;
  if (name == "json") return Format::json;
  if (allow_markdown && name == "markdown") return Format::markdown;
  throw InputError(fmt::format("{}: unknown format '{}'; known: table, csv, json{}", field, name,
                               allow_markdown ? ", markdown" : ""));
}

TimeUnit parse_time_unit(std::string_view name, std::string_view field) {
  if (name == "s") return TimeUnit::s;
  if (name == "ms") return TimeUnit::ms;
  if (name == "us") return TimeUnit::us;
  throw InputError(fmt::format("{}: unknown time unit '{}'; known: s, ms, us", field,
                               model::excerpt(name)));
}

bool is_time_column(std::string_view name) {
  return name.size() > 4 && name.starts_with("t_") && name.ends_with("_s");
}

double seconds_per(TimeUnit u) {
  switch (u) {
    case TimeUnit::s: return 1;
    case TimeUnit::ms: return 1e-3;
    case TimeUnit::us: return 1e-6;
  }
  return 1;
}

std::string_view suffix(TimeUnit u) {
  switch (u) {
    case TimeUnit::s: return "s";
    case TimeUnit::ms: return "ms";
    case TimeUnit::us: return "us";
  }
  return "s";
}

std::string display_name(std::string_view name, TimeUnit u) {
  if (u == TimeUnit::s || !is_time_column(name)) return std::string(name);
  return fmt::format("{}{}", name.substr(0, name.size() - 1), suffix(u));
}

std::string_view to_string(Format f) {
  switch (f) {
    case Format::table: return "table";
    case Format::csv: return "csv";
    case Format::json: return "json";
    case Format::markdown: return "markdown";
  }
  return "?";
}

namespace {

bool needs_quotes(std::string_view s) {
  return s.find_first_of(",\"\n") != std::string_view::npos;
}

void append_json_string(fmt::memory_buffer& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    switch (ch) {
      case '"': fmt::format_to(std::back_inserter(out), "\\\""); break;
      case '\\': fmt::format_to(std::back_inserter(out), "\\\\"); break;
      case '\n': fmt::format_to(std::back_inserter(out), "\\n"); break;
      case '\t': fmt::format_to(std::back_inserter(out), "\\t"); break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", int(static_cast<unsigned char>(ch)));
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

void append_csv(fmt::memory_buffer& out, const Cell& c) {
  switch (c.kind) {
    case Cell::Kind::text:
      if (needs_quotes(c.text)) {
        out.push_back('"');
        for (char ch : c.text) {
          if (ch == '"') out.push_back('"');
          out.push_back(ch);
        }
        out.push_back('"');
      } else {
        out.append(c.text);
      }
      break;
    case Cell::Kind::integer: fmt::format_to(std::back_inserter(out), "{}", c.integer); break;
    case Cell::Kind::real: fmt::format_to(std::back_inserter(out), "{:.9g}", c.real); break;
    case Cell::Kind::boolean: out.append(std::string_view(c.boolean ? "true" : "false")); break;
  }
}

void append_json(fmt::memory_buffer& out, const Cell& c) {
  switch (c.kind) {
    case Cell::Kind::text: append_json_string(out, c.text); break;
    case Cell::Kind::integer: fmt::format_to(std::back_inserter(out), "{}", c.integer); break;
    case Cell::Kind::real:
      if (std::isfinite(c.real)) {
        fmt::format_to(std::back_inserter(out), "{}", c.real);
      } else {
        out.append(std::string_view("null"));
      }
      break;
    case Cell::Kind::boolean: out.append(std::string_view(c.boolean ? "true" : "false")); break;
  }
}

void append_table(fmt::memory_buffer& out, const Cell& c, int width) {
  switch (c.kind) {
    case Cell::Kind::text: fmt::format_to(std::back_inserter(out), "{:>{}}", c.text, width); break;
    case Cell::Kind::integer:
      fmt::format_to(std::back_inserter(out), "{:>{}}", c.integer, width);
      break;
    case Cell::Kind::real: fmt::format_to(std::back_inserter(out), "{:>{}.4g}", c.real, width); break;
    case Cell::Kind::boolean:
      fmt::format_to(std::back_inserter(out), "{:>{}}", c.boolean ? "yes" : "no", width);
      break;
  }
}

std::string cell_text(const Cell& c) {
  switch (c.kind) {
    case Cell::Kind::text: return std::string(c.text);
    case Cell::Kind::integer: return fmt::format("{}", c.integer);
    case Cell::Kind::real: return fmt::format("{:.4g}", c.real);
    case Cell::Kind::boolean: return c.boolean ? "yes" : "no";
  }
  return "";
}

nlohmann::json cell_json(const Cell& c) {
  switch (c.kind) {
    case Cell::Kind::text: return std::string(c.text);
    case Cell::Kind::integer: return c.integer;
    case Cell::Kind::real: return std::isfinite(c.real) ? nlohmann::json(c.real) : nlohmann::json();
    case Cell::Kind::boolean: return c.boolean;
  }
  return nullptr;
}

}  // namespace attnroof::report

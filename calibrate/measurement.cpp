#include "calibrate/measurement.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "model/error.h"
#include "model/json_reader.h"

namespace attnroof::calibrate {

namespace {

// A ragged batch travels as "a;b;c" (one length per sequence); a uniform one as one integer.
std::string ctx_text(const DecodeMeasurement& m) {
  if (!m.ragged()) return std::to_string(m.ctx_len_max());
  return fmt::format("{}", fmt::join(m.ctx_lens, ";"));
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  // std::from_chars for double is in libstdc++ 11+; it rejects "inf"/"nan" spellings we also
  // refuse below.
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// The checks every record must pass, wherever it came from.
void check_record(const DecodeMeasurement& m, std::vector<std::string>& bad) {
  if (m.kernel.empty()) bad.push_back("kernel: must not be empty");
  if (m.q_heads < 1) bad.push_back(fmt::format("q_heads = {}: must be >= 1", m.q_heads));
  if (m.kv_heads < 1) bad.push_back(fmt::format("kv_heads = {}: must be >= 1", m.kv_heads));
  if (m.q_heads >= 1 && m.kv_heads >= 1 && m.q_heads % m.kv_heads != 0)
    bad.push_back(fmt::format("q_heads = {} is not a multiple of kv_heads = {}", m.q_heads, m.kv_heads));
  if (m.d_qk < 1) bad.push_back(fmt::format("d_qk = {}: must be >= 1", m.d_qk));
  if (m.d_v < 1) bad.push_back(fmt::format("d_v = {}: must be >= 1", m.d_v));
  if (m.family == model::KernelFamily::shared_latent && m.d_v > m.d_qk)
    bad.push_back(fmt::format("shared_latent: d_v = {} > d_qk = {} (V is part of the K row)", m.d_v, m.d_qk));
  if (m.page_size < 0) bad.push_back(fmt::format("page_size = {}: must be >= 0 (0: contiguous)", m.page_size));
  if (m.q_tokens < 1) bad.push_back(fmt::format("q_tokens = {}: must be >= 1", m.q_tokens));
  if (m.ctx_lens.empty()) bad.push_back("batch: must be >= 1");
  for (int64_t c : m.ctx_lens)
    if (c < m.q_tokens) {
      bad.push_back(fmt::format("ctx_len = {}: must be >= q_tokens = {} (it counts the new tokens)",
                                c, m.q_tokens));
      break;
    }
  if (!(m.time_s > 0)) bad.push_back(fmt::format("time_s = {}: must be > 0", m.time_s));
  if (m.time_s_min < 0 || m.time_s_max < 0 || (m.time_s_min > 0 && m.time_s_min > m.time_s) ||
      (m.time_s_max > 0 && m.time_s_max < m.time_s))
    bad.push_back(fmt::format("time_s_min = {}, time_s = {}, time_s_max = {}: need min <= median "
                              "<= max (0: unknown)",
                              m.time_s_min, m.time_s, m.time_s_max));
  if (m.runs < 0) bad.push_back(fmt::format("runs = {}: must be >= 0", m.runs));
  if (m.n_splits < 0) bad.push_back(fmt::format("n_splits = {}: must be >= 0", m.n_splits));
  if (m.sm_clock_mhz < 0) bad.push_back(fmt::format("sm_clock_mhz = {}: must be >= 0", m.sm_clock_mhz));
  if (m.read_ceiling_Bps < 0)
    bad.push_back(fmt::format("read_ceiling_Bps = {}: must be >= 0", m.read_ceiling_Bps));
}

// RFC 4180 fields: commas inside quotes, "" for a quote.
std::vector<std::string> split_csv_line(const std::string& line, const std::string& where) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (quoted) throw InputError(fmt::format("{}: unterminated quoted field", where));
  out.push_back(cur);
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out(1, '"');
  for (char c : s) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  out.push_back('"');
  return out;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int64_t DecodeMeasurement::ctx_len_max() const {
  return ctx_lens.empty() ? 0 : *std::max_element(ctx_lens.begin(), ctx_lens.end());
}

bool DecodeMeasurement::ragged() const {
  return std::adjacent_find(ctx_lens.begin(), ctx_lens.end(), std::not_equal_to<>()) != ctx_lens.end();
}

model::DecodeWork to_work(const DecodeMeasurement& m) {
  model::DecodeWork w;
  w.family = m.family;
  w.q_heads = m.q_heads;
  w.kv_heads = m.kv_heads;
  w.d_qk = m.d_qk;
  w.d_v = m.d_v;
  w.q_tokens = m.q_tokens;
  w.kv_elem_bytes = model::bytes_of(m.kv_dtype);
  w.ctx_lens = m.ctx_lens;
  w.read_ceiling_Bps = m.read_ceiling_Bps;
  w.sm_clock_mhz = m.sm_clock_mhz;
  w.plan = m.plan;
  return w;
}

nlohmann::json measurement_to_json(const DecodeMeasurement& m) {
  nlohmann::json j{{"kernel", m.kernel},
                   {"family", model::to_string(m.family)},
                   {"q_heads", m.q_heads},
                   {"kv_heads", m.kv_heads},
                   {"d_qk", m.d_qk},
                   {"d_v", m.d_v},
                   {"page_size", m.page_size},
                   {"batch", m.batch()},
                   {"q_tokens", m.q_tokens},
                   {"kv_dtype", model::to_string(m.kv_dtype)},
                   {"time_s", m.time_s},
                   {"time_s_min", m.time_s_min},
                   {"time_s_max", m.time_s_max},
                   {"runs", m.runs},
                   {"n_splits", m.n_splits},
                   {"sm_clock_mhz", m.sm_clock_mhz},
                   {"gpu", m.gpu},
                   {"read_ceiling_Bps", m.read_ceiling_Bps},
                   {"commit", m.commit},
                   {"pass", m.pass}};
  // A uniform batch stores one length; a ragged one every length.
  if (m.ragged()) j["ctx_lens"] = m.ctx_lens;
  else j["ctx_len"] = m.ctx_len_max();
  if (m.plan.known())
    j["plan"] = {{"tile_m", m.plan.tile_m},         {"tile_n", m.plan.tile_n},
                 {"stages", m.plan.stages},         {"ctas_per_sm", m.plan.ctas_per_sm},
                 {"sm_count", m.plan.sm_count},     {"n_splits", m.plan.n_splits},
                 {"split_len", m.plan.split_len}};
  return j;
}

DecodeMeasurement measurement_from_json(const nlohmann::json& j, const std::string& source,
                                        const std::string& pointer) {
  model::ObjectReader r(j, model::JsonSource{source}, pointer);
  DecodeMeasurement m;
  m.source = pointer.empty() ? source : fmt::format("{}: at {}", source, pointer);
  m.kernel = r.get_string("kernel");
  m.family = model::parse_kernel_family(r.get_string("family"), r.position("family"));
  m.q_heads = r.get_int("q_heads");
  m.kv_heads = r.get_int("kv_heads");
  m.d_qk = r.get_int("d_qk");
  m.d_v = r.get_int("d_v");
  m.page_size = r.get_int("page_size", 0);
  const int64_t batch = r.get_positive_int("batch");
  if (r.has("ctx_lens")) {
    const nlohmann::json& lens = r.get_array("ctx_lens", "integers, one per sequence");
    if (int64_t(lens.size()) != batch)
      r.fail("ctx_lens", fmt::format("must be an array of batch = {} integers", batch));
    for (std::size_t i = 0; i < lens.size(); ++i) {
      // parse_json_text keeps integers within int64; one per sequence.
      if (!lens[i].is_number_integer())
        r.fail("ctx_lens", fmt::format("element {} = {}: must be an integer", i,
                                       model::excerpt_json(lens[i])));
      m.ctx_lens.push_back(lens[i].get<int64_t>());
    }
  } else {
    m.ctx_lens.assign(std::size_t(batch), r.get_int("ctx_len"));
  }
  m.q_tokens = r.get_int("q_tokens", 1);
  m.kv_dtype = model::parse_dtype(r.get_string("kv_dtype", "bf16"), r.position("kv_dtype"));
  m.time_s = r.get_double("time_s");
  m.time_s_min = r.get_double("time_s_min", 0);
  m.time_s_max = r.get_double("time_s_max", 0);
  m.runs = r.get_int("runs", 0);
  m.n_splits = r.get_int("n_splits", 0);
  m.sm_clock_mhz = r.get_double("sm_clock_mhz", 0);
  m.gpu = r.get_string("gpu", "");
  m.read_ceiling_Bps = r.get_double("read_ceiling_Bps", 0);
  m.commit = r.get_string("commit", "");
  m.pass = r.get_int("pass", 0);
  if (r.has("plan")) {
    model::ObjectReader p = r.get_object("plan");
    m.plan.tile_m = p.get_positive_int("tile_m");
    m.plan.tile_n = p.get_positive_int("tile_n");
    m.plan.stages = p.get_positive_int("stages");
    m.plan.ctas_per_sm = p.get_positive_int("ctas_per_sm");
    m.plan.sm_count = p.get_positive_int("sm_count");
    m.plan.n_splits = p.get_positive_int("n_splits");
    m.plan.split_len = p.get_positive_int("split_len");
    p.finish();
  }
  r.finish();
  std::vector<std::string> bad;
  check_record(m, bad);
  throw_if_problems(fmt::format("{}: bad measurement record", source), bad);
  return m;
}

std::vector<DecodeMeasurement> parse_measurement_csv(const std::string& text,
                                                     const std::string& source) {
  std::istringstream in(text);
  std::string line;
  int64_t line_no = 0;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    header = split_csv_line(line, fmt::format("{}:{}", source, line_no));
    break;
  }
  if (header.empty()) throw InputError(fmt::format("{}: empty CSV: the first line must be the header", source));
  std::map<std::string, std::size_t> column;
  std::vector<std::string> bad;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string& name = header[i];
    const bool known = std::find(kCsvRequired.begin(), kCsvRequired.end(), name) != kCsvRequired.end() ||
                       std::find(kCsvOptional.begin(), kCsvOptional.end(), name) != kCsvOptional.end();
    if (!known)
      bad.push_back(fmt::format("column '{}' is not a measurement column; required: {}; optional: {}",
                                model::excerpt(name), fmt::join(kCsvRequired, ","), fmt::join(kCsvOptional, ",")));
    else if (!column.emplace(name, i).second)
      bad.push_back(fmt::format("column '{}' appears twice", model::excerpt(name)));
  }
  for (std::string_view name : kCsvRequired)
    if (!column.contains(std::string(name)))
      bad.push_back(fmt::format("required column '{}' is missing", name));
  throw_if_problems(fmt::format("{}:{}: bad CSV header", source, line_no), bad);

  std::vector<DecodeMeasurement> out;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", source, line_no);
    const std::vector<std::string> cells = split_csv_line(line, where);
    if (cells.size() != header.size())
      throw InputError(fmt::format("{}: {} fields, the header has {}", where, cells.size(), header.size()));
    std::vector<std::string> row_bad;
    auto cell = [&](std::string_view name) -> std::optional<std::string> {
      auto it = column.find(std::string(name));
      if (it == column.end()) return std::nullopt;
      return cells[it->second];
    };
    auto integer = [&](std::string_view name, int64_t fallback) {
      const auto c = cell(name);
      if (!c || c->empty()) return fallback;
      if (auto v = parse_int(*c)) return *v;
      row_bad.push_back(fmt::format("{} = '{}': not an integer in the 64-bit range", name, model::excerpt(*c)));
      return fallback;
    };
    auto real = [&](std::string_view name, double fallback) {
      const auto c = cell(name);
      if (!c || c->empty()) return fallback;
      if (auto v = parse_double(*c)) return *v;
      row_bad.push_back(fmt::format("{} = '{}': not a finite number", name, model::excerpt(*c)));
      return fallback;
    };
    DecodeMeasurement m;
    m.source = where;
    m.kernel = *cell("kernel");
    try {
      m.family = model::parse_kernel_family(*cell("family"), "family");
      m.kv_dtype = model::parse_dtype(*cell("kv_dtype"), "kv_dtype");
    } catch (const InputError& e) {
      row_bad.push_back(e.what());
    }
    m.q_heads = integer("q_heads", 0);
    m.kv_heads = integer("kv_heads", 0);
    m.d_qk = integer("d_qk", 0);
    m.d_v = integer("d_v", 0);
    m.page_size = integer("page_size", -1);
    const int64_t batch = integer("batch", 0);
    m.q_tokens = integer("q_tokens", 0);
    const std::string ctx = *cell("ctx_len");
    std::vector<int64_t> lens;
    for (std::size_t begin = 0; begin <= ctx.size();) {
      const std::size_t end = std::min(ctx.find(';', begin), ctx.size());
      if (auto v = parse_int(std::string_view(ctx).substr(begin, end - begin))) lens.push_back(*v);
      else {
        row_bad.push_back(fmt::format("ctx_len = '{}': an integer, or one integer per sequence "
                                      "separated by ';'",
                                      model::excerpt(ctx)));
        break;
      }
      begin = end + 1;
    }
    if (lens.size() == 1 && batch > 0) m.ctx_lens.assign(std::size_t(batch), lens[0]);
    else if (int64_t(lens.size()) == batch) m.ctx_lens = lens;
    else if (!lens.empty())
      row_bad.push_back(fmt::format("ctx_len lists {} lengths for batch = {}", lens.size(), batch));
    if (batch < 1) row_bad.push_back(fmt::format("batch = {}: must be >= 1", batch));
    m.time_s = real("time_s", 0);
    m.gpu = cell("gpu").value_or("");
    m.n_splits = integer("n_splits", 0);
    m.time_s_min = real("time_s_min", 0);
    m.time_s_max = real("time_s_max", 0);
    m.runs = integer("runs", 0);
    m.sm_clock_mhz = real("sm_clock_mhz", 0);
    m.read_ceiling_Bps = real("read_ceiling_Bps", 0);
    if (row_bad.empty()) check_record(m, row_bad);
    throw_if_problems(fmt::format("{}: bad measurement row", where), row_bad);
    out.push_back(std::move(m));
  }
  if (out.empty()) throw InputError(fmt::format("{}: the CSV has a header and no rows", source));
  return out;
}

std::string measurements_csv(const std::vector<DecodeMeasurement>& records) {
  std::string out = fmt::format("{},{}\n", fmt::join(kCsvRequired, ","), fmt::join(kCsvOptional, ","));
  for (const DecodeMeasurement& m : records) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{:.9g},{},{},{:.9g},{:.9g},{},{:.6g},{:.9g}\n",
                       csv_field(m.kernel), model::to_string(m.family), m.q_heads, m.kv_heads,
                       m.d_qk, m.d_v, m.page_size, m.batch(), ctx_text(m), m.q_tokens,
                       model::to_string(m.kv_dtype), m.time_s, csv_field(m.gpu), m.n_splits,
                       m.time_s_min, m.time_s_max, m.runs, m.sm_clock_mhz, m.read_ceiling_Bps);
  }
  return out;
}

MeasurementSet read_measurements(const std::vector<std::string>& paths) {
  if (paths.empty()) throw InputError("no measurement files given (bench_kernels.json or CSV)");
  MeasurementSet set;
  for (const std::string& path : paths) {
    const std::string text = model::read_input_file(path);
    std::vector<DecodeMeasurement> records;
    std::string format;
    std::string commit;
    if (ends_with(path, ".csv")) {
      format = "csv";
      records = parse_measurement_csv(text, path);
    } else {
      format = "bench_kernels_json";
      const model::JsonSource source{path};
      const nlohmann::json j = model::parse_json_text(text, source);
      if (!j.is_object() || !j.contains("records"))
        throw InputError(fmt::format("{}: no \"records\" array: give a bench-kernels JSON written by "
                                     "this version (or a measurement CSV ending in .csv)",
                                     path));
      // The rest of a bench report (points, ceilings, targets) is not read here: no finish().
      model::ObjectReader doc(j, source);
      const nlohmann::json& recs = doc.get_array("records", "measurement records");
      for (std::size_t i = 0; i < recs.size(); ++i)
        records.push_back(measurement_from_json(recs[i], path, fmt::format("/records/{}", i)));
      if (records.empty()) throw InputError(fmt::format("{}: \"records\" is empty", path));
      commit = doc.get_string("commit", "");
      if (doc.has("gemm_records")) {
        const nlohmann::json& g = doc.get_array("gemm_records", "GEMM records");
        for (std::size_t i = 0; i < g.size(); ++i) {
          model::ObjectReader r(g[i], source, fmt::format("/gemm_records/{}", i));
          GemmMeasurement m{.m = r.get_positive_int("m"), .n = r.get_positive_int("n"),
                            .k = r.get_positive_int("k"), .flops = r.get_double("flops"),
                            .bytes = r.get_double("bytes"), .time_s = r.get_double("time_s"),
                            .time_s_min = r.get_double("time_s_min", 0),
                            .time_s_max = r.get_double("time_s_max", 0), .runs = r.get_int("runs", 0),
                            .sm_clock_mhz = r.get_double("sm_clock_mhz", 0)};
          r.get_double("power_w", 0);
          r.finish();
          if (!(m.time_s > 0) || !(m.bytes > 0) || !(m.flops > 0))
            r.fail("time_s", "time_s, bytes and flops must be > 0");
          set.gemms.push_back(m);
        }
      }
    }
    std::vector<std::string> gpus;
    for (const DecodeMeasurement& m : records) {
      if (commit.empty() && !m.commit.empty()) commit = m.commit;
      if (!m.gpu.empty() && std::find(gpus.begin(), gpus.end(), m.gpu) == gpus.end())
        gpus.push_back(m.gpu);
    }
    set.files.push_back({{"path", path},
                         {"format", format},
                         {"records", records.size()},
                         {"gpus", gpus},
                         {"commit", commit}});
    for (DecodeMeasurement& m : records) {
      set.records.push_back(std::move(m));
      set.file_of.push_back(set.files.size() - 1);
    }
  }
  return set;
}

}  // namespace attnroof::calibrate

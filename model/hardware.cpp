#include "model/hardware.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <mutex>
#include <vector>

#include "model/calibration.h"
#include "model/embedded_file.h"
#include "model/error.h"

namespace attnroof::model {

namespace {

// Numeric fields that must each carry {"source", "retrieved"} under "sources".
constexpr const char* kSourcedFields[] = {
    "hbm_bytes_per_s",        "hbm_capacity_bytes",     "dense_bf16_flops_per_s",
    "dense_fp8_flops_per_s",  "dense_fp32_flops_per_s", "link_bytes_per_s",
    "sm_count",               "l2_bytes",               "reserved_bytes"};

double positive(ObjectReader& r, const char* key) {
  const double v = r.get_double(key);
  if (!(v > 0)) r.fail(key, fmt::format("{} = {} is invalid: must be > 0", key, v));
  return v;
}

double fraction(ObjectReader& r, const char* key) {
  const double v = r.get_double(key);
  if (!(v > 0 && v <= 1)) r.fail(key, fmt::format("{} = {} is invalid: must be in (0, 1]", key, v));
  return v;
}

double non_negative(ObjectReader& r, const char* key) {
  const double v = r.get_double(key);
  if (!(v >= 0)) r.fail(key, fmt::format("{} = {} is invalid: must be >= 0", key, v));
  return v;
}

std::vector<Hardware> load_builtin_hardware() {
  std::vector<Hardware> out;
  for (const EmbeddedFile& f : embedded_hardware_files()) {
    const JsonSource source{fmt::format("model/data/hardware/{}", f.name)};
    nlohmann::json j = parse_json_text(std::string(f.contents), source);
    ObjectReader r(j, source);
    out.push_back(parse_hardware(r));
    out.back().calibration = find_builtin_calibration(out.back().id);
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

double Hardware::peak_flops_per_s(Dtype compute) const {
  switch (compute) {
    case Dtype::fp32: return dense_fp32_flops_per_s;
    case Dtype::bf16:
    case Dtype::fp16: return dense_bf16_flops_per_s;
    case Dtype::fp8_e4m3: return dense_fp8_flops_per_s;
  }
  return dense_bf16_flops_per_s;
}

bool Hardware::supports(Dtype compute) const { return peak_flops_per_s(compute) > 0; }

Hardware parse_hardware(ObjectReader& r) {
  Hardware h;
  h.id = r.get_string("id");
  h.name = r.get_string("name");
  h.hbm_bytes_per_s = positive(r, "hbm_bytes_per_s");
  h.hbm_capacity_bytes = positive(r, "hbm_capacity_bytes");
  h.dense_bf16_flops_per_s = positive(r, "dense_bf16_flops_per_s");
  // 0 = the part has no fp8 tensor format (A100); estimate() rejects fp8 compute on it.
  h.dense_fp8_flops_per_s = non_negative(r, "dense_fp8_flops_per_s");
  h.dense_fp32_flops_per_s = positive(r, "dense_fp32_flops_per_s");
  h.link_bytes_per_s = positive(r, "link_bytes_per_s");
  h.sm_count = r.get_positive_int("sm_count");
  h.l2_bytes = non_negative(r, "l2_bytes");  // 0 = not published (the roofline does not use it)
  h.reserved_bytes = non_negative(r, "reserved_bytes");
  h.sources = r.get_raw("sources");
  {
    ObjectReader s = r.get_object("sources");
    for (const char* field : kSourcedFields) {
      ObjectReader entry = s.get_object(field);
      if (entry.get_string("source").empty()) entry.fail("source", "must not be empty");
      if (entry.get_string("retrieved").empty()) entry.fail("retrieved", "must not be empty");
      entry.get_string("note", "");
      entry.finish();
    }
    s.finish();
  }
  ObjectReader e = r.get_object("efficiency");
  h.efficiency.hbm = fraction(e, "hbm");
  h.efficiency.tensor = fraction(e, "tensor");
  h.efficiency.link = fraction(e, "link");
  h.efficiency.kernel_overhead_s = non_negative(e, "kernel_overhead_s");
  h.efficiency.collective_latency_s = non_negative(e, "collective_latency_s");
  h.efficiency.calibrated = e.get_bool("calibrated", false);
  h.efficiency.source = e.get_string("source");
  e.finish();
  r.finish();
  return h;
}

Hardware load_hardware_file(const std::string& path) {
  nlohmann::json j = load_json_file(path);
  ObjectReader r(j, JsonSource{path});
  return parse_hardware(r);
}

const Hardware* keep_hardware(Hardware hw) {
  static std::mutex mutex;
  static std::deque<Hardware> kept;  // a deque never moves its elements
  const std::lock_guard<std::mutex> lock(mutex);
  kept.push_back(std::move(hw));
  return &kept.back();
}

std::span<const Hardware> builtin_hardware() {
  static const std::vector<Hardware> all = load_builtin_hardware();
  return all;
}

const Hardware& find_hardware(std::string_view name, std::string_view field) {
  const std::string want = lower(name);
  const Hardware* prefix_match = nullptr;
  int prefix_matches = 0;
  for (const Hardware& h : builtin_hardware()) {
    if (lower(h.id) == want) return h;
    if (lower(h.id).rfind(want, 0) == 0) {
      prefix_match = &h;
      ++prefix_matches;
    }
  }
  if (prefix_matches == 1) return *prefix_match;
  std::string known;
  for (const Hardware& h : builtin_hardware()) known += (known.empty() ? "" : ", ") + h.id;
  throw InputError(fmt::format("{}: unknown hardware '{}'; known: {}{}", field, excerpt(name), known,
                               prefix_matches > 1 ? " (the name is ambiguous)" : ""));
}

nlohmann::json Hardware::to_json() const {
  return {{"id", id},
          {"name", name},
          {"hbm_bytes_per_s", hbm_bytes_per_s},
          {"hbm_capacity_bytes", hbm_capacity_bytes},
          {"dense_bf16_flops_per_s", dense_bf16_flops_per_s},
          {"dense_fp8_flops_per_s", dense_fp8_flops_per_s},
          {"dense_fp32_flops_per_s", dense_fp32_flops_per_s},
          {"link_bytes_per_s", link_bytes_per_s},
          {"sm_count", sm_count},
          {"l2_bytes", l2_bytes},
          {"reserved_bytes", reserved_bytes},
          {"efficiency",
           {{"hbm", efficiency.hbm},
            {"tensor", efficiency.tensor},
            {"link", efficiency.link},
            {"kernel_overhead_s", efficiency.kernel_overhead_s},
            {"collective_latency_s", efficiency.collective_latency_s},
            {"calibrated", efficiency.calibrated},
            {"source", efficiency.source}}},
          {"sources", sources},
          {"calibration", calibration ? nlohmann::json(calibration->source) : nlohmann::json(nullptr)}};
}

}  // namespace attnroof::model

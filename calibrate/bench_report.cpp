#include "calibrate/bench_report.h"

#include <fmt/format.h>

#include "model/json_reader.h"

namespace attnroof::calibrate {

namespace {

double positive(model::ObjectReader& r, const char* key) {
  const double v = r.get_double(key);
  if (!(v > 0)) r.fail(key, fmt::format("{} = {}: must be > 0", key, v));
  return v;
}

}  // namespace

BenchReport read_bench_report(const std::string& path) {
  const model::JsonSource source{path};
  const nlohmann::json j = model::load_json_file(path);
  // A report has more (targets, timing, provenance, records) than this reads: no finish().
  model::ObjectReader doc(j, source);
  BenchReport out;
  out.gpu = doc.get_string("gpu");
  out.command = doc.get_string("command", "");
  model::ObjectReader ceilings = doc.get_object("ceilings");
  out.read_ceiling_Bps = positive(ceilings, "read_GBps") * 1e9;
  const nlohmann::json& points = doc.get_array("points", "timed points");
  for (std::size_t i = 0; i < points.size(); ++i) {
    model::ObjectReader p(points[i], source, fmt::format("/points/{}", i));
    // A point that did not fit the device ("cache 68.7 GB > --max-cache-gb 40") has no timing.
    if (p.has("skipped")) {
      p.get_string("skipped");
      continue;
    }
    BenchPoint pt;
    pt.shape = p.get_string("shape");
    pt.batch = p.get_positive_int("batch");
    pt.ctx = p.get_positive_int("ctx");
    pt.kv_bytes = positive(p, "kv_bytes");
    pt.total_bytes = positive(p, "total_bytes");
    if (p.has("flops")) pt.flops = positive(p, "flops");
    pt.time_s = positive(p, "time_us_graph_median") * 1e-6;
    out.points.push_back(std::move(pt));
  }
  return out;
}

}  // namespace attnroof::calibrate

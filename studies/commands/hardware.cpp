// attnroof hardware [NAME]: the hardware profiles (model/data/hardware/*.json); NAME shows every
// number with its source and retrieval date, and the efficiency terms with their provenance.
#include <fmt/format.h>

#include <memory>

#include "model/calibration.h"
#include "model/hardware.h"
#include "model/json_reader.h"
#include "studies/commands/commands.h"
#include "studies/options.h"
#include "studies/report/columns.h"

namespace attnroof::cli {

namespace hardware_command {  // named, not anonymous: a unity build compiles the commands as one unit

struct Options {
  std::string name;
  std::string format = "table";
};

void run(const Options& o) {
  const report::Format format = report::parse_format(o.format, "--format");
  if (format == report::Format::csv) throw InputError("--format: csv is not offered here; use table or json");
  if (o.name.empty()) {
    if (format == report::Format::json) {
      nlohmann::json a = nlohmann::json::array();
      for (const model::Hardware& h : model::builtin_hardware()) a.push_back(h.to_json());
      fmt::print("{}\n", a.dump(2));
      return;
    }
    fmt::print("{:<14} {:<40} {:>8} {:>7} {:>8} {:>8} {:>9}  {}\n", "id", "name", "HBM TB/s",
               "HBM GB", "bf16 TF", "fp8 TF", "link GB/s", "efficiency");
    for (const model::Hardware& h : model::builtin_hardware()) {
      fmt::print("{:<14} {:<40} {:>8.4g} {:>7.4g} {:>8.5g} {:>8} {:>9.4g}  {}\n", h.id, h.name,
                 h.hbm_bytes_per_s / 1e12, h.hbm_capacity_bytes / 1e9,
                 h.dense_bf16_flops_per_s / 1e12,
                 h.dense_fp8_flops_per_s > 0 ? fmt::format("{:.5g}", h.dense_fp8_flops_per_s / 1e12)
                                             : std::string("none"),
                 h.link_bytes_per_s / 1e9, h.efficiency.calibrated ? "calibrated" : "uncalibrated");
    }
    fmt::print("(dense tensor-core rates; link = per GPU, per direction; GB = 1e9 bytes, as in "
               "explain)\n");
    return;
  }
  if (o.name.find(',') != std::string::npos)
    throw InputError(fmt::format("NAME: '{}': one profile at a time", model::excerpt(o.name)));
  const model::Hardware& h = *resolve_hardware(o.name, "NAME").front();
  if (format == report::Format::json) {
    fmt::print("{}\n", h.to_json().dump(2));
    return;
  }
  fmt::print("{} ({})\n", h.id, h.name);
  struct Field {
    const char* key;
    double value;
    const char* unit;
  };
  const Field fields[] = {
      {"hbm_bytes_per_s", h.hbm_bytes_per_s, "B/s"},
      {"hbm_capacity_bytes", h.hbm_capacity_bytes, "B"},
      {"dense_bf16_flops_per_s", h.dense_bf16_flops_per_s, "FLOP/s"},
      {"dense_fp8_flops_per_s", h.dense_fp8_flops_per_s, "FLOP/s (0 = unsupported)"},
      {"dense_fp32_flops_per_s", h.dense_fp32_flops_per_s, "FLOP/s"},
      {"link_bytes_per_s", h.link_bytes_per_s, "B/s per direction"},
      {"sm_count", double(h.sm_count), "SMs / CUs"},
      {"l2_bytes", h.l2_bytes, "B (0 = not published)"},
      {"reserved_bytes", h.reserved_bytes, "B"},
  };
  for (const Field& f : fields) {
    fmt::print("  {:<24} {:>14.6g} {}\n", f.key, f.value, f.unit);
    if (h.sources.contains(f.key)) {
      const nlohmann::json& s = h.sources[f.key];
      fmt::print("      source: {} (retrieved {})\n", s.value("source", ""), s.value("retrieved", ""));
      if (s.contains("note")) fmt::print("      note: {}\n", s["note"].get<std::string>());
    }
  }
  const model::Efficiency& e = h.efficiency;
  fmt::print("  efficiency ({}):\n", e.calibrated ? "calibrated" : "uncalibrated default");
  fmt::print("    hbm {:.3g}, tensor {:.3g}, link {:.3g}, kernel overhead {:.3g} s, "
             "collective latency {:.3g} s\n",
             e.hbm, e.tensor, e.link, e.kernel_overhead_s, e.collective_latency_s);
  fmt::print("    source: {}\n", e.source);
  if (!h.calibration) {
    fmt::print("  calibration: none (every stage uses the efficiencies above)\n");
    return;
  }
  const model::CalibrationProfile& c = *h.calibration;
  fmt::print("  calibration: {} ({}, read ceiling {:.0f} GB/s, typical SM clock {:.0f} MHz)\n", c.source,
             c.gpu, c.read_ceiling_Bps / 1e9, c.typical_sm_clock_mhz);
  for (const model::FamilyCalibration& f : c.families)
    for (const model::KernelCalibration& k : f.kernels)
      fmt::print("    {} {}: {}\n", model::to_string(f.family), k.kernel,
                 k.fitted ? fmt::format("own fit, {} points, median |err| {:.1f}%, p95 {:.1f}%", k.fit.n_points,
                                        100 * k.fit.median_abs_rel_error, 100 * k.fit.p95_abs_rel_error)
                          : std::string("the family's fit"));
  for (const model::ExternalCalibration& x : c.external)
    fmt::print("    external {}: plan-free fit, {} points, median |err| {:.1f}%\n", x.kernel,
               x.fit.n_points, 100 * x.fit.median_abs_rel_error);
  if (c.projection.present)
    fmt::print("    projection GEMMs: plan-free fit, {} GEMMs, median |err| {:.1f}%\n",
               c.projection.fit.n_points, 100 * c.projection.fit.median_abs_rel_error);
  fmt::print("    collectives: uncalibrated (no multi-GPU machine measured)\n");
}

}  // namespace hardware_command

Runner setup_hardware(CLI::App& app, const Context&) {
  auto o = std::make_shared<hardware_command::Options>();
  app.add_option("NAME", o->name,
                 "one profile: an id, a unique prefix such as h200, or a hardware file (a '/' or "
                 ".json), as --hardware takes");
  app.add_option("--format", o->format, "table or json")->capture_default_str();
  app.footer(
      "Examples:\n"
      "  attnroof hardware\n"
      "  attnroof hardware h100_sxm\n"
      "  attnroof hardware mi300x --format json\n"
      "  attnroof hardware model/data/hardware/h200_sxm.json   # a hardware file (in a checkout)\n"
      "Profiles are embedded from model/data/hardware/*.json at build time; every number names "
      "its datasheet and retrieval date. A file is read when the command runs, in the same "
      "format.");
  return [o] { hardware_command::run(*o); };
}

}  // namespace attnroof::cli

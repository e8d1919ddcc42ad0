// attnroof verify: every float64 reference check (kernels/reference/checks.h) per variant:
// materialized == incremental == absorbed == TP-sharded, one truth (reference cache bytes ==
// the cost model's KV numbers), translation equivariance E1/E2/E3, the negative controls that
// must fail, the precision study and the LRKV finding. Exit status 1 when a check fails.
#include <fmt/format.h>

#include <memory>

#include "kernels/reference/verify.h"
#include "model/error.h"
#include "studies/commands/commands.h"
#include "studies/options.h"
#include "studies/ranges.h"
#include "studies/report/columns.h"
#include "studies/report/output.h"
#include "studies/report/provenance.h"

namespace attnroof::cli {

namespace verify_command {  // named, not anonymous: a unity build compiles the commands as one unit

struct Options {
  std::string variants;
  std::string preset;
  std::string tp = "1,2,4,8";
  int64_t seed = 1;
  std::string format = "table";
  std::string out;
};

void run(const Options& o, const Context& ctx) {
  const report::Format format = report::parse_format(o.format, "--format");
  if (format == report::Format::csv) throw InputError("--format: verify writes table or json");
  ref::VerifyOptions v;
  if (!o.variants.empty()) v.variants = parse_list(o.variants, "--variants");
  if (!o.preset.empty() && !v.variants.empty()) {
    throw InputError("--preset and --variants exclude each other: a preset names its variant");
  }
  v.preset = o.preset;
  v.tps = parse_int_axis(o.tp, "--tp");
  v.seed = uint64_t(o.seed);
  report::Output out(o.out, "-o");  // a refused -o costs no work
  nlohmann::json report = ref::run_verify(v);

  if (format == report::Format::json) {
    nlohmann::json doc = {{"schema_version", report::kSchemaVersion},
                          {"report", "verify"},
                          {"provenance", report::provenance(ctx.command_line)}};
    doc.update(report);
    out.write(doc.dump(2) + "\n");
  } else {
    out.write(ref::format_verify_table(report));
  }
  out.commit();
  if (!ref::verify_passed(report)) {
    throw CommandFailed(fmt::format("{} of {} checks failed",
                                    report["summary"]["failed"].get<int64_t>(),
                                    report["summary"]["checks"].get<int64_t>()));
  }
}

}  // namespace verify_command

Runner setup_verify(CLI::App& app, const Context& ctx) {
  auto o = std::make_shared<verify_command::Options>();
  app.add_option("--variants", o->variants,
                 "variants, comma-separated; lrkv:latent, mlra4:sharded select an option; default: all");
  app.add_option("--preset", o->preset, "check one builtin preset's variant at its real sizes (slow)");
  app.add_option("--tp", o->tp, "TP degrees of the sharded checks")->capture_default_str();
  add_int_option(app, "--seed", o->seed, "seed of the random weights and tokens", 0);
  app.add_option("--format", o->format, "table or json")->capture_default_str();
  app.add_option("-o,--out", o->out, "write to FILE (atomically) instead of stdout");
  app.footer(
      "Examples:\n"
      "  attnroof verify\n"
      "  attnroof verify --variants mla,mlra4,mlra4:sharded --tp 1,2,4,8 --seed 3\n"
      "  attnroof verify --format json -o verify.json\n"
      "Exit status 1 when a check fails; negative controls pass when they fail as required.");
  return [o, &ctx] { verify_command::run(*o, ctx); };
}

}  // namespace attnroof::cli

// attnroof validate-kernels / bench-kernels: the CUDA decode kernels checked against the float64
// reference (kernels/harness/validation.h) and timed against the device's measured ceilings
// (kernels/harness/benchmark.h). Both need a CUDA build and a GPU; a CPU build explains how to get
// one and exits with status 2 (gpu_commands.h: the pattern every GPU command follows).
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>

#include "kernels/cuda/launch_decode.h"  // host-clean: kMaxQTokens in the CPU build too
#include "model/decode_cases.h"
#include "model/error.h"
#include "studies/cli.h"
#include "studies/cli_version.h"
#include "studies/commands/commands.h"
#include "studies/commands/gpu_commands.h"
#include "studies/gpu_slug.h"
#include "studies/options.h"
#include "studies/ranges.h"
#include "studies/report/output.h"
#include "studies/report/provenance.h"

#ifdef ATTNROOF_HAVE_CUDA
#include "kernels/harness/benchmark.h"
#include "kernels/harness/stress_check.h"
#include "kernels/harness/validation.h"
#endif

namespace attnroof::cli {

namespace kernels_command {  // named, not anonymous: a unity build compiles the commands as one unit

struct ValidateOptions {
  bool reduced = false;
  int64_t seed = -1;
  std::string shapes;
  std::string filter;
  bool no_layer = false;
  bool list = false;
  std::string out;
  int64_t stress = 0;
  double stress_seconds = 0;
  double stress_max_cache_gb = 40;
  int64_t stress_repeats = 3;
  int64_t stress_max_q_tokens = kernels::kMaxQTokens;
  int64_t threads = 0;
  std::vector<const CLI::Option*> stress_tuning;  // --stress-seconds, -max-cache-gb, -repeats
};

struct BenchOptions {
  bool reduced = false;
  std::string shapes;
  std::string batches = "1,8,64";
  std::string contexts = "1k:2m:x2";
  std::string q_tokens = "1";
  int64_t runs = 20;
  int64_t warmup = 3;
  std::string layouts = "paged";
  bool ragged = false;
  int64_t passes = 1;
  int64_t seed = 1;
  bool graph_only = false;
  bool gemm_probe = false;
  double max_cache_gb = 40;
  std::string flush = "clean";
  int64_t split_len = 0;
  bool skip_ceilings = false;
  std::string out_dir;
};

// The grid options that --stress does not use: given together, one of them would be ignored.
void check_stress_options(const ValidateOptions& o) {
  if (o.stress == 0) {
    for (const CLI::Option* given : o.stress_tuning)
      if (given->count() > 0)
        throw InputError(fmt::format("{} tunes --stress N, which is not given", given->get_name()));
    return;
  }
  const std::pair<bool, const char*> grid_only[] = {{o.reduced, "--reduced"},
                                                    {!o.shapes.empty(), "--shapes"},
                                                    {!o.filter.empty(), "--filter"},
                                                    {o.no_layer, "--no-layer"},
                                                    {o.list, "--list"}};
  for (const auto& [given, name] : grid_only)
    if (given)
      throw InputError(fmt::format("{} selects grid cases, and --stress draws random ones; give one "
                                   "or the other",
                                   name));
  if (o.stress_repeats > 100)
    throw InputError(fmt::format("--stress-repeats: {} must be <= 100", o.stress_repeats));
  if (o.stress_max_q_tokens > kernels::kMaxQTokens)
    throw InputError(fmt::format("--stress-max-q-tokens: {} must be <= {} (the kernels' most new "
                                 "tokens per sequence)",
                                 o.stress_max_q_tokens, kernels::kMaxQTokens));
}

void run_validate(const ValidateOptions& o, const Context& ctx) {
  check_stress_options(o);
#ifdef ATTNROOF_HAVE_CUDA
  report::Output out(o.out, "-o");  // a refused -o costs no GPU time
  nlohmann::json rep;
  if (o.stress > 0) {
    kernels::StressOptions s;
    s.rounds = o.stress;
    if (o.seed >= 0) s.seed = uint64_t(o.seed);
    s.max_seconds = o.stress_seconds;
    s.max_cache_gb = o.stress_max_cache_gb;
    s.repeats = int(o.stress_repeats);
    s.max_q_tokens = int(o.stress_max_q_tokens);
    s.cpu_threads = int(o.threads);
    s.choice = kernels::KernelChoice::from_environment();
    s.progress = print_line;
    rep = on_gpu([&] { return kernels::run_kernel_stress(s); });
  } else {
    kernels::ValidationOptions v;
    v.reduced = o.reduced;
    if (o.seed >= 0) v.seed = uint64_t(o.seed);
    if (!o.shapes.empty()) v.shapes = parse_list(o.shapes, "--shapes");
    v.filter = o.filter;
    v.layer_check = !o.no_layer;
    v.list_only = o.list;
    v.cpu_threads = int(o.threads);
    v.choice = kernels::KernelChoice::from_environment();
    v.progress = print_line;
    rep = on_gpu([&] { return kernels::run_kernel_validation(v); });
  }
  nlohmann::json doc = {{"schema_version", report::kSchemaVersion},
                        {"report", "validate_kernels"},
                        {"provenance", report::provenance(ctx.command_line)}};
  doc.update(rep);
  out.write(doc.dump(2) + "\n");
  out.commit();
  if (o.stress > 0)
    fmt::print(stderr, "validate-kernels --stress: {} rounds, {} launches, {} failed (seed {}, "
                       "largest cache {:.1f} GB, {:.0f} s)\n",
               doc["rounds"].get<int64_t>(), doc["launches"].get<int64_t>(),
               doc["failed"].get<int64_t>(), doc["seed"].get<uint64_t>(),
               doc["largest_cache_gb"].get<double>(), doc["seconds"].get<double>());
  else if (!o.list)
    fmt::print(stderr, "validate-kernels: {} passed, {} failed ({:.0f} s, seed {})\n",
               doc["passed"].get<int64_t>(), doc["failed"].get<int64_t>(),
               doc["seconds"].get<double>(), doc["seed"].get<uint64_t>());
  if (!o.list && doc.value("failed", int64_t(0)) > 0) {
    throw CommandFailed(fmt::format("{} of {} {} failed", doc["failed"].get<int64_t>(),
                                    doc["failed"].get<int64_t>() + doc["passed"].get<int64_t>(),
                                    o.stress > 0 ? "stress rounds" : "kernel cases"));
  }
#else
  (void)ctx;
  no_cuda("validate-kernels");
#endif
}

void run_bench(const BenchOptions& o, const Context& ctx) {
  // Every check that needs no CUDA comes first, so a CPU build rejects bad input as bad input
  // rather than saying it has no kernels. (Lower bounds are checked when the options are parsed.)
  const std::vector<int64_t> batches = parse_int_axis(o.batches, "--batches");
  const std::vector<int64_t> contexts = parse_int_axis(o.contexts, "--contexts");
  const std::vector<int64_t> q_tokens = parse_int_axis(o.q_tokens, "--q-tokens");
  if (o.runs > 1'000'000) throw InputError(fmt::format("--runs: {} must be <= 1000000", o.runs));
  if (o.warmup > 1'000'000)
    throw InputError(fmt::format("--warmup: {} must be <= 1000000", o.warmup));
  for (int64_t batch : batches)
    if (batch > 65535) throw InputError(fmt::format("--batches: {} must be <= 65535", batch));
  for (int64_t c : contexts)
    if (c > std::numeric_limits<int32_t>::max())
      throw InputError(fmt::format("--contexts: {} must be <= {}", c,
                                   std::numeric_limits<int32_t>::max()));
  const std::vector<std::string> layouts = parse_list(o.layouts, "--layouts");
  for (std::size_t i = 0; i < layouts.size(); ++i) {
    const std::string& l = layouts[i];
    if (l != "paged" && l != "contiguous")
      throw InputError(fmt::format("--layouts: '{}' is not paged or contiguous", l));
    if (std::find(layouts.begin(), layouts.begin() + std::ptrdiff_t(i), l) !=
        layouts.begin() + std::ptrdiff_t(i))
      throw InputError(fmt::format("--layouts: '{}' is listed twice", l));
  }
  if (o.passes > 1000) throw InputError(fmt::format("--passes: {} must be <= 1000", o.passes));
  if (!(o.max_cache_gb > 0))
    throw InputError(fmt::format("--max-cache-gb: {} must be > 0", o.max_cache_gb));
  std::vector<std::string> shapes;
  if (!o.shapes.empty()) shapes = parse_list(o.shapes, "--shapes");
  for (const std::string& s : shapes) model::find_decode_case(s, "--shapes");
#ifdef ATTNROOF_HAVE_CUDA
  kernels::BenchOptions b;
  b.choice = kernels::KernelChoice::from_environment();
  b.reduced = o.reduced;
  b.shapes = shapes;
  b.batches = batches;
  b.contexts = contexts;
  b.q_tokens = q_tokens;
  b.runs = int(o.runs);
  b.warmup = int(o.warmup);
  b.layouts = layouts;
  b.ragged = o.ragged;
  b.passes = int(o.passes);
  b.seed = uint64_t(o.seed);
  b.graph_only = o.graph_only;
  b.gemm_probe = o.gemm_probe;
  const std::optional<calibrate::L2Flush> flush = calibrate::parse_l2_flush(o.flush);
  if (!flush) throw InputError(fmt::format("--flush: '{}' is not clean or dirty", o.flush));
  b.flush = *flush;
  b.split_len = o.split_len;
  b.max_cache_gb = o.max_cache_gb;
  b.ceilings = !o.skip_ceilings;
  // The commit the binary was built from, into every record ("-dirty": tracked files differed).
  if (git_commit() != "unknown") b.commit = std::string(git_commit()) + (git_dirty() ? "-dirty" : "");
  b.progress = print_line;
  kernels::check_bench_options(b);  // whatever is left, still before the GPU is opened
  nlohmann::json rep = on_gpu([&] { return kernels::run_kernel_benchmark(b); });
  nlohmann::json doc = {{"schema_version", report::kSchemaVersion},
                        {"report", "bench_kernels"},
                        {"provenance", report::provenance(ctx.command_line)},
                        {"command", ctx.command_line}};
  doc.update(rep);
  const std::string dir =
      o.out_dir.empty() ? "reports/kernels/" + gpu_slug(doc["gpu"].get<std::string>()) : o.out_dir;
  std::filesystem::create_directories(dir);
  report::write_file_atomic(std::filesystem::path(dir) / "bench_kernels.json", doc.dump(1) + "\n");
  report::write_file_atomic(std::filesystem::path(dir) / "bench_kernels.csv", kernels::bench_csv(doc));
  std::string measurements;
  try {
    measurements = kernels::bench_measurements_csv(doc);
  } catch (const InputError& e) {  // our own record failed its check: a bug, not bad input
    throw CommandFailed(fmt::format("a measurement record failed its check: {}", e.what()));
  }
  report::write_file_atomic(std::filesystem::path(dir) / "measurements.csv", measurements);
  for (const auto& t : doc["targets"]) {
    fmt::print("target: {:<95} measured {:.3f} (need {:.2f}) {}\n", t["target"].get<std::string>(),
               t["measured"].get<double>(), t["required"].get<double>(),
               t["met"].get<bool>() ? "met" : "SHORT");
  }
  fmt::print(stderr,
             "bench-kernels: {} points and {} records written to {}/bench_kernels.{{json,csv}} "
             "and {}/measurements.csv\n",
             doc["points"].size(), doc["records"].size(), dir, dir);
#else
  (void)o;
  (void)ctx;
  no_cuda("bench-kernels");
#endif
}

}  // namespace kernels_command

Runner setup_validate_kernels(CLI::App& app, const Context& ctx) {
  auto o = std::make_shared<kernels_command::ValidateOptions>();
  app.add_flag("--reduced", o->reduced, "small grid (contexts <= 4097): sanitizers, quick checks");
  add_int_option(app, "--seed", o->seed, "base seed (case i uses seed + i); default: fresh each run", 0)
      ->default_str("");
  app.add_option("--shapes", o->shapes, "only these kernel shapes, comma-separated (see --list)");
  app.add_option("--filter", o->filter, "only cases whose description contains this text");
  app.add_flag("--no-layer", o->no_layer, "skip the whole-MLRA-4-layer check");
  app.add_flag("--list", o->list, "print the cases and exit (no GPU needed)");
  app.add_option("-o,--out", o->out, "write the JSON report to FILE (atomically) instead of stdout");
  add_int_option(app, "--threads", o->threads, "CPU threads for the reference (0: all)", 0);
  add_int_option(app, "--stress", o->stress,
                 "instead of the grid, N rounds of random problems (replay round i alone with "
                 "--stress 1 --seed <its seed>)",
                 0);
  o->stress_tuning = {
      add_real_option(app, "--stress-seconds", o->stress_seconds,
                      "start no stress round after this many seconds (0: run all N)", 0),
      add_real_option(app, "--stress-max-cache-gb", o->stress_max_cache_gb,
                      "largest K+V pool a stress round draws (capped at 80% of free GPU memory)",
                      0.1),
      add_int_option(app, "--stress-repeats", o->stress_repeats,
                     "launches per stress round, each bitwise equal to the first", 1),
      add_int_option(app, "--stress-max-q-tokens", o->stress_max_q_tokens,
                     "most new tokens per sequence a stress round draws (1..8; 1 replays a round "
                     "recorded before q_tokens)",
                     1)};
  app.footer(
      "Every decode kernel against the float64 reference (decode_reference) over h_q, context,\n"
      "batch, paged/contiguous and ragged grids, memory past every valid length filled with NaN,\n"
      "then the whole MLRA-4 layer (four branch shards summed) against the reference's absorbed\n"
      "decode. Tolerance: each |o - ref| <= 2 E + 1e-5 + half a bf16 ulp of o (the kernel's own\n"
      "rounding), E the error of the same bf16 inputs computed on the CPU with fp32 accumulation;\n"
      "|lse - ref| <= 1e-4. Then the reduced grid once more with each shape's alternative plans\n"
      "(the cp.async twins of the bulk-copy defaults, ...) and with the mma.sync latent kernels of\n"
      "other GPUs, so that every compiled kernel is checked. ATTNROOF_WGMMA_ALT=k runs the grid with each shape's k-th alternative instead,\n"
      "ATTNROOF_NO_WGMMA=1 with the mma.sync latent kernels (also for bench-kernels). Needs a GPU.\n"
      "The JSON report goes to -o FILE (replaced atomically) or stdout; the progress, one line per\n"
      "case, and a summary line (passed, failed, seconds, seed) go to stderr. --list writes the\n"
      "report with the selected case descriptions (\"cases\") and runs nothing.\n"
      "Examples:\n"
      "  attnroof validate-kernels --list\n"
      "  attnroof validate-kernels -o validate.json\n"
      "  attnroof validate-kernels --reduced --shapes latent_d576_v512 --seed 7\n"
      "Stress (--stress N): round i draws, from seed + i alone, a compiled kernel shape, h_q, GQA\n"
      "group, batch, ragged lengths, a shuffled paged pool with spare pages or a contiguous cache,\n"
      "a cache of up to --stress-max-cache-gb and 1..--stress-max-q-tokens new tokens per\n"
      "sequence (causal among them); the GPU fills it (NaN past every length), the\n"
      "decode runs --stress-repeats times on a non-blocking stream, every repeat must match the\n"
      "first bitwise, every row must be finite (o = 0, lse = -inf without keys), and sampled\n"
      "sequences and heads must pass the tolerance above against the reference.\n"
      "  attnroof validate-kernels --stress 100000 --stress-seconds 300 -o stress.json\n"
      "  attnroof validate-kernels --stress 1 --seed 12345     # replay one round\n"
      "Exit status 1 when a case or round fails; 3 when the GPU fails during the run (the message\n"
      "names the round and its seed).");
  return [o, &ctx] { kernels_command::run_validate(*o, ctx); };
}

Runner setup_bench_kernels(CLI::App& app, const Context& ctx) {
  auto o = std::make_shared<kernels_command::BenchOptions>();
  // A repeated option takes its last value, so that flags appended to a plan override it
  // (scripts/gpu-run.sh's CAL_ARGS, BENCH_ARGS): --contexts 1k:512k:x2 after the plan's replaces
  // its contexts.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_flag("--reduced", o->reduced,
               "decision grid: 4 per-device shapes x batch 1 x {16K, 128K, 1M} + MLA-128 batch 64 x 8K");
  app.add_option("--shapes", o->shapes,
                 fmt::format("decode cases, comma-separated: {}; default: all",
                             fmt::join(model::decode_case_names(), ", ")));
  app.add_option("--batches", o->batches, "batch sizes (axis syntax: 1,8,64 or 1:128:x2)")
      ->capture_default_str();
  app.add_option("--contexts", o->contexts,
                 "contexts (axis syntax; k = 1024: 1k:2m:x2 doubles from 1024 to 2097152); for "
                 "a ragged batch the longest length")
      ->capture_default_str();
  app.add_option("--q-tokens", o->q_tokens,
                 "new tokens per sequence (axis syntax, 1..8), each measured at every point: "
                 "speculative decoding, causal among the new tokens")
      ->capture_default_str();
  add_int_option(app, "--runs", o->runs, "timed runs per point (median; >= 20 for reports)", 1);
  add_int_option(app, "--warmup", o->warmup, "untimed runs first", 0);
  app.add_option("--layouts,--layout", o->layouts,
                 "cache layouts, comma-separated, each measured at every point: paged (a "
                 "shuffled page table) and/or contiguous (batch x context rows)")
      ->capture_default_str();
  app.add_flag("--ragged", o->ragged,
               "for every batch > 1 also measure a ragged batch: lengths uniform in [ctx/8, ctx] "
               "with one exactly ctx, the same lengths in every pass and layout");
  add_int_option(app, "--passes", o->passes,
                 "measure every point this many times; each pass visits a shape's points in a new "
                 "shuffled order and rotates the shape order, so drift shows between passes",
                 1);
  add_int_option(app, "--seed", o->seed, "seed of the visiting order and the ragged lengths", 0);
  app.add_flag("--graph-only", o->graph_only,
               "time through CUDA-graph replay only (no per-call CUDA events): half the device "
               "time; the events columns are then empty");
  app.add_flag("--gemm-probe", o->gemm_probe,
               "also time the decode projections as GEMMs (cublasGemmEx bf16, M = 1..128 tokens x "
               "9 weight shapes) into the report's gemm_records");
  add_real_option(app, "--max-cache-gb", o->max_cache_gb, "skip points whose cache exceeds this",
                  0);
  app.add_flag("--skip-ceilings", o->skip_ceilings,
               "do not measure the ceilings (quick runs, profiling, A/B runs in one call: the "
               "records then carry read_ceiling_Bps 0 and no achieved fraction)");
  app.add_option("--flush", o->flush,
                 "L2 flush before each timed run: clean (a read sweep) or dirty (a memset, whose "
                 "write-back the timed run then pays)")
      ->check(CLI::IsMember({"clean", "dirty"}))
      ->capture_default_str();
  add_int_option(app, "--split-len", o->split_len,
                 "keys per split instead of the planned split (tuning the planner; 0: planned)", 0);
  app.add_option("--out-dir", o->out_dir,
                 "output folder, created if missing; its three files are replaced atomically "
                 "(default: reports/kernels/<gpu>, the device name as a folder, e.g. "
                 "nvidia-h100-80gb-hbm3)");
  app.footer(
      "Measures the device's ceilings (streaming read, copy, bf16 tensor-core rate; not with\n"
      "--skip-ceilings), then each kernel shape over layout, batch and context: CUDA-graph replay\n"
      "(and CUDA events unless --graph-only), L2 flushed before every run (--flush), warm-up,\n"
      "median. KV bytes come from the model's kv_elems_per_token; achieved GB/s is reported\n"
      "against the read ceiling measured in the same run. Writes bench_kernels.json (points,\n"
      "targets, and \"records\": one typed measurement per timed point, with the kernel's plan, SM\n"
      "clock and commit), bench_kernels.csv and measurements.csv (the records, the CSV the time\n"
      "model's fit reads). Progress goes to stderr, the targets to stdout. A repeated option takes\n"
      "its last value (--runs 5 --runs 20 runs 20; --batches 1,8 --batches 64 measures batch 64),\n"
      "so flags appended to a plan override it. ATTNROOF_WGMMA_ALT=k times each shape's k-th\n"
      "alternative plan, ATTNROOF_NO_WGMMA=1 the mma.sync latent kernels. Needs a GPU.\n"
      "Examples:\n"
      "  attnroof bench-kernels --reduced\n"
      "  attnroof bench-kernels --shapes mla,mlra4_tp4 --batches 1 --contexts 128k:2m:x2\n"
      "  attnroof bench-kernels                      # the full grid into reports/kernels/<gpu>/\n"
      "  attnroof bench-kernels --shapes mla --batches 1 --contexts 1m --runs 1 --warmup 0 \\\n"
      "      --graph-only --skip-ceilings --out-dir /tmp/one   # one point, e.g. under ncu\n"
      "The calibration plan (scripts/gpu-run.sh calibrate; 86 s measured on an H200):\n"
      "  attnroof bench-kernels --batches 1:128:x2 --contexts 1k:2m:x2 --layouts paged,contiguous \\\n"
      "      --ragged --passes 2 --graph-only --gemm-probe --runs 15 --max-cache-gb 40 \\\n"
      "      --out-dir gpu-out/calibrate\n"
      "Exit status 2: bad input (nothing ran); 1: no usable GPU; 3 when the GPU fails during the\n"
      "run: the message names the point (shape, batch, context, layout) and the seed; the same\n"
      "--seed and options replay it.");
  return [o, &ctx] { kernels_command::run_bench(*o, ctx); };
}

}  // namespace attnroof::cli

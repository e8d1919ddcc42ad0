// attnroof tp-step / tp-collectives: the TP decode step of an attention layer validated and timed
// on NCCL ranks, and the collective sweep the model's collective terms are calibrated from
// (kernels/tp/tp_tools.h; kernels/tp/README.md). Both need a CUDA build with NCCL and GPUs; a
// build without them says how to get them (gpu_commands.h: the pattern every GPU command
// follows).
#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "model/attention_options.h"
#include "model/error.h"
#include "studies/cli.h"
#include "studies/commands/commands.h"
#include "studies/commands/gpu_commands.h"
#include "studies/gpu_slug.h"
#include "studies/options.h"
#include "studies/ranges.h"
#include "studies/report/output.h"
#include "studies/report/provenance.h"

#if defined(ATTNROOF_HAVE_CUDA) && defined(ATTNROOF_HAVE_NCCL)
#include "kernels/tp/tp_tools.h"
#endif

namespace attnroof::cli {

namespace tp_command {  // named, not anonymous: a unity build compiles the commands as one unit

struct StepOptions {
  int64_t ranks = 1;
  std::string variants = "gqa,mla,gla2,mlra4";
  std::string tp;  // empty: each variant's default degrees (default_tps)
  std::string out_proj = "replicated,sharded";
  int64_t ctx = 4096;
  int64_t d_model = 1024;
  int64_t d_q_latent = 256;
  int64_t seed = 5;
  int64_t runs = 30;
  int64_t warmup = 3;
  int64_t cpu_threads = 8;
  bool no_simulate = false;
  bool host_only = false;
  std::string out_dir;
  std::string machine;
};

struct CollectivesOptions {
  int64_t ranks = 1;
  std::string ops = "all_reduce,reduce_scatter,all_gather";
  int64_t min_bytes = 1024;
  int64_t max_bytes = int64_t(64) << 20;
  int64_t runs = 20;
  int64_t warmup = 5;
  std::string dtype = "bf16";
  std::string out_dir;
  std::string machine;
};

void check_at_most(int64_t value, int64_t most, const char* option) {
  if (value > most) throw InputError(fmt::format("{}: {} must be <= {}", option, value, most));
}

#if defined(ATTNROOF_HAVE_CUDA) && defined(ATTNROOF_HAVE_NCCL)
// The folder the reports go to: --out-dir, else reports/tp/<--machine or the GPU's slug>.
std::string report_dir(const std::string& out_dir, const std::string& machine,
                       const std::string& gpu_name) {
  if (!out_dir.empty()) return out_dir;
  return "reports/tp/" + (machine.empty() ? gpu_slug(gpu_name) : machine);
}

// A machine without a usable GPU, or with fewer than the ranks asked for (exit status 1).
void require_gpus(int64_t ranks) {
  if (!cuda_device_available())
    throw CommandFailed("no CUDA device (this command needs an NVIDIA GPU, and none is usable)");
  int visible = 0;
  ATTNROOF_CUDA_CHECK(cudaGetDeviceCount(&visible));
  if (ranks > visible)
    throw CommandFailed(fmt::format("--ranks {} needs {} GPUs, and {} {} visible (this command "
                                    "runs one NCCL rank per GPU)",
                                    ranks, ranks, visible, visible == 1 ? "is" : "are"));
}

// DIR/<stem>.json (schema_version, report, provenance, then the run's own keys) and
// DIR/<stem>.csv, each replaced atomically.
void write_tp_report(const std::string& dir, const std::string& stem,
                     const kernels::tp::TpRun& run, const Context& ctx) {
  nlohmann::json doc = {{"schema_version", report::kSchemaVersion},
                        {"report", stem},
                        {"provenance", report::provenance(ctx.command_line)}};
  doc.update(run.report);
  std::filesystem::create_directories(dir);
  report::write_file_atomic(std::filesystem::path(dir) / (stem + ".json"), doc.dump(1) + "\n");
  report::write_file_atomic(std::filesystem::path(dir) / (stem + ".csv"), run.csv);
  fmt::print(stderr, "{}: wrote {}/{}.json and {}/{}.csv\n", stem, dir, stem, dir, stem);
}
#endif

void run_step(const StepOptions& o, const Context& ctx) {
  // Every check that needs no GPU or NCCL comes first (lower bounds: when parsed).
  check_at_most(o.ranks, 64, "--ranks");
  check_at_most(o.ctx, int64_t(1) << 22, "--ctx");
  if (o.d_model < 8 || o.d_model > 16384)
    throw InputError(fmt::format("--d-model: {} must be in 8..16384", o.d_model));
  check_at_most(o.d_q_latent, 1 << 16, "--d-q-latent");
  check_at_most(o.runs, 100000, "--runs");
  check_at_most(o.warmup, 1000, "--warmup");
  check_at_most(o.cpu_threads, 1024, "--cpu-threads");
  const std::vector<std::string> variants = parse_list(o.variants, "--variants");
  const std::vector<std::string> out_projs = parse_list(o.out_proj, "--out-proj");
  std::vector<int32_t> tps;
  if (!o.tp.empty())
    for (const int64_t t : parse_int_axis(o.tp, "--tp")) {
      check_at_most(t, 64, "--tp");
      tps.push_back(int32_t(t));
    }
  for (const std::string& v : variants)
    if (v != "gqa" && v != "mla" && v != "gla2" && v != "mlra4")
      throw InputError(fmt::format("--variants: unknown '{}' (gqa, mla, gla2, mlra4)", v));
  for (const std::string& op : out_projs)
    if (!model::out_proj_from_string(op))
      throw InputError(fmt::format("--out-proj: '{}' (replicated, sharded)", op));
#if defined(ATTNROOF_HAVE_CUDA) && defined(ATTNROOF_HAVE_NCCL)
  kernels::tp::TpStepOptions s;
  s.ranks = int32_t(o.ranks);
  s.variants = variants;
  s.tps = tps;
  s.out_projs = out_projs;
  s.base.ctx = o.ctx;
  s.base.d_model = o.d_model;
  s.base.d_q_latent = o.d_q_latent;
  s.base.seed = uint64_t(o.seed);
  s.runs = int(o.runs);
  s.warmup = int(o.warmup);
  s.cpu_threads = int(o.cpu_threads);
  s.no_simulate = o.no_simulate;
  s.command = ctx.command_line;
  s.progress = print_line;
  if (o.host_only) {  // the float64 harness alone, on the CPU: its lines are the result
    const bool ok = kernels::tp::run_tp_step_host_only(
        s, [](const std::string& line) { fmt::print("{}\n", line); });
    if (!ok) throw CommandFailed("a host-only check failed (a FAIL line above)");
    return;
  }
  require_gpus(o.ranks);
  const kernels::tp::TpRun run = on_gpu([&] { return kernels::tp::run_tp_decode_step(s); });
  const std::string dir =
      report_dir(o.out_dir, o.machine, run.report["environment"]["gpu"].get<std::string>());
  write_tp_report(dir, "tp_decode_step", run, ctx);
  if (!run.passed) throw CommandFailed("a case failed its validation (a FAIL or ERROR line above)");
#else
  (void)ctx;
#ifdef ATTNROOF_HAVE_CUDA
  no_nccl("tp-step");
#else
  no_cuda("tp-step");
#endif
#endif
}

void run_collectives(const CollectivesOptions& o, const Context& ctx) {
  check_at_most(o.ranks, 64, "--ranks");
  check_at_most(o.min_bytes, int64_t(1) << 34, "--min-bytes");
  check_at_most(o.max_bytes, int64_t(1) << 34, "--max-bytes");
  check_at_most(o.runs, 100000, "--runs");
  check_at_most(o.warmup, 1000, "--warmup");
  const std::vector<std::string> ops = parse_list(o.ops, "--ops");
  for (const std::string& op : ops)
    if (op != "all_reduce" && op != "reduce_scatter" && op != "all_gather")
      throw InputError(
          fmt::format("--ops: '{}' is not all_reduce, reduce_scatter or all_gather", op));
  if (o.min_bytes > o.max_bytes)
    throw InputError(fmt::format("--min-bytes {} is larger than --max-bytes {}", o.min_bytes,
                                 o.max_bytes));
  const int64_t elem = o.dtype == "bf16" ? 2 : 4;  // --dtype: checked when parsed
  for (int64_t b = o.min_bytes; b <= o.max_bytes; b *= 2)
    if (b % (elem * o.ranks) != 0)
      throw InputError(fmt::format("--min-bytes: the sweep's {} B is not a multiple of {} ranks x "
                                   "{} B ({})",
                                   b, o.ranks, elem, o.dtype));
#if defined(ATTNROOF_HAVE_CUDA) && defined(ATTNROOF_HAVE_NCCL)
  kernels::tp::TpCollectivesOptions c;
  c.ranks = int32_t(o.ranks);
  c.ops = ops;
  c.min_bytes = o.min_bytes;
  c.max_bytes = o.max_bytes;
  c.runs = int(o.runs);
  c.warmup = int(o.warmup);
  c.dtype = o.dtype;
  c.command = ctx.command_line;
  c.progress = print_line;
  (void)kernels::tp::tp_collective_sizes(c);  // the library's own checks, before the GPU
  require_gpus(o.ranks);
  const kernels::tp::TpRun run = on_gpu([&] { return kernels::tp::run_tp_collectives(c); });
  const std::string dir =
      report_dir(o.out_dir, o.machine, run.report["environment"]["gpu"].get<std::string>());
  write_tp_report(dir, "tp_collectives", run, ctx);
#else
  (void)ctx;
#ifdef ATTNROOF_HAVE_CUDA
  no_nccl("tp-collectives");
#else
  no_cuda("tp-collectives");
#endif
#endif
}

void add_folder_options(CLI::App& app, std::string& out_dir, std::string& machine) {
  app.add_option("--out-dir", out_dir,
                 "report folder, created if missing; its two files are replaced atomically "
                 "(default: reports/tp/<gpu>, the device name as a folder, e.g. "
                 "nvidia-h100-80gb-hbm3)");
  app.add_option("--machine", machine,
                 "the folder name under reports/tp/ instead of the GPU's (e.g. nvidia-h200-x8 "
                 "for a run over 8 GPUs); ignored with --out-dir");
}

}  // namespace tp_command

Runner setup_tp_step(CLI::App& app, const Context& ctx) {
  auto o = std::make_shared<tp_command::StepOptions>();
  add_int_option(app, "--ranks", o->ranks,
                 "GPUs = NCCL ranks, one thread each (<= 64); cases whose TP equals it run on "
                 "NCCL",
                 1);
  app.add_option("--variants", o->variants, "comma list of gqa, mla, gla2, mlra4")
      ->capture_default_str();
  app.add_option("--tp", o->tp,
                 "TP degrees (axis syntax: 1,2,4,8); default: per variant, TP 1 and its decode case's "
                 "degree (GQA 8; GLA-2 2; MLRA-4 4), MLA the baseline at 1, 2, 4, 8");
  app.add_option("--out-proj", o->out_proj,
                 "MLRA-4's output projection: replicated (W^O rows of the rank's heads, then one "
                 "all-reduce) and/or sharded (reduce-scatter of y first)")
      ->capture_default_str();
  add_int_option(app, "--ctx", o->ctx, "keys per sequence, the new token included (batch 1)", 1);
  add_int_option(app, "--d-model", o->d_model, "hidden size (8..16384; prices W^O)", 8);
  add_int_option(app, "--d-q-latent", o->d_q_latent, "query latent (the host-side query path only)",
                 1);
  add_int_option(app, "--seed", o->seed, "seed of the weights and tokens", 0);
  add_int_option(app, "--runs", o->runs, "timed runs per case (median)", 1);
  add_int_option(app, "--warmup", o->warmup, "untimed runs first", 0);
  add_int_option(app, "--cpu-threads", o->cpu_threads,
                 "CPU threads of the host emulation the tolerance is drawn from", 1);
  app.add_flag("--no-simulate", o->no_simulate,
               "with --ranks 1: skip the simulated cases (TP > 1 on one GPU)");
  app.add_flag("--host-only", o->host_only,
               "no GPU: build every case's shards and check the float64 harness only, on the CPU "
               "(prints one line per check, writes nothing)");
  tp_command::add_folder_options(app, o->out_dir, o->machine);
  app.footer(
      "One decode step of an attention layer under tensor parallelism (batch 1): every rank holds\n"
      "only its shard (weights and cache by the model's sharding rules) and runs attention, W^UV\n"
      "and W^O, finished with NCCL reduce-scatter / all-reduce. A case whose TP equals --ranks runs\n"
      "on NCCL, one thread per GPU (ncclCommInitRank per rank, as one process per GPU would); with\n"
      "--ranks 1 the TP > 1 cases are SIMULATED: the ranks' shards run one after another on the one\n"
      "GPU and the collectives are device sums (the report says so; it tests the sharded math, not\n"
      "the communication); other cases are skipped and listed. Each case is validated against the\n"
      "float64 reference's single-device decode (|out - ref| <= 2 E + 1e-5, E the fp32 emulation's\n"
      "error on the same bf16 inputs), timed per phase with CUDA events and as a CUDA graph (L2\n"
      "flushed before every run, median of --runs), then validated again. Writes\n"
      "tp_decode_step.json and .csv into the folder; progress goes to stderr. NCCL_NVLS_ENABLE=0 is\n"
      "set before NCCL starts. Needs a CUDA build with NCCL, and GPUs (--host-only: no GPU).\n"
      "Examples:\n"
      "  attnroof tp-step --host-only --variants gqa,mla --tp 1,8\n"
      "  attnroof tp-step --runs 20                            # one GPU: TP 1 on NCCL, TP > 1 simulated\n"
      "  attnroof tp-step --ranks 8 --machine nvidia-h200-x8   # GQA TP 8 and MLA TP 8 over NCCL\n"
      "  attnroof tp-step --ranks 4 --variants mlra4 --out-proj sharded --ctx 32k --out-dir /tmp/tp\n"
      "Exit status 1 when a case fails its validation (the report is written first) or the machine\n"
      "has fewer GPUs than --ranks; 2 bad input; 3 when the GPU fails.");
  return [o, &ctx] { tp_command::run_step(*o, ctx); };
}

Runner setup_tp_collectives(CLI::App& app, const Context& ctx) {
  auto o = std::make_shared<tp_command::CollectivesOptions>();
  add_int_option(app, "--ranks", o->ranks, "GPUs = NCCL ranks, one thread each (<= 64)", 1);
  app.add_option("--ops", o->ops, "comma list of all_reduce, reduce_scatter, all_gather")
      ->capture_default_str();
  add_int_option(app, "--min-bytes", o->min_bytes, "smallest buffer (64 .. 2^34; k, m suffixes)", 64);
  add_int_option(app, "--max-bytes", o->max_bytes, "largest buffer (64 .. 2^34; sizes double up to it)",
                 64);
  add_int_option(app, "--runs", o->runs, "timed launches per point (median)", 1);
  add_int_option(app, "--warmup", o->warmup, "untimed launches first", 0);
  app.add_option("--dtype", o->dtype, "element type: bf16 or fp32")
      ->check(CLI::IsMember({"bf16", "fp32"}))
      ->capture_default_str();
  tp_command::add_folder_options(app, o->out_dir, o->machine);
  app.footer(
      "The NCCL collectives the model's collective terms are calibrated from: --ranks ranks, one\n"
      "thread per GPU, each with its own communicator (ncclCommInitRank over one ncclUniqueId).\n"
      "Buffer sizes double from --min-bytes to --max-bytes; \"bytes\" is the whole buffer as\n"
      "nccl-tests counts it (all-reduce in = out = bytes; reduce-scatter in = bytes, out = bytes /\n"
      "ranks; all-gather in = bytes / ranks, out = bytes), so every size must be a multiple of\n"
      "ranks x the element size. Each point: --warmup launches, then --runs timed one by one with\n"
      "CUDA events (the point's time: the largest of the ranks' medians), and the same op captured\n"
      "in a CUDA graph. algbw = bytes / time; busbw = algbw x 2(R-1)/R (all-reduce) or (R-1)/R.\n"
      "With --ranks 1 every op is a local copy: it checks the path and calibrates nothing. Writes\n"
      "tp_collectives.json and .csv into the folder; progress goes to stderr. NCCL_NVLS_ENABLE=0 is\n"
      "set before NCCL starts. Needs a CUDA build with NCCL, and GPUs.\n"
      "Examples:\n"
      "  attnroof tp-collectives --runs 10                          # one GPU: the path only\n"
      "  attnroof tp-collectives --ranks 8 --machine nvidia-h200-x8\n"
      "  attnroof tp-collectives --ranks 2 --ops all_reduce --min-bytes 4k --max-bytes 1m --dtype fp32\n"
      "Exit status 1 when the machine has fewer GPUs than --ranks; 2 bad input; 3 when the GPU\n"
      "fails.");
  return [o, &ctx] { tp_command::run_collectives(*o, ctx); };
}

}  // namespace attnroof::cli

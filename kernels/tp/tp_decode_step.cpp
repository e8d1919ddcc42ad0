// run_tp_decode_step (tp_tools.h): one decode step of an attention layer under tensor
// parallelism (kernels/tp/README.md), behind
//
//   attnroof tp-step [--ranks R] [--variants gqa,mla,gla2,mlra4] [--tp 1,2,4,8] [--ctx 4096]
//                    [--d-model 1024] [--runs 30] [--out-dir DIR] [--machine NAME] [--no-simulate]
//
// Cases (default_tps): each variant at TP 1 and at its decode case's degree (GQA TP 8, GLA-2
// TP 2, MLRA-4 TP 4 with out_proj replicated and sharded), MLA at 2, 4 and 8 too. A case runs
//   on NCCL      when its TP equals R: R ranks, one thread per GPU, each bootstrapped like an MPI
//                process (ncclGetUniqueId once, ncclCommInitRank per rank), each holding only its
//                shard (tp_problem.h) and finishing with ncclReduceScatter / ncclAllReduce;
//   SIMULATED    when R == 1 and TP > 1: the TP ranks' shards run one after another on the one
//                GPU and the collectives are device sums of the ranks' partials (labelled
//                "simulated" everywhere; it tests the sharded math, not the communication).
// Each case: one step validated against the float64 reference's single-device decode
// (tp_problem.h: the rule), then timed with CUDA events per phase (attention, projections,
// communication), the whole step eager and as a captured CUDA graph (L2 flushed before every
// run; median of --runs), validated again after the graph replays.
// The command writes DIR/tp_decode_step.json and .csv (DIR default reports/tp/<gpu>).
// NCCL_NVLS_ENABLE=0 is set before NCCL starts.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>

#include "kernels/cuda_util/cuda_check.h"
#include "kernels/cuda/launch_decode.h"
#include "kernels/tp/nccl_check.h"
#include "kernels/tp/tp_common.h"
#include "kernels/tp/tp_kernels.h"
#include "kernels/tp/tp_problem.h"
#include "kernels/tp/tp_tools.h"
#include "model/attention_options.h"
#include "model/decode_cases.h"
#include "model/error.h"

namespace attnroof::kernels::tp {
namespace {

struct CallDev {
  DeviceBuffer<uint16_t> q, k, v, o, w_uv;
  DeviceBuffer<int32_t> lens;
  DeviceBuffer<float> lse, o_partial, lse_partial;
  DecodeParams p;
  DecodePlan plan;
  const TpCall* call = nullptr;
};

struct RankDev {
  int32_t index = 0;  // global rank
  const TpRank* rank = nullptr;
  std::vector<CallDev> calls;
  float* y = nullptr;         // [(y_hi - y_lo) d_v] inside Group::y_all
  float* out_part = nullptr;  // [d_model] inside Group::out_all
  DeviceBuffer<uint16_t> wo;  // bf16 W^O rows [(wo_hi - wo_lo) d_v, d_model]
};

// The ranks one thread runs: one (NCCL) or every rank of the case (simulated).
struct Group {
  const TpProblem* p = nullptr;
  bool simulated = false;
  ncclComm_t comm = nullptr;
  std::vector<RankDev> ranks;
  int64_t y_stride = 0;
  DeviceBuffer<float> y_all, y_sum, y_owned, out_all, out;
};

Group make_group(const TpProblem& p, bool simulated, ncclComm_t comm, int32_t first,
                 int32_t count) {
  Group g;
  g.p = &p;
  g.simulated = simulated;
  g.comm = comm;
  for (int32_t r = first; r < first + count; ++r) {
    const TpRank& tr = p.ranks[std::size_t(r)];
    g.y_stride = std::max(g.y_stride, (tr.y_hi - tr.y_lo) * p.d_v);
  }
  g.y_all = DeviceBuffer<float>(std::size_t(count * g.y_stride));
  g.out_all = DeviceBuffer<float>(std::size_t(count * p.d_model));
  const int64_t owned = p.heads / p.c.tp * p.d_v;
  if (p.c.out_proj == ref::OutProj::sharded) {
    if (simulated)
      g.y_sum = DeviceBuffer<float>(std::size_t(p.heads * p.d_v));
    else
      g.y_owned = DeviceBuffer<float>(static_cast<std::size_t>(owned));
  }
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  g.out = upload(std::vector<float>(std::size_t(p.d_model), kNaN));  // unwritten: fails the check
  for (int32_t r = first; r < first + count; ++r) {
    RankDev rd;
    rd.index = r;
    rd.rank = &p.ranks[std::size_t(r)];
    rd.y = g.y_all.get() + (r - first) * g.y_stride;
    rd.out_part = g.out_all.get() + (r - first) * p.d_model;
    for (const TpCall& call : rd.rank->calls) {
      CallDev cd;
      cd.call = &call;
      const HostDecode& h = call.h;
      cd.q = upload(h.q);
      cd.k = upload(h.k);
      cd.v = upload(h.v);
      cd.lens = upload(h.lens);
      cd.w_uv = upload(call.w_uv);
      cd.o = DeviceBuffer<uint16_t>(std::size_t(h.p.q_heads) * std::size_t(h.p.d_v));
      cd.lse = DeviceBuffer<float>(std::size_t(h.p.q_heads));
      cd.p = h.p;
      cd.p.q = cd.q.get();
      cd.p.k_cache = cd.k.get();
      cd.p.v_cache = h.p.family == KernelFamily::separate_kv ? cd.v.get() : nullptr;
      cd.p.ctx_lens = cd.lens.get();
      cd.p.page_table = nullptr;
      cd.p.o = cd.o.get();
      cd.p.lse = cd.lse.get();
      cd.plan = plan_decode(cd.p, h.ctx_max);
      cd.plan.apply_to(cd.p);
      if (cd.p.n_splits > 1) {
        cd.o_partial = DeviceBuffer<float>(std::size_t(cd.plan.o_partial_elems));
        cd.lse_partial = DeviceBuffer<float>(std::size_t(cd.plan.lse_partial_elems));
        cd.p.o_partial = cd.o_partial.get();
        cd.p.lse_partial = cd.lse_partial.get();
      }
      rd.calls.push_back(std::move(cd));
    }
    rd.wo = upload(rd.rank->wo);
    g.ranks.push_back(std::move(rd));
  }
  return g;
}

constexpr int kEvents = 6;
using Events = std::array<cudaEvent_t, kEvents>;

// One step of the group's ranks on stream s. ev: phase events (nullptr while capturing a graph).
//   0 attention 1 W^UV (+ W^O if replicated) 2 reduce-scatter 3 W^O (sharded) 4 all-reduce 5
void step(Group& g, cudaStream_t s, const Events* ev) {
  const TpProblem& p = *g.p;
  const auto rec = [&](int i) {
    if (ev != nullptr) ATTNROOF_CUDA_CHECK(cudaEventRecord((*ev)[std::size_t(i)], s));
  };
  const bool sharded = p.c.out_proj == ref::OutProj::sharded;
  const auto d = static_cast<int32_t>(p.d_model);
  const int64_t owned = p.heads / p.c.tp * p.d_v;
  const auto n_local = static_cast<int32_t>(g.ranks.size());
  const auto wo_rows = [&](const RankDev& rd) {
    return static_cast<int32_t>((rd.rank->wo_hi - rd.rank->wo_lo) * p.d_v);
  };
  rec(0);
  for (RankDev& rd : g.ranks)
    for (CallDev& cd : rd.calls) launch_decode(cd.p, s);
  rec(1);
  for (RankDev& rd : g.ranks) {
    const TpRank& tr = *rd.rank;
    ATTNROOF_CUDA_CHECK(cudaMemsetAsync(rd.y, 0, sizeof(float) * std::size_t(g.y_stride), s));
    for (CallDev& cd : rd.calls) {
      const TpCall& c = *cd.call;
      launch_uv_project(cd.o.get(), c.w_uv.empty() ? nullptr : cd.w_uv.get(),
                        rd.y + (c.head_lo - tr.y_lo) * p.d_v,
                        static_cast<int32_t>(c.head_hi - c.head_lo), static_cast<int32_t>(c.d_att),
                        static_cast<int32_t>(p.d_v), static_cast<float>(p.out_scale), s);
    }
    if (!sharded) {
      ATTNROOF_CUDA_CHECK(cudaMemsetAsync(rd.out_part, 0, sizeof(float) * std::size_t(d), s));
      launch_out_project(rd.y, rd.wo.get(), rd.out_part, wo_rows(rd), d, s);
    }
  }
  rec(2);
  if (sharded) {  // y over all heads on every rank: head slice r lands on rank r
    if (g.simulated) {
      launch_sum_ranks(g.y_all.get(), n_local, g.y_stride, g.y_sum.get(), s);
    } else {
      ATTNROOF_NCCL_CHECK(ncclReduceScatter(g.ranks[0].y, g.y_owned.get(), std::size_t(owned),
                                            ncclFloat, ncclSum, g.comm, s));
    }
  }
  rec(3);
  if (sharded) {
    for (RankDev& rd : g.ranks) {
      const float* y_own = g.simulated ? g.y_sum.get() + rd.index * owned : g.y_owned.get();
      ATTNROOF_CUDA_CHECK(cudaMemsetAsync(rd.out_part, 0, sizeof(float) * std::size_t(d), s));
      launch_out_project(y_own, rd.wo.get(), rd.out_part, wo_rows(rd), d, s);
    }
  }
  rec(4);
  if (g.simulated) {
    launch_sum_ranks(g.out_all.get(), n_local, p.d_model, g.out.get(), s);
  } else {
    ATTNROOF_NCCL_CHECK(ncclAllReduce(g.ranks[0].out_part, g.out.get(), std::size_t(p.d_model),
                                      ncclFloat, ncclSum, g.comm, s));
  }
  rec(5);
}

struct GroupTiming {
  std::vector<double> attention, projections, communication, step_eager, step_graph;
};

struct GroupResult {
  std::vector<TpCheck> checks;  // after the first step, after the graph replays
  nlohmann::json timing;
  nlohmann::json calls = nlohmann::json::array();
};

nlohmann::json stats(const std::vector<double>& v) {
  if (v.empty()) return nullptr;
  return {{"median_us", median_of(v)},
          {"min_us", *std::min_element(v.begin(), v.end())},
          {"max_us", *std::max_element(v.begin(), v.end())},
          {"runs", v.size()}};
}

struct RunOptions {
  int runs = 30;
  int warmup = 3;
  int cpu_threads = 8;
};

// Validates and times one group on the current device.
GroupResult run_group(Group& g, const RunOptions& o) {
  GroupResult res;
  cudaStream_t s = nullptr;
  ATTNROOF_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  Events ev{};
  for (auto& e : ev) ATTNROOF_CUDA_CHECK(cudaEventCreate(&e));
  cudaEvent_t g0 = nullptr, g1 = nullptr;
  ATTNROOF_CUDA_CHECK(cudaEventCreate(&g0));
  ATTNROOF_CUDA_CHECK(cudaEventCreate(&g1));
  int dev = 0;
  ATTNROOF_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp prop{};
  ATTNROOF_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  DeviceBuffer<uint8_t> flush(std::size_t(2) * std::size_t(prop.l2CacheSize));
  const auto elapsed = [](cudaEvent_t a, cudaEvent_t b) {
    float ms = 0;
    ATTNROOF_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    return 1e3 * double(ms);
  };
  const auto flush_l2 = [&] {
    ATTNROOF_CUDA_CHECK(cudaMemsetAsync(flush.get(), 0, flush.bytes(), s));
  };
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  try {
    step(g, s, &ev);
    ATTNROOF_CUDA_CHECK(cudaStreamSynchronize(s));
    res.checks.push_back(check_tp_output(*g.p, download(g.out), o.cpu_threads));
    GroupTiming t;
    for (int i = 0; i < o.warmup + o.runs; ++i) {
      flush_l2();
      step(g, s, &ev);
      ATTNROOF_CUDA_CHECK(cudaStreamSynchronize(s));
      if (i < o.warmup) continue;
      t.attention.push_back(elapsed(ev[0], ev[1]));
      t.projections.push_back(elapsed(ev[1], ev[2]) + elapsed(ev[3], ev[4]));
      t.communication.push_back(elapsed(ev[2], ev[3]) + elapsed(ev[4], ev[5]));
      t.step_eager.push_back(elapsed(ev[0], ev[5]));
    }
    ATTNROOF_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    step(g, s, nullptr);
    ATTNROOF_CUDA_CHECK(cudaStreamEndCapture(s, &graph));
    ATTNROOF_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    for (int i = 0; i < o.warmup + o.runs; ++i) {
      flush_l2();
      ATTNROOF_CUDA_CHECK(cudaEventRecord(g0, s));
      ATTNROOF_CUDA_CHECK(cudaGraphLaunch(exec, s));
      ATTNROOF_CUDA_CHECK(cudaEventRecord(g1, s));
      ATTNROOF_CUDA_CHECK(cudaStreamSynchronize(s));
      if (i >= o.warmup) t.step_graph.push_back(elapsed(g0, g1));
    }
    res.checks.push_back(check_tp_output(*g.p, download(g.out), o.cpu_threads));
    res.timing = {{"attention", stats(t.attention)},
                  {"projections", stats(t.projections)},
                  {"communication", stats(t.communication)},
                  {"step_eager", stats(t.step_eager)},
                  {"step_graph", stats(t.step_graph)}};
  } catch (...) {
    if (exec != nullptr) (void)cudaGraphExecDestroy(exec);
    if (graph != nullptr) (void)cudaGraphDestroy(graph);
    throw;
  }
  ATTNROOF_CUDA_CHECK(cudaGraphExecDestroy(exec));
  ATTNROOF_CUDA_CHECK(cudaGraphDestroy(graph));
  for (auto& e : ev) ATTNROOF_CUDA_CHECK(cudaEventDestroy(e));
  ATTNROOF_CUDA_CHECK(cudaEventDestroy(g0));
  ATTNROOF_CUDA_CHECK(cudaEventDestroy(g1));
  ATTNROOF_CUDA_CHECK(cudaStreamDestroy(s));
  for (const RankDev& rd : g.ranks)
    for (const CallDev& cd : rd.calls)
      res.calls.push_back({{"rank", rd.index},
                           {"block", cd.call->block},
                           {"heads", fmt::format("[{}, {})", cd.call->head_lo, cd.call->head_hi)},
                           {"d_qk", cd.p.d_qk},
                           {"d_v", cd.p.d_v},
                           {"kv_heads", cd.p.kv_heads},
                           {"kernel", cd.plan.kernel},
                           {"n_splits", cd.plan.n_splits}});
  return res;
}

nlohmann::json check_json(const TpCheck& c) {
  return {{"max_abs_err", c.max_err},   {"emu_err_E", c.emu_err},
          {"tolerance", c.tolerance},   {"ref_max_abs", c.ref_max_abs},
          {"rel_err", c.rel_err},       {"harness_rel_err", c.harness_rel_err},
          {"non_finite", c.non_finite}, {"passed", c.passed},
          {"failure", c.failure}};
}

nlohmann::json case_json(const TpProblem& p, const std::string& mode, int world) {
  nlohmann::json ranks = nlohmann::json::array();
  for (std::size_t r = 0; r < p.ranks.size(); ++r) {
    const TpRank& tr = p.ranks[r];
    ranks.push_back({{"rank", r},
                     {"calls", tr.calls.size()},
                     {"y_heads", fmt::format("[{}, {})", tr.y_lo, tr.y_hi)},
                     {"wo_heads", fmt::format("[{}, {})", tr.wo_lo, tr.wo_hi)},
                     {"weights_held_elems", p.weight_elems[r]}});
  }
  return {{"case", describe_tp_case(p.c)},
          {"label", p.label},
          {"variant", variant_name(p.c.variant)},
          {"tp", p.c.tp},
          {"out_proj", model::to_string(p.c.out_proj)},
          {"mode", mode},
          {"nccl_world_size", world},
          {"ctx", p.c.ctx},
          {"batch", 1},
          {"d_model", p.d_model},
          {"heads", p.heads},
          {"seed", p.c.seed},
          {"shards", ranks}};
}

const std::map<std::string, TpVariant>& variant_names() {
  static const std::map<std::string, TpVariant> m = {{"gqa", TpVariant::gqa},
                                                     {"mla", TpVariant::mla},
                                                     {"gla2", TpVariant::gla2},
                                                     {"mlra4", TpVariant::mlra4}};
  return m;
}

// The TP degrees a variant runs at by default: 1 and its decode case's deployment degree; MLA,
// the baseline the others are compared with, at every case's degree (1, 2, 4, 8).
std::vector<int32_t> default_tps(TpVariant v) {
  std::vector<int32_t> out = {1, static_cast<int32_t>(variant_case(v).tp)};
  if (v == TpVariant::mla)
    for (const model::DecodeCase& c : model::decode_cases()) out.push_back(static_cast<int32_t>(c.tp));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string csv_header() {
  return "case,mode,tp,out_proj,ctx,d_model,passed,max_abs_err,tolerance,emu_err_E,"
         "harness_rel_err,attention_us,projections_us,communication_us,step_eager_us,"
         "step_graph_us\n";
}

void say(const TpStepOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

TpVariant variant_of(const std::string& name) {
  const auto it = variant_names().find(name);
  if (it == variant_names().end())
    throw InputError(fmt::format("--variants: unknown '{}' (gqa, mla, gla2, mlra4)", name));
  return it->second;
}

}  // namespace

void check_tp_step_options(const TpStepOptions& o) {
  for (const std::string& name : o.variants) (void)variant_of(name);
  for (const std::string& op : o.out_projs)
    if (!model::out_proj_from_string(op))
      throw InputError(fmt::format("--out-proj: '{}' (replicated, sharded)", op));
}

bool run_tp_step_host_only(const TpStepOptions& o,
                           const std::function<void(const std::string&)>& print) {
  check_tp_step_options(o);
  (void)force_nvls_off();
  bool ok = true;
  for (const std::string& name : o.variants) {
    const TpVariant variant = variant_of(name);
    const std::vector<std::string> ops =
        variant == TpVariant::mlra4 ? o.out_projs
                                    : std::vector<std::string>{std::string(model::to_string(ref::OutProj::replicated))};
    for (const std::string& op : ops) {
      TpCase c = o.base;
      c.variant = variant;
      c.out_proj = *model::out_proj_from_string(op);  // checked by check_tp_step_options
      const auto setup = make_variant_setup(c);
      for (const int32_t t : o.tps.empty() ? default_tps(variant) : o.tps) {
        c.tp = t;
        const TpProblem prob = make_tp_problem(*setup, c);
        std::vector<float> f64(std::size_t(prob.d_model));
        for (std::size_t i = 0; i < f64.size(); ++i)
          f64[i] = static_cast<float>(prob.out_f64(Eigen::Index(i)));
        const TpCheck chk = check_tp_output(prob, f64, o.cpu_threads);
        print(fmt::format(
            "host-only {:<45} ranks {} harness {:.3g}; float64 TP finish as output: "
            "max err {:.3g} <= tol {:.3g} (E {:.3g}, max |ref| {:.3g}) {}",
            describe_tp_case(c), prob.ranks.size(), chk.harness_rel_err, chk.max_err,
            chk.tolerance, chk.emu_err, chk.ref_max_abs,
            chk.passed ? "PASS" : "FAIL " + chk.failure));
        ok = ok && chk.passed;
        if (t > 1) {  // the rule must catch a rank that contributed nothing
          const TpCheck neg = check_tp_output(prob, output_without_last_rank(prob), o.cpu_threads);
          print(fmt::format("  negative control (rank {} dropped): max err {:.3g} vs tol {:.3g}: {}",
                            t - 1, neg.max_err, neg.tolerance,
                            neg.passed ? "PASSED (the rule is too loose)" : "fails, as it must"));
          ok = ok && !neg.passed;
        }
      }
    }
  }
  return ok;
}

TpRun run_tp_decode_step(const TpStepOptions& o) {
  check_tp_step_options(o);
  const std::string nvls_before = force_nvls_off();
  const int32_t ranks = o.ranks;
  const RunOptions ro{o.runs, o.warmup, o.cpu_threads};
  int visible = 0;
  ATTNROOF_CUDA_CHECK(cudaGetDeviceCount(&visible));
  if (ranks > visible)
    throw InputError(fmt::format("--ranks {} but {} GPUs are visible", ranks, visible));

  // Cases.
  struct Case {
    TpCase c;
    std::string mode;  // "nccl" or "simulated"
  };
  std::vector<Case> cases;
  std::vector<std::string> skipped;
  for (const std::string& name : o.variants) {
    const TpVariant variant = variant_of(name);
    std::vector<ref::OutProj> ops = {ref::OutProj::replicated};
    if (variant == TpVariant::mlra4) {
      ops.clear();
      for (const std::string& op : o.out_projs)
        ops.push_back(*model::out_proj_from_string(op));  // checked by check_tp_step_options
    }
    for (const ref::OutProj op : ops) {
      for (const int32_t t : o.tps.empty() ? default_tps(variant) : o.tps) {
        TpCase c = o.base;
        c.variant = variant;
        c.tp = t;
        c.out_proj = op;
        if (t == ranks) {
          cases.push_back({c, "nccl"});
        } else if (ranks == 1 && !o.no_simulate) {
          cases.push_back({c, "simulated"});
        } else {
          skipped.push_back(
              fmt::format("{}: needs {} GPUs (have --ranks {})", describe_tp_case(c), t, ranks));
        }
      }
    }
  }

  // NCCL: one communicator per rank thread, bootstrapped like an MPI job (README).
  ncclUniqueId id{};  // created with the communicators, at the first nccl case
  TpRun run;
  nlohmann::json& report = run.report;
  report = {
      {"tool", "tp_decode_step"},
      {"environment", run_environment(o.command, 0, nvls_before)},
      {"ranks", ranks},
      {"tolerance_rule",
       "max |out - out_ref| <= 2 E + 1e-5 with E = max |out_emu - out_ref| "
       "(out_emu: fp32 emulation of every decode call on the same bf16 "
       "inputs, finished with the bf16 W^UV/W^O in float64); harness: "
       "float64 TP finish vs single-device reference <= 1e-9 relative"},
      {"timing_note",
       "CUDA events per phase, median of runs, L2 flushed (2x L2 memset) "
       "before every run; step_graph = the step captured once and replayed. "
       "Host-side query path (x -> q, q^N W^UK^T) and cache append not timed. "
       "Simulated cases: phases are summed over the ranks run one after "
       "another on one GPU and communication is a device sum, not NCCL"},
      {"skipped", skipped},
      {"cases", nlohmann::json::array()}};
  std::string& csv = run.csv;
  csv = csv_header();
  bool all_passed = true;
  std::map<std::string, std::shared_ptr<VariantSetup>> setups;
  std::vector<std::unique_ptr<NcclComm>> comms(static_cast<std::size_t>(ranks));
  bool comms_ready = false;
  for (const Case& k : cases) {
    try {  // a failing case is reported and the next one runs (not after a sticky CUDA error)
      const std::string key =
          variant_name(k.c.variant) + (k.c.out_proj == ref::OutProj::sharded ? ":sharded" : "");
      if (!setups.count(key)) setups[key] = make_variant_setup(k.c);
      const TpProblem prob = make_tp_problem(*setups[key], k.c);
      say(o, fmt::format("{} [{}]: {} ranks ...", describe_tp_case(k.c), k.mode, prob.ranks.size()));
      std::vector<GroupResult> results(std::size_t(k.mode == "nccl" ? ranks : 1));
      if (k.mode == "nccl") {
        if (!comms_ready) {  // ncclCommInitRank from each rank's thread (as one process per GPU)
          ATTNROOF_NCCL_CHECK(ncclGetUniqueId(&id));
          on_each_rank(ranks, [&](int32_t r) {
            ncclComm_t c = nullptr;
            ATTNROOF_NCCL_CHECK(ncclCommInitRank(&c, ranks, id, r));
            comms[std::size_t(r)] = std::make_unique<NcclComm>(c);
          });
          comms_ready = true;
        }
        on_each_rank(ranks, [&](int32_t r) {
          Group g = make_group(prob, false, comms[std::size_t(r)]->get(), r, 1);
          results[std::size_t(r)] = run_group(g, ro);
        });
      } else {
        ATTNROOF_CUDA_CHECK(cudaSetDevice(0));
        Group g = make_group(prob, true, nullptr, 0, k.c.tp);
        results[0] = run_group(g, ro);
      }
      nlohmann::json cj = case_json(
          prob,
          k.mode == "nccl" ? "nccl"
                           : fmt::format("simulated: {} ranks run sequentially on one GPU, "
                                         "collectives are device sums",
                                         k.c.tp),
          k.mode == "nccl" ? ranks : 0);
      bool passed = true;
      nlohmann::json per_rank = nlohmann::json::array();
      TpCheck worst;
      worst.passed = true;
      for (std::size_t r = 0; r < results.size(); ++r) {
        nlohmann::json checks = nlohmann::json::array();
        for (const TpCheck& c : results[r].checks) {
          checks.push_back(check_json(c));
          passed = passed && c.passed;
          // the reported check: the first failure, else the largest error
          if (worst.passed && (!c.passed || c.max_err >= worst.max_err)) worst = c;
        }
        per_rank.push_back({{"rank", r},
                            {"checks", checks},
                            {"timing", results[r].timing},
                            {"calls", results[r].calls}});
      }
      cj["results"] = per_rank;
      cj["passed"] = passed;
      all_passed = all_passed && passed;
      report["cases"].push_back(cj);
      const nlohmann::json& tm = results[0].timing;
      const auto med = [&](const char* n) {
        return tm.contains(n) && !tm[n].is_null() ? tm[n]["median_us"].get<double>() : 0.0;
      };
      csv += fmt::format(
          "\"{}\",{},{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.3g},{:.3f},{:.3f},{:.3f},"
          "{:.3f},{:.3f}\n",
          describe_tp_case(k.c), k.mode, k.c.tp,
          model::to_string(k.c.out_proj), k.c.ctx, k.c.d_model,
          passed ? "yes" : "NO", worst.max_err, worst.tolerance, worst.emu_err,
          worst.harness_rel_err, med("attention"), med("projections"), med("communication"),
          med("step_eager"), med("step_graph"));
      say(o, fmt::format(
                 "  {} max|out-ref| {:.3g} <= tol {:.3g} (E {:.3g}), harness {:.2g}; attention "
                 "{:.1f} us, projections {:.1f} us, comm {:.1f} us, step {:.1f} us, graph {:.1f} "
                 "us{}",
                 passed ? "PASS" : "FAIL", worst.max_err, worst.tolerance, worst.emu_err,
                 worst.harness_rel_err, med("attention"), med("projections"),
                 med("communication"), med("step_eager"), med("step_graph"),
                 passed ? "" : "  " + worst.failure));
    } catch (const std::exception& e) {
      all_passed = false;
      say(o, fmt::format("  ERROR {}: {}", describe_tp_case(k.c), e.what()));
      report["cases"].push_back({{"case", describe_tp_case(k.c)},
                                 {"mode", k.mode},
                                 {"passed", false},
                                 {"error", e.what()}});
      csv += fmt::format("\"{}\",{},{},,,,ERROR,,,,,,,,,\n", describe_tp_case(k.c), k.mode, k.c.tp);
      const cudaError_t sticky = cudaDeviceSynchronize();
      if (sticky != cudaSuccess) {
        say(o, fmt::format("  sticky CUDA error ({}): stopping", cudaGetErrorString(sticky)));
        break;
      }
    }
  }
  for (const std::string& s : skipped) say(o, fmt::format("skipped: {}", s));
  report["passed"] = all_passed;
  run.passed = all_passed;
  return run;
}

}  // namespace attnroof::kernels::tp

// run_tp_collectives (tp_tools.h): the collective sweep the model's collective terms are
// calibrated from (docs/time-model.md "Collectives"), behind
//
//   attnroof tp-collectives [--ranks R] [--ops all_reduce,reduce_scatter,all_gather]
//                           [--min-bytes 1024] [--max-bytes 67108864] [--runs 20] [--warmup 5]
//                           [--dtype bf16|fp32] [--out-dir DIR] [--machine NAME]
//
// R ranks, one thread per GPU, each with its own communicator from ncclCommInitRank over one
// ncclUniqueId (the one-process-per-GPU bootstrap, README). Sizes double from --min-bytes to
// --max-bytes; "bytes" is the whole buffer as nccl-tests counts it: all-reduce in = out = bytes;
// reduce-scatter in = bytes, out = bytes / R; all-gather in = bytes / R, out = bytes. Each point:
// warm-up, then --runs launches timed one by one with CUDA events (median per rank; the point's
// time is the max over ranks of the medians), plus the same op captured in a CUDA graph.
// algbw = bytes / time; busbw = algbw * 2(R-1)/R (all-reduce) or (R-1)/R (the others).
// With R = 1 every op is the trivial (local copy) case: it checks the path, it calibrates nothing.
// The command writes DIR/tp_collectives.json and .csv (DIR default reports/tp/<gpu>);
// NCCL_NVLS_ENABLE=0.
#include <fmt/format.h>

#include <algorithm>

#include "kernels/cuda_util/cuda_check.h"
#include "kernels/tp/nccl_check.h"
#include "kernels/tp/tp_common.h"
#include "kernels/tp/tp_tools.h"
#include "model/error.h"

namespace attnroof::kernels::tp {
namespace {

struct Point {
  std::string op;
  int64_t bytes = 0;
  double eager_us = 0, graph_us = 0;
};

void enqueue(const std::string& op, const void* in, void* out, std::size_t count_out_or_in,
             ncclDataType_t dt, ncclComm_t comm, cudaStream_t s, int ranks) {
  if (op == "all_reduce") {
    ATTNROOF_NCCL_CHECK(ncclAllReduce(in, out, count_out_or_in, dt, ncclSum, comm, s));
  } else if (op == "reduce_scatter") {  // count = elements each rank receives
    ATTNROOF_NCCL_CHECK(
        ncclReduceScatter(in, out, count_out_or_in / std::size_t(ranks), dt, ncclSum, comm, s));
  } else {  // all_gather: count = elements each rank sends
    ATTNROOF_NCCL_CHECK(ncclAllGather(in, out, count_out_or_in / std::size_t(ranks), dt, comm, s));
  }
}

// One rank's sweep: per point its median eager and graph times (us).
std::vector<Point> sweep_rank(int rank, int ranks, ncclComm_t comm,
                              const std::vector<std::string>& ops,
                              const std::vector<int64_t>& sizes, bool bf16, int runs, int warmup,
                              const std::function<void(const std::string&)>& progress) {
  const std::size_t elem = bf16 ? 2 : 4;
  const ncclDataType_t dt = bf16 ? ncclBfloat16 : ncclFloat;
  const int64_t max_bytes = sizes.empty() ? 0 : sizes.back();
  DeviceBuffer<uint8_t> in{static_cast<std::size_t>(max_bytes)},
      out{static_cast<std::size_t>(max_bytes)};
  ATTNROOF_CUDA_CHECK(cudaMemset(in.get(), 0, in.bytes()));
  cudaStream_t s = nullptr;
  ATTNROOF_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  ATTNROOF_CUDA_CHECK(cudaEventCreate(&e0));
  ATTNROOF_CUDA_CHECK(cudaEventCreate(&e1));
  const auto elapsed = [&] {
    float ms = 0;
    ATTNROOF_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
    return 1e3 * double(ms);
  };
  std::vector<Point> pts;
  for (const std::string& op : ops) {
    for (const int64_t bytes : sizes) {
      const std::size_t count = std::size_t(bytes) / elem;  // whole-buffer elements
      // all_gather sends count / R elements from the start of in
      const auto once = [&](cudaStream_t st) {
        enqueue(op, in.get(), out.get(), count, dt, comm, st, ranks);
      };
      std::vector<double> eager, graph_t;
      for (int i = 0; i < warmup + runs; ++i) {
        ATTNROOF_CUDA_CHECK(cudaEventRecord(e0, s));
        once(s);
        ATTNROOF_CUDA_CHECK(cudaEventRecord(e1, s));
        ATTNROOF_CUDA_CHECK(cudaStreamSynchronize(s));
        if (i >= warmup) eager.push_back(elapsed());
      }
      cudaGraph_t graph = nullptr;
      cudaGraphExec_t exec = nullptr;
      ATTNROOF_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
      once(s);
      ATTNROOF_CUDA_CHECK(cudaStreamEndCapture(s, &graph));
      ATTNROOF_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
      for (int i = 0; i < warmup + runs; ++i) {
        ATTNROOF_CUDA_CHECK(cudaEventRecord(e0, s));
        ATTNROOF_CUDA_CHECK(cudaGraphLaunch(exec, s));
        ATTNROOF_CUDA_CHECK(cudaEventRecord(e1, s));
        ATTNROOF_CUDA_CHECK(cudaStreamSynchronize(s));
        if (i >= warmup) graph_t.push_back(elapsed());
      }
      ATTNROOF_CUDA_CHECK(cudaGraphExecDestroy(exec));
      ATTNROOF_CUDA_CHECK(cudaGraphDestroy(graph));
      pts.push_back(Point{op, bytes, median_of(eager), median_of(graph_t)});
      if (rank == 0 && progress) {
        progress(fmt::format("{:<15} {:>10} B  {:9.2f} us  graph {:9.2f} us (rank 0)", op, bytes,
                             pts.back().eager_us, pts.back().graph_us));
      }
    }
  }
  ATTNROOF_CUDA_CHECK(cudaEventDestroy(e0));
  ATTNROOF_CUDA_CHECK(cudaEventDestroy(e1));
  ATTNROOF_CUDA_CHECK(cudaStreamDestroy(s));
  return pts;
}

}  // namespace

std::vector<int64_t> tp_collective_sizes(const TpCollectivesOptions& o) {
  for (const std::string& op : o.ops)
    if (op != "all_reduce" && op != "reduce_scatter" && op != "all_gather")
      throw InputError(
          fmt::format("--ops: '{}' is not all_reduce, reduce_scatter or all_gather", op));
  if (o.dtype != "bf16" && o.dtype != "fp32")
    throw InputError(fmt::format("--dtype: '{}' is not bf16 or fp32", o.dtype));
  if (o.min_bytes > o.max_bytes)
    throw InputError(fmt::format("--min-bytes {} is larger than --max-bytes {}", o.min_bytes,
                                 o.max_bytes));
  const int64_t elem = o.dtype == "bf16" ? 2 : 4;
  std::vector<int64_t> sizes;
  for (int64_t b = o.min_bytes; b <= o.max_bytes; b *= 2) {
    if (b % (elem * o.ranks) != 0)
      throw InputError(fmt::format("{} B is not a multiple of {} ranks x {} B", b, o.ranks, elem));
    sizes.push_back(b);
  }
  return sizes;
}

TpRun run_tp_collectives(const TpCollectivesOptions& o) {
  const std::vector<int64_t> sizes = tp_collective_sizes(o);
  const std::string nvls_before = force_nvls_off();
  const int ranks = o.ranks;
  int visible = 0;
  ATTNROOF_CUDA_CHECK(cudaGetDeviceCount(&visible));
  if (ranks > visible)
    throw InputError(fmt::format("--ranks {} but {} GPUs are visible", ranks, visible));

  ncclUniqueId id{};
  ATTNROOF_NCCL_CHECK(ncclGetUniqueId(&id));
  std::vector<std::vector<Point>> per_rank(static_cast<std::size_t>(ranks));
  on_each_rank(ranks, [&](int32_t r) {
    ncclComm_t c = nullptr;
    ATTNROOF_NCCL_CHECK(ncclCommInitRank(&c, ranks, id, r));
    const NcclComm comm(c);
    per_rank[std::size_t(r)] = sweep_rank(r, ranks, comm.get(), o.ops, sizes, o.dtype == "bf16",
                                          o.runs, o.warmup, o.progress);
  });

  nlohmann::json points = nlohmann::json::array();
  TpRun run;
  run.csv = "op,ranks,dtype,bytes,time_us,graph_time_us,algbw_GBps,busbw_GBps\n";
  const double n = ranks;
  for (std::size_t i = 0; i < per_rank[0].size(); ++i) {
    const Point& p0 = per_rank[0][i];
    double t = 0, tg = 0;
    for (const auto& pr : per_rank) {
      t = std::max(t, pr[i].eager_us);
      tg = std::max(tg, pr[i].graph_us);
    }
    const double algbw = double(p0.bytes) / (t * 1e-6) / 1e9;
    const double factor = p0.op == "all_reduce" ? 2 * (n - 1) / n : (n - 1) / n;
    points.push_back({{"op", p0.op},
                      {"bytes", p0.bytes},
                      {"time_us", t},
                      {"graph_time_us", tg},
                      {"algbw_GBps", algbw},
                      {"busbw_GBps", algbw * factor}});
    run.csv += fmt::format("{},{},{},{},{:.3f},{:.3f},{:.4f},{:.4f}\n", p0.op, ranks, o.dtype,
                           p0.bytes, t, tg, algbw, algbw * factor);
  }
  run.report = {
      {"tool", "tp_collectives"},
      {"environment", run_environment(o.command, 0, nvls_before)},
      {"ranks", ranks},
      {"dtype", o.dtype},
      {"runs", o.runs},
      {"warmup", o.warmup},
      {"note", ranks == 1 ? "1 rank: the trivial case (local copy); checks the path, calibrates "
                            "no link"
                          : "time = max over ranks of each rank's median; busbw as nccl-tests"},
      {"points", points}};
  return run;
}

}  // namespace attnroof::kernels::tp

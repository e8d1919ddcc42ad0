// bench_sweep: model evaluations per second on one core (a benchmark, not a test).
//
//   bench_sweep [--points N]
//
// Sweeps llama3_70b over tp 1,2,4,8 x batch 1..64 x context 1..N (arithmetic) on h100_sxm and
// reports (1) decode_cost + estimate + capacity per point, output excluded, and (2) the same with
// every sweep column formatted as a CSV row into a memory buffer (the `sweep --format csv` path
// minus the write). Build Release for meaningful numbers.
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <string>

#include "studies/evaluate.h"
#include "studies/report/sweep_columns.h"

namespace {

using attnroof::cli::Axes;
using attnroof::cli::Row;
using attnroof::cli::Skip;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int64_t contexts = 4000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--points") == 0) contexts = std::stoll(argv[i + 1]) / (4 * 64);
  }
  namespace model = attnroof::model;
  Axes axes;
  axes.models = attnroof::cli::resolve_presets({"llama3_70b"}, "bench");
  axes.hardware = {&model::find_hardware("h100_sxm", "bench")};
  axes.tp = {1, 2, 4, 8};
  axes.batch.clear();
  for (int64_t b = 1; b <= 64; ++b) axes.batch.push_back(b);
  axes.ctx_len.clear();
  for (int64_t c = 1; c <= contexts; ++c) axes.ctx_len.push_back(c * 64);
  const uint64_t n = axes.size();

  double checksum = 0;
  auto t0 = std::chrono::steady_clock::now();
  attnroof::cli::for_each_point(
      axes, [&](const Row& r) { checksum += r.est.t_layer_s; }, [](Skip&&) {});
  const double t_model = seconds_since(t0);

  const auto columns =
      attnroof::report::select_columns(attnroof::report::sweep_columns(), "", "columns");
  fmt::memory_buffer buf;
  std::size_t bytes = 0;
  t0 = std::chrono::steady_clock::now();
  attnroof::cli::for_each_point(
      axes,
      [&](const Row& r) {
        for (std::size_t i = 0; i < columns.size(); ++i) {
          if (i) buf.push_back(',');
          attnroof::report::append_csv(buf, columns[i]->get(r));
        }
        buf.push_back('\n');
        if (buf.size() > (1 << 16)) {
          bytes += buf.size();
          buf.clear();
        }
      },
      [](Skip&&) {});
  bytes += buf.size();
  const double t_csv = seconds_since(t0);

  fmt::print("bench_sweep: {} points (llama3_70b x tp 1,2,4,8 x batch 1..64 x {} contexts, h100_sxm), one core\n",
             n, contexts);
  fmt::print("  model only (decode_cost + estimate + capacity): {:.3g} s, {:.3g} points/s\n", t_model,
             double(n) / t_model);
  fmt::print("  model + CSV formatting of {} columns:            {:.3g} s, {:.3g} points/s ({:.3g} MB)\n",
             columns.size(), t_csv, double(n) / t_csv, double(bytes) / 1e6);
  fmt::print("  (checksum {:.6g})\n", checksum);
  return 0;
}

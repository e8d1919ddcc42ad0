// bench_reference: float64 reference decode of one DeepSeek-V3-sized layer at context 32K on one
// core (absorbed form, the cache filled directly with random rows: prefill is not timed).
//   MLA     d=7168, h=128, d_q'=1536, d_latent=512, d_rope=64, d_nope=d_v=128 (DeepSeek-V3)
//   MLRA-4  the same dims with the latent as 4 blocks of 128 (blog §4.4 "MLRA-4 on DSV3 dims")
// Prints the median (and min/max) of several runs. Usage: bench_reference [ctx_len] [runs]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kernels/reference/model.h"
#include "kernels/reference/weights.h"
#include "model/json_reader.h"

using namespace attnroof;
using namespace attnroof::ref;

namespace {

double bench(VariantId id, const nlohmann::json& config, int64_t ctx, int runs) {
  const RefConfig c = parse_ref_config(id, config, model::JsonSource{"bench"});
  const Weights w = init_weights(c, 1);
  const auto m = make_ref_model<double>(w);
  Cache<double> cache = m->new_cache();
  std::mt19937_64 rng(2);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (std::size_t k = 0; k < cache.parts.size(); ++k) {
    cache.parts[k].resize(ctx, cache.parts[k].cols());
    for (Eigen::Index i = 0; i < cache.parts[k].size(); ++i) cache.parts[k].data()[i] = normal(rng);
  }
  cache.len = ctx;
  cache.key_valid.assign(std::size_t(ctx), 1);
  for (int64_t t = 0; t < ctx; ++t) cache.positions.push_back(t);
  Row x(c.d_model);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = normal(rng);
  std::vector<double> times;
  double checksum = 0;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const Row out = m->decode(cache, x, ctx - 1, Form::absorbed);
    const auto t1 = std::chrono::steady_clock::now();
    checksum += out.sum();
    times.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  fmt::print("{:<8} ctx {:>6}  median {:.3f} s  (min {:.3f}, max {:.3f}, {} runs; checksum {:.6g})\n",
             c.label(), ctx, median, times.front(), times.back(), runs, checksum);
  return median;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t ctx = argc > 1 ? std::atoll(argv[1]) : 32768;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  const nlohmann::json dsv3 = {{"d_model", 7168}, {"q_heads", 128}, {"d_q_latent", 1536},
                               {"d_latent", 512},  {"d_rope", 64},   {"d_nope", 128},
                               {"d_v", 128}};
  nlohmann::json mlra4 = dsv3;
  mlra4["out_proj"] = "replicated";
  bench(VariantId::mla, dsv3, ctx, runs);
  bench(VariantId::mlra4, mlra4, ctx, runs);
  return 0;
}

// CUDA decode kernels against the float64 reference (kernels/harness/decode_check.h has the rule,
// layer_check.h the whole-MLRA-4-layer check). [gpu] tests need a device: CI compiles them;
// scripts/gpu-run.sh runs them on the GPU machine.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cuda_util/cuda_check.h"
#include "kernels/harness/decode_check.h"
#include "kernels/cuda/kernel_table.h"
#include "kernels/harness/layer_check.h"
#include "kernels/harness/validation.h"
#include "kernels/reference/numerics.h"
#include "model/error.h"

namespace {

using namespace attnroof;
using namespace attnroof::kernels;

int cpu_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

}  // namespace

TEST_CASE("launch_decode lists every unsupported parameter at once", "[kernels]") {
  DecodeParams p;
  p.family = KernelFamily::shared_latent;
  p.batch = 0;
  p.q_heads = 8;
  p.kv_heads = 2;
  p.d_qk = 100;
  p.d_v = 64;
  const auto problems = check_decode(p);
  // Exactly these eight, each named once: batch, kv_heads for latent, the shape, the scale,
  // null q / k_cache / o, ctx_lens.
  const std::vector<std::string> expected = {
      "batch=0",       "kv_heads=2, must be 1", "d_qk=100 d_v=64 is not compiled in",
      "softmax_scale", "q is nullptr",          "k_cache is nullptr",
      "o is nullptr",  "ctx_lens is nullptr"};
  REQUIRE(problems.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(problems[i]);
    CHECK(problems[i].find(expected[i]) != std::string::npos);
  }
  try {
    launch_decode(p, nullptr);
    FAIL("launch_decode accepted bad parameters");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find("supported:") != std::string::npos);
    CHECK(what.find("shared_latent d_qk=576 d_v=512") != std::string::npos);
  }
}

TEST_CASE("launch_decode takes 1..kMaxQTokens new tokens per sequence", "[kernels]") {
  DecodeParams p;
  auto mentions_q_tokens = [&] {
    const auto problems = check_decode(p);
    return std::any_of(problems.begin(), problems.end(),
                       [](const std::string& s) { return s.find("q_tokens") != std::string::npos; });
  };
  for (int32_t q : {1, 2, 3, 4, kMaxQTokens}) {
    p.q_tokens = q;
    CHECK_FALSE(mentions_q_tokens());
  }
  for (int32_t q : {0, -1, kMaxQTokens + 1}) {
    p.q_tokens = q;
    const auto problems = check_decode(p);
    CHECK(std::any_of(problems.begin(), problems.end(), [&](const std::string& s) {
      return s.find(fmt::format("q_tokens={}: must be in [1, {}]", q, kMaxQTokens)) != std::string::npos;
    }));
  }
}

TEST_CASE("every kernel table gives each shape one default and contiguous alternatives",
          "[kernels]") {
  // KernelChoice::alternative k picks entry k of a (table, shape, tile_m): a gap or a second
  // default would make a plan unreachable or ambiguous.
  const auto tables = {cuda::separate_kv_kernels(), cuda::shared_latent_kernels(),
                       cuda::shared_latent_wgmma_kernels()};
  int most = 0, table_index = 0;
  for (const auto table : tables) {
    std::map<std::string, std::vector<int>> by_plan;
    for (const cuda::DecodeKernelEntry& e : table) {
      by_plan[fmt::format("{}/{}/{}/{}", table_index, e.shape.d_qk, e.shape.d_v, e.tile_m)]
          .push_back(e.alternative);
      most = std::max(most, e.alternative);
      // The warpgroup-MMA table holds sm_90a code only; the others run everywhere.
      CHECK((e.arch == cuda::KernelArch::sm90a) == (table_index == 2));
    }
    for (auto& [plan, alternatives] : by_plan) {
      INFO(plan);
      std::sort(alternatives.begin(), alternatives.end());
      for (std::size_t i = 0; i < alternatives.size(); ++i) CHECK(alternatives[i] == int(i));
    }
    ++table_index;
  }
  CHECK(kernel_alternatives() == most);
  CHECK(most >= 1);  // the cp.async twins of the bulk-copy defaults
}

TEST_CASE("every kernel table entry is named by its shape and tile plan", "[kernels]") {
  // Reports, the calibration's per-kernel fits and --filter key on the entry's name: it must say
  // what the entry is, shape_name(shape) (with "latent_wgmma" for the warpgroup-MMA table) then
  // _m{tile_m}_n{tile_n}_s{stages}, and only then any "_"-joined note of its variant.
  const auto tables = {cuda::separate_kv_kernels(), cuda::shared_latent_kernels(),
                       cuda::shared_latent_wgmma_kernels()};
  std::vector<std::string> names;
  for (const auto table : tables)
    for (const cuda::DecodeKernelEntry& e : table) {
      std::string prefix = shape_name(e.shape);
      if (e.arch == cuda::KernelArch::sm90a) prefix.replace(0, 6, "latent_wgmma");
      prefix += fmt::format("_m{}_n{}_s{}", e.tile_m, e.tile_n, e.stages);
      const std::string name = e.name;
      INFO(name << " (expected " << prefix << ")");
      REQUIRE(name.size() >= prefix.size());
      CHECK(name.compare(0, prefix.size(), prefix) == 0);
      CHECK((name.size() == prefix.size() || name[prefix.size()] == '_'));
      names.push_back(name);
    }
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
  // Every compiled shape has an entry of the portable tables named after it.
  for (const DecodeShape& s : supported_decode_shapes()) {
    INFO(shape_name(s));
    CHECK(std::any_of(names.begin(), names.end(), [&](const std::string& n) {
      return n.rfind(shape_name(s) + "_", 0) == 0;
    }));
  }
}

TEST_CASE("KernelChoice::from_environment reads the tools' two variables", "[kernels]") {
  ::unsetenv("ATTNROOF_WGMMA_ALT");
  ::unsetenv("ATTNROOF_NO_WGMMA");
  KernelChoice c = KernelChoice::from_environment();
  CHECK(c.alternative == 0);
  CHECK(c.wgmma);
  ::setenv("ATTNROOF_WGMMA_ALT", "2", 1);
  ::setenv("ATTNROOF_NO_WGMMA", "1", 1);
  c = KernelChoice::from_environment();
  CHECK(c.alternative == 2);
  CHECK_FALSE(c.wgmma);
  ::setenv("ATTNROOF_WGMMA_ALT", "x", 1);  // not a digit: the default
  ::setenv("ATTNROOF_NO_WGMMA", "0", 1);
  c = KernelChoice::from_environment();
  CHECK(c.alternative == 0);
  CHECK(c.wgmma);
  ::unsetenv("ATTNROOF_WGMMA_ALT");
  ::unsetenv("ATTNROOF_NO_WGMMA");
}

TEST_CASE("run_kernel_validation lists its cases without a GPU", "[kernels]") {
  ValidationOptions o;
  o.reduced = true;
  o.list_only = true;
  const nlohmann::json r = run_kernel_validation(o);
  CHECK(r["cases"].size() == validation_grid(true).size() + layer_check_grid(true).size());
  o.shapes = {"latent_d576_v512"};
  o.layer_check = false;
  for (const auto& c : run_kernel_validation(o)["cases"])
    CHECK(c.get<std::string>().find("latent_d576_v512") != std::string::npos);
}

TEST_CASE("the fp32 emulation is within bf16 error of decode_reference, splits included",
          "[kernels]") {
  // The tolerance's E must be a bf16-sized error, not a harness mismatch.
  Rng rng{7};
  HostDecode h;
  h.p.family = KernelFamily::shared_latent;
  h.p.batch = 2;
  h.p.q_heads = 5;
  h.p.kv_heads = 1;
  h.p.d_qk = 192;
  h.p.d_v = 128;
  h.p.softmax_scale = 0.0721687836f;
  h.p.max_ctx_len = 700;
  h.p.n_splits = 3;
  h.p.split_len = 256;
  h.lens = {700, 300};
  h.q.resize(std::size_t(2 * 5 * 192));
  for (auto& x : h.q) x = ref::float_to_bf16_bits(rng.normal());
  h.k.resize(std::size_t(2 * 700 * 192));
  for (auto& x : h.k) x = ref::float_to_bf16_bits(rng.normal());
  h.bind();
  const EmuOutput emu = emulate_decode_fp32(h.p, 2);
  const ref::DecodeOutput full = reference_decode(h.p, 2);
  const ref::SplitOutput split = reference_split(h.p, 2);
  REQUIRE(emu.o.size() == full.o.size());
  double e = 0, e_part = 0, merged = 0;
  for (std::size_t i = 0; i < full.o.size(); ++i) {
    e = std::max(e, std::abs(double(emu.o[i]) - full.o[i]));
    merged = std::max(merged, std::abs(split.merged.o[i] - full.o[i]));
  }
  for (std::size_t i = 0; i < split.o_partial.size(); ++i)
    e_part = std::max(e_part, std::abs(double(emu.o_partial[i]) - split.o_partial[i]));
  CHECK(e > 0);
  CHECK(e < 1e-2);
  CHECK(e_part < 2e-2);
  CHECK(merged < 1e-12);
}

TEST_CASE("with q_tokens > 1 the fp32 emulation follows decode_reference's causal rule",
          "[kernels]") {
  // The harness's own causal mask (emulate_decode_fp32) against the reference's: GQA groups of 3,
  // 3 new tokens, a ragged batch with an empty slot and a sequence of exactly q_tokens keys, and
  // splits, one of which only the last tokens reach.
  Rng rng{11};
  HostDecode h;
  h.p.family = KernelFamily::separate_kv;
  h.p.batch = 3;
  h.p.q_heads = 6;
  h.p.kv_heads = 2;
  h.p.q_tokens = 3;
  h.p.d_qk = 64;
  h.p.d_v = 64;
  h.p.softmax_scale = 0.125f;
  h.p.max_ctx_len = 258;
  h.p.n_splits = 3;
  h.p.split_len = 128;
  h.lens = {258, 3, 0};
  h.q.resize(std::size_t(3 * 3 * 6 * 64));
  for (auto& x : h.q) x = ref::float_to_bf16_bits(rng.normal());
  h.k.resize(std::size_t(3 * 258 * 2 * 64));
  h.v.resize(h.k.size());
  for (auto& x : h.k) x = ref::float_to_bf16_bits(rng.normal());
  for (auto& x : h.v) x = ref::float_to_bf16_bits(rng.normal());
  h.bind();
  const EmuOutput emu = emulate_decode_fp32(h.p, 2);
  const ref::DecodeOutput full = reference_decode(h.p, 2);
  const ref::SplitOutput split = reference_split(h.p, 2);
  REQUIRE(full.q_rows == 18);
  REQUIRE(emu.o.size() == full.o.size());
  double e = 0, e_part = 0;
  for (std::size_t i = 0; i < full.o.size(); ++i)
    e = std::max(e, std::abs(double(emu.o[i]) - full.o[i]));
  for (std::size_t i = 0; i < split.o_partial.size(); ++i)
    e_part = std::max(e_part, std::abs(double(emu.o_partial[i]) - split.o_partial[i]));
  CHECK(e > 0);
  CHECK(e < 1e-2);
  CHECK(e_part < 2e-2);
  // Sequence 1 (3 keys, 3 tokens): token 0 sees key 0 alone, so its output is V row 0 of its KV
  // head; the empty slot's rows stay 0.
  for (int head = 0; head < 6; ++head)
    for (int d = 0; d < 64; ++d) {
      const double v0 = ref::bf16_bits_to_float(h.v[std::size_t((258 + 0) * 128 + (head / 3) * 64 + d)]);
      CHECK(full.o[std::size_t(((1 * 18) + head) * 64 + d)] == Approx(v0).margin(1e-12));
    }
  for (std::size_t i = std::size_t(2 * 18 * 64); i < full.o.size(); ++i) CHECK(full.o[i] == 0);
  // The third split (keys 256..257) is reached by tokens 1 and 2 of sequence 0 only (token 0
  // sees keys < 256): its partial LSE is -inf for token 0's rows, finite for the others.
  for (int t = 0; t < 3; ++t)
    for (int head = 0; head < 6; ++head) {
      const double l = split.lse_partial[std::size_t((0 * 3 + 2) * 18 + t * 6 + head)];
      CHECK((t == 0 ? std::isinf(l) && l < 0 : std::isfinite(l)));
    }
}

TEST_CASE("decode kernels match decode_reference on the reduced grid", "[gpu]") {
  REQUIRE(cuda_device_available());
  const uint64_t seed = std::random_device{}();
  const auto grid = validation_grid(/*reduced=*/true);
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const CheckResult r = run_check(grid[i], seed + i, cpu_threads());
    INFO(describe(grid[i]) << " seed " << r.seed << ": " << r.failure);
    CHECK(r.passed);
  }
}

TEST_CASE("context length 0 gives o = 0 and lse = -inf, with and without splits", "[gpu]") {
  REQUIRE(cuda_device_available());
  for (const bool paged : {false, true}) {
    CheckCase c{.shape = "latent_d576_v512", .family = KernelFamily::shared_latent, .d_qk = 576, .d_v = 512,
                .q_heads = 16, .kv_heads = 1, .batch = 1, .ctx = 0, .paged = paged,
                .page_size = paged ? 64 : 0};
    const CheckResult r = run_check(c, std::random_device{}(), cpu_threads());
    INFO(describe(c) << ": " << r.failure);
    CHECK(r.out.empty_ok);
    CHECK(r.passed);
  }
}

TEST_CASE("a whole MLRA-4 layer on the GPU matches the reference's absorbed decode", "[gpu]") {
  REQUIRE(cuda_device_available());
  for (const LayerCheckCase& c : layer_check_grid(/*reduced=*/true)) {
    const LayerCheckResult r = run_layer_check(c, std::random_device{}(), cpu_threads());
    INFO(describe_layer(c) << " seed " << r.seed << ": " << r.failure);
    CHECK(r.branches.size() == 4);
    CHECK(r.harness_rel_err <= kLayerHarnessTol);
    CHECK(r.passed);
  }
}

TEST_CASE("the tolerance allows the kernel's own bf16 rounding and nothing more", "[kernels]") {
  CHECK(bf16_half_ulp(1.0f) == 1.0 / 256);
  CHECK(bf16_half_ulp(-1.5f) == 1.0 / 256);
  CHECK(bf16_half_ulp(0.3f) == 1.0 / 1024);
  CHECK(bf16_half_ulp(0.0f) == 0.0);
  // bf16 values a = 205/512 and b = 206/512 (half an ulp h = 1/1024 apart from their midpoint).
  // Element 1's reference sits 0.45 h below the midpoint: the emulation rounded it to a (error
  // 0.55 h = E), the kernel's fp32 result, 0.5 h higher, rounded to b (error 1.45 h > 2 E + 1e-5).
  // Element 0 is exact.
  const double h = 1.0 / 1024, a = 205.0 / 512, b = 206.0 / 512;
  const std::vector<double> ref = {0.5, (a + b) / 2 - 0.45 * h};
  const std::vector<float> emu = {0.5f, float(a)};
  const std::vector<float> lse = {0.f};
  const std::vector<double> lse_ref = {0.0};
  const std::vector<char> has_keys = {1};
  std::vector<float> got = {0.5f, float(b)};
  OutputErrors e = compare_outputs(got, emu, ref, lse, lse_ref, has_keys, 2, GotPrecision::bf16);
  CHECK(e.max_err > e.tolerance);  // the rule without u would fail this rounding flip
  CHECK(e.passed());
  CHECK(e.worst_index == 1);
  // The same values stored in fp32 were not rounded by the kernel: no allowance.
  CHECK_FALSE(compare_outputs(got, emu, ref, lse, lse_ref, has_keys, 2, GotPrecision::fp32).passed());
  // Two ulps off is an error, not a rounding.
  got[1] = float(207.0 / 512);
  e = compare_outputs(got, emu, ref, lse, lse_ref, has_keys, 2, GotPrecision::bf16);
  CHECK_FALSE(e.passed());
  CHECK_THAT(e.failure(), Catch::Contains("at element 1 (o 0.404297, ref 0.400928"));
}

TEST_CASE("an emulation far from the reference fails the check, however close the kernel is",
          "[kernels]") {
  // Kernel and emulation agree with each other but sit 5% of max |ref| from the reference (what
  // a mislaid bf16 input does to both): 2 E + 1e-5 would pass the kernel, the E cap must not.
  const std::vector<double> ref = {1.0, -0.5};
  const std::vector<float> emu = {1.05f, -0.5f};
  const std::vector<float> got = {1.05f, -0.5f};
  const std::vector<float> lse = {0.f};
  const std::vector<double> lse_ref = {0.0};
  const std::vector<char> has_keys = {1};
  OutputErrors e = compare_outputs(got, emu, ref, lse, lse_ref, has_keys, 2, GotPrecision::fp32);
  CHECK(e.max_excess <= e.tolerance);
  CHECK(e.ref_max_abs == 1.0);
  CHECK_FALSE(e.passed());
  CHECK_THAT(e.failure(), Catch::Contains("emulation: E = 0.05"));
  // At 2% of max |ref| (within kEmuSanityRel) the same agreement passes.
  const std::vector<float> near = {1.02f, -0.5f};
  CHECK(compare_outputs(near, near, ref, lse, lse_ref, has_keys, 2, GotPrecision::fp32).passed());
}

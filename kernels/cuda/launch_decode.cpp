// The decode launcher (docs/architecture.md "Rules everything keeps"): validate everything, pick
// the compiled kernel, plan the splits with model::plan_splits (priced by this GPU's calibration
// profile), launch the split kernel and, for n_splits > 1, the merge. No host synchronization: a
// decode step can be captured in a CUDA graph.
#include "kernels/cuda/launch_decode.h"

#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <utility>

#include "kernels/cuda_util/cuda_check.h"
#include "kernels/cuda/kernel_table.h"
#include "model/calibration.h"
#include "model/error.h"
#include "model/split_plan.h"
#include "model/time_model.h"

namespace attnroof::kernels {

namespace {

using cuda::DecodeKernelEntry;

constexpr std::array<int32_t, 2> kPageSizes = {64, 128};
// The time model prices the merge from these (model/time_model.h): keep them in step.
static_assert(model::kMergeCols == cuda::kMergeCols, "model::kMergeCols mirrors the merge's columns per CTA");
static_assert(model::kMergeCtasPerSm * cuda::kMergeThreads == 2048 &&
                  model::kMergeCtasPerSm * cuda::kRowMergeThreads == 2048,
              "model::kMergeCtasPerSm assumes merge CTAs fill an SM's 2048 threads");
static_assert(model::kRowMergeMaxSplits == cuda::kRowMergeMaxSplits &&
                  model::kRowMergeThreads == cuda::kRowMergeThreads,
              "the time model mirrors the choice of merge kernel");
static_assert(model::kMergeSplitsPerStep == 2 * (cuda::kMergeThreads / 32) * cuda::kMergeUnroll,
              "the time model counts the many-splits merge's round trips: 16 half-warps x 4 in flight");
// The merge keeps one fp32 weight per split in shared memory: 4096 splits stay under the 48 KB
// that needs no opt-in (plan_splits gives ~ SMs x CTAs per SM).
constexpr int32_t kMaxSplits = 4096;

std::string shapes_text() {
  std::string s;
  for (const DecodeShape& d : supported_decode_shapes())
    s += fmt::format("{}{} d_qk={} d_v={}", s.empty() ? "" : "; ", model::to_string(d.family), d.d_qk,
                     d.d_v);
  return s;
}

// The query rows one KV head serves per sequence: its group's heads for each new token (the
// kernels fold the tokens into the tile's rows).
int32_t group_rows(const DecodeParams& p) {
  return p.q_tokens * (p.kv_heads > 0 ? p.q_heads / p.kv_heads : p.q_heads);
}

// Query rows per CTA: model::decode_tile_m (one rule for the launcher and the time model).
int choose_tile_m(const DecodeParams& p) {
  return static_cast<int>(model::decode_tile_m(p.family, group_rows(p)));
}

// What the kernel choice needs to know of the current device, read once per device (the
// launcher runs on every decode step).
struct DeviceFacts {
  int major = 0, minor = 0;   // compute capability
  int64_t memory_bytes = 0;   // global memory
};

const DeviceFacts& device_facts() {
  static std::mutex mutex;
  static std::map<int, DeviceFacts> facts;
  int device = 0;
  ATTNROOF_CUDA_CHECK(cudaGetDevice(&device));
  const std::lock_guard<std::mutex> lock(mutex);
  if (auto it = facts.find(device); it != facts.end()) return it->second;
  cudaDeviceProp prop{};
  ATTNROOF_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return facts.emplace(device, DeviceFacts{prop.major, prop.minor, static_cast<int64_t>(prop.totalGlobalMem)})
      .first->second;
}

// Whether an entry's code runs on this device: sm_90a (warpgroup MMA) on compute capability 9.0
// only (H100, H200), and not when the choice keeps the mma.sync kernels.
bool arch_runs(const DecodeKernelEntry& e, const KernelChoice& choice) {
  if (e.arch == cuda::KernelArch::sm80) return true;
  const DeviceFacts& d = device_facts();
  return choice.wgmma && d.major == 9 && d.minor == 0;
}

// The rows a bulk-copy kernel's tensor map spans, or 0 where the bulk copies cannot serve the
// launch (its kernel's cp.async twin runs instead). A tile must lie in one page: splits start on
// tile boundaries (plan_decode rounds split_len up to tile_n; a hand-set split_len need not),
// and the pages (64, 128 rows) are multiples of the tiles (32, 64). The row coordinate is a
// signed 32-bit number: a contiguous cache spans batch x max_ctx_len rows; a paged cache's rows
// are unknown here (the page table is on the device), but no allocation holds more rows than
// the device's memory does, so the map spans those. Tensor maps exist from compute capability 9.0.
int64_t bulk_copy_rows(const DecodeParams& p, const DecodeKernelEntry& e) {
  constexpr int64_t kMaxRows = (int64_t(1) << 31) - 1;
  const DeviceFacts& device = device_facts();
  if (device.major < 9) return 0;
  if (p.n_splits > 1 && p.split_len % e.tile_n != 0) return 0;
  if (!p.paged()) {
    const int64_t rows = int64_t(p.batch) * p.max_ctx_len;
    return rows <= kMaxRows ? std::max<int64_t>(rows, 1) : 0;
  }
  if (p.page_size % e.tile_n != 0) return 0;
  // The shorter row of K and V: its map spans the most rows, and bounds both maps.
  const int64_t row_bytes =
      2 * (p.family == KernelFamily::separate_kv ? std::min(p.k_row_elems(), p.v_row_elems())
                                             : p.k_row_elems());
  const int64_t rows = device.memory_bytes / row_bytes;
  return rows <= kMaxRows ? rows : 0;
}

// The entry of `table` that matches, runs here and serves the launch: the requested alternative,
// or the default where the shape has no such alternative; a bulk-copy plan that cannot serve this
// launch gives way to the next alternative that can (its cp.async twin).
template <class Matches>
const DecodeKernelEntry* pick_entry(std::span<const DecodeKernelEntry> table, const DecodeParams& p,
                                    const KernelChoice& choice, Matches matches) {
  const auto find = [&](int alternative, bool need_usable) -> const DecodeKernelEntry* {
    for (const DecodeKernelEntry& e : table)
      if (e.alternative == alternative && matches(e) && arch_runs(e, choice) &&
          (!need_usable || !e.bulk_copy() || bulk_copy_rows(p, e) > 0))
        return &e;
    return nullptr;
  };
  const int first = find(choice.alternative, false) != nullptr ? choice.alternative : 0;
  for (int alternative = first; find(alternative, false) != nullptr; ++alternative)
    if (const DecodeKernelEntry* e = find(alternative, true)) return e;
  for (int alternative = 0; alternative < first; ++alternative)  // none after it can: the first that can
    if (const DecodeKernelEntry* e = find(alternative, true)) return e;
  return nullptr;
}

const DecodeKernelEntry* find_entry(const DecodeParams& p, const KernelChoice& choice) {
  const auto same_shape = [&](const DecodeKernelEntry& e) {
    return e.shape.d_qk == p.d_qk && e.shape.d_v == p.d_v;
  };
  if (p.family == KernelFamily::shared_latent && choose_tile_m(p) == 64)
    if (const DecodeKernelEntry* e = pick_entry(cuda::shared_latent_wgmma_kernels(), p, choice, same_shape))
      return e;
  const auto table = p.family == KernelFamily::separate_kv ? cuda::separate_kv_kernels()
                                                       : cuda::shared_latent_kernels();
  const int tile_m = choose_tile_m(p);
  return pick_entry(table, p, choice, [&](const DecodeKernelEntry& e) {
    return same_shape(e) && e.tile_m == tile_m;
  });
}

bool aligned(const void* ptr, std::size_t bytes) {
  return reinterpret_cast<std::uintptr_t>(ptr) % bytes == 0;
}

std::vector<std::string> check_shape(const DecodeParams& p) {
  std::vector<std::string> bad;
  if (p.family != KernelFamily::separate_kv && p.family != KernelFamily::shared_latent)
    bad.push_back(fmt::format("family={}: not a KernelFamily", static_cast<int>(p.family)));
  if (p.batch < 1) bad.push_back(fmt::format("batch={}: must be >= 1", p.batch));
  if (p.q_heads < 1) bad.push_back(fmt::format("q_heads={}: must be >= 1", p.q_heads));
  if (p.q_tokens < 1 || p.q_tokens > kMaxQTokens)
    bad.push_back(fmt::format("q_tokens={}: must be in [1, {}] (new tokens per sequence, causal "
                              "among themselves)", p.q_tokens, kMaxQTokens));
  if (p.kv_heads < 1) bad.push_back(fmt::format("kv_heads={}: must be >= 1", p.kv_heads));
  if (p.q_heads >= 1 && p.kv_heads >= 1 && p.q_heads % p.kv_heads != 0)
    bad.push_back(fmt::format("q_heads={} is not a multiple of kv_heads={}", p.q_heads, p.kv_heads));
  if (int64_t(p.batch) * p.kv_heads > 65535)
    bad.push_back(fmt::format("batch*kv_heads={}: must be <= 65535 (grid z)",
                              int64_t(p.batch) * p.kv_heads));
  if (p.family == KernelFamily::shared_latent) {
    if (p.kv_heads != 1)
      bad.push_back(fmt::format("shared_latent: kv_heads={}, must be 1", p.kv_heads));
    if (p.v_cache != nullptr)
      bad.push_back("shared_latent: v_cache must be nullptr (V is the latent part of k_cache)");
  } else if (p.v_cache == nullptr) {
    bad.push_back("separate_kv: v_cache is nullptr");
  }
  if (p.family == KernelFamily::separate_kv || p.family == KernelFamily::shared_latent) {
    bool found = false;
    for (const DecodeShape& d : supported_decode_shapes())
      found |= d.family == p.family && d.d_qk == p.d_qk && d.d_v == p.d_v;
    if (!found)
      bad.push_back(fmt::format("{} d_qk={} d_v={} is not compiled in; supported: {}",
                                model::to_string(p.family), p.d_qk, p.d_v, shapes_text()));
  }
  if (!(p.softmax_scale > 0.f) || !std::isfinite(p.softmax_scale))
    bad.push_back(fmt::format("softmax_scale={}: must be finite and > 0", p.softmax_scale));
  const std::pair<const void*, const char*> need16[] = {
      {p.q, "q"}, {p.k_cache, "k_cache"}, {p.o, "o"}};
  for (const auto& [ptr, name] : need16) {
    if (ptr == nullptr) bad.push_back(fmt::format("{} is nullptr", name));
    else if (!aligned(ptr, 16)) bad.push_back(fmt::format("{} is not 16-byte aligned", name));
  }
  if (p.v_cache != nullptr && !aligned(p.v_cache, 16))
    bad.push_back("v_cache is not 16-byte aligned");
  if (p.ctx_lens == nullptr) bad.push_back("ctx_lens is nullptr");
  if (p.lse != nullptr && !aligned(p.lse, 4)) bad.push_back("lse is not 4-byte aligned");
  if (p.page_table == nullptr) {
    if (p.max_ctx_len < 0) bad.push_back(fmt::format("max_ctx_len={}: must be >= 0", p.max_ctx_len));
  } else {
    if (std::find(kPageSizes.begin(), kPageSizes.end(), p.page_size) == kPageSizes.end())
      bad.push_back(fmt::format("page_size={}: supported: 64, 128", p.page_size));
    if (p.max_pages_per_seq < 1)
      bad.push_back(fmt::format("max_pages_per_seq={}: must be >= 1", p.max_pages_per_seq));
  }
  return bad;
}

// Per (kernel, device): the opt-in shared memory is set once, and the occupancy read once.
int32_t configure(const DecodeKernelEntry& e) {
  static std::mutex mutex;
  static std::map<std::pair<const void*, int>, int32_t> ctas;
  int device = 0;
  ATTNROOF_CUDA_CHECK(cudaGetDevice(&device));
  const std::lock_guard<std::mutex> lock(mutex);
  const void* fn = cuda::entry_function(e);
  const auto key = std::make_pair(fn, device);
  if (auto it = ctas.find(key); it != ctas.end()) return it->second;
  ATTNROOF_CUDA_CHECK(
      cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, e.smem_bytes));
  // The wgmma plans size their stages for the whole shared carveout (the 1-warpgroup 192/128
  // plan runs 2 CTAs of 97 KB per SM): ask for it, so occupancy and launch agree.
  const auto wgmma = cuda::shared_latent_wgmma_kernels();
  if (!wgmma.empty() && &e >= wgmma.data() && &e < wgmma.data() + wgmma.size())
    ATTNROOF_CUDA_CHECK(cudaFuncSetAttribute(fn, cudaFuncAttributePreferredSharedMemoryCarveout,
                                             static_cast<int>(cudaSharedmemCarveoutMaxShared)));
  int n = 0;
  ATTNROOF_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
      &n, fn, e.threads, static_cast<std::size_t>(e.smem_bytes)));
  if (n < 1)
    throw CudaError(fmt::format("kernel {} does not fit on an SM ({} threads, {} B shared)",
                                e.name, e.threads, e.smem_bytes));
  ctas.emplace(key, n);
  return n;
}

// What prices the split candidates on one device (model::plan_splits): the embedded calibration
// profile of this GPU (model/data/calibration/, matched by name and SM count) when there is one,
// else the time model's default parameters with a read ceiling from the memory clock and bus
// width. Looked up once per device.
struct SplitCostModel {
  std::shared_ptr<const model::CalibrationProfile> profile;  // nullptr: uncalibrated
  double read_ceiling_Bps = 0;
  double sm_clock_mhz = 0;
  std::string name;  // DecodePlan::split_cost_model
};

const SplitCostModel& split_cost_model() {
  static std::mutex mutex;
  static std::map<int, SplitCostModel> models;
  int device = 0;
  ATTNROOF_CUDA_CHECK(cudaGetDevice(&device));
  const std::lock_guard<std::mutex> lock(mutex);
  if (auto it = models.find(device); it != models.end()) return it->second;
  cudaDeviceProp prop{};
  ATTNROOF_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  SplitCostModel m;
  m.profile = model::find_builtin_calibration_for_gpu(prop.name, prop.multiProcessorCount);
  if (m.profile != nullptr) {
    m.read_ceiling_Bps = m.profile->read_ceiling_Bps;
    m.sm_clock_mhz = m.profile->typical_sm_clock_mhz;
    m.name = fmt::format("calibrated ({})", m.profile->source);
  } else {
    int mem_khz = 0, bus_bits = 0, sm_khz = 0;
    ATTNROOF_CUDA_CHECK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device));
    ATTNROOF_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
    ATTNROOF_CUDA_CHECK(cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, device));
    // Double data rate: two transfers per memory clock over the whole bus.
    m.read_ceiling_Bps = 2.0 * double(mem_khz) * 1e3 * double(bus_bits) / 8.0;
    m.sm_clock_mhz = double(sm_khz) / 1e3;
    m.name = "uncalibrated defaults";
  }
  return models.emplace(device, std::move(m)).first->second;
}

model::SplitKvParams split_params(const SplitCostModel& m, const DecodeKernelEntry& e) {
  if (m.profile == nullptr) return model::SplitKvParams{};
  const model::FamilyCalibration* fam = m.profile->family(e.shape.family);
  return fam == nullptr ? model::SplitKvParams{} : fam->params_for(e.name);
}

int32_t head_blocks(const DecodeParams& p, const DecodeKernelEntry& e) {
  return (group_rows(p) + e.tile_m - 1) / e.tile_m;
}

// The driver's tensor-map encoder, through the runtime (no link against libcuda).
PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static const PFN_cuTensorMapEncodeTiled_v12000 encode = [] {
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult found{};
    ATTNROOF_CUDA_CHECK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000,
                                                         cudaEnableDefault, &found));
    if (found != cudaDriverEntryPointSuccess || fn == nullptr)
      throw CudaError("the driver has no cuTensorMapEncodeTiled (bulk-copy decode kernels)");
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
  }();
  return encode;
}

// Cache rows as a 2-D bf16 tensor [rows, row_elems] and the box a bulk-copy kernel loads: 64
// columns (128 bytes, the swizzle span) x tile_n rows, in the 128-byte swizzle.
CUtensorMap cache_tensor_map(const void* cache, int64_t row_elems, int64_t rows,
                             const DecodeKernelEntry& e) {
  CUtensorMap map{};
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(row_elems), static_cast<cuuint64_t>(rows)};
  const cuuint64_t row_stride[1] = {static_cast<cuuint64_t>(row_elems * 2)};
  const cuuint32_t box[2] = {64, static_cast<cuuint32_t>(e.tile_n)};
  const cuuint32_t element_stride[2] = {1, 1};
  const CUresult r = tensor_map_encoder()(
      &map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, const_cast<void*>(cache), dims, row_stride, box,
      element_stride, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    throw CudaError(fmt::format("cuTensorMapEncodeTiled failed ({}) for {} ({} rows x {})",
                                static_cast<int>(r), e.name, rows, row_elems));
  return map;
}

}  // namespace

std::vector<DecodeShape> supported_decode_shapes() {
  std::vector<DecodeShape> out;
  for (const auto table : {cuda::separate_kv_kernels(), cuda::shared_latent_kernels(),
                           cuda::shared_latent_wgmma_kernels()})
    for (const DecodeKernelEntry& e : table)
      if (std::find(out.begin(), out.end(), e.shape) == out.end()) out.push_back(e.shape);
  return out;
}

std::vector<std::string> check_decode(const DecodeParams& p) {
  std::vector<std::string> bad = check_shape(p);
  if (p.n_splits < 1 || p.n_splits > kMaxSplits)
    bad.push_back(fmt::format("n_splits={}: must be in [1, {}]", p.n_splits, kMaxSplits));
  if (p.n_splits > 1) {
    if (p.d_v % cuda::kMergeCols != 0)  // every compiled d_v is; a new shape must keep it so
      bad.push_back(fmt::format("d_v={}: the split merge needs a multiple of {}", p.d_v,
                                cuda::kMergeCols));
    if (p.split_len < 1) bad.push_back(fmt::format("split_len={}: must be >= 1", p.split_len));
    if (p.o_partial == nullptr || p.lse_partial == nullptr)
      bad.push_back(fmt::format("n_splits={} needs o_partial and lse_partial (plan_decode sizes them)",
                                p.n_splits));
    else if (!aligned(p.o_partial, 16))
      bad.push_back("o_partial is not 16-byte aligned");
  }
  return bad;
}

KernelChoice KernelChoice::from_environment() {
  KernelChoice c;
  if (const char* v = std::getenv("ATTNROOF_WGMMA_ALT"); v != nullptr && v[0] >= '0' && v[0] <= '9')
    c.alternative = v[0] - '0';
  if (const char* v = std::getenv("ATTNROOF_NO_WGMMA"); v != nullptr && v[0] != '\0' && v[0] != '0')
    c.wgmma = false;
  return c;
}

int kernel_alternatives() {
  int most = 0;
  for (const auto table : {cuda::separate_kv_kernels(), cuda::shared_latent_kernels(),
                           cuda::shared_latent_wgmma_kernels()})
    for (const DecodeKernelEntry& e : table) most = std::max(most, e.alternative);
  return most;
}

DecodePlan plan_decode(const DecodeParams& p, int64_t ctx_len_max, int64_t split_len,
                       const KernelChoice& choice) {
  std::vector<std::string> bad = check_shape(p);
  if (ctx_len_max < 0) bad.push_back(fmt::format("ctx_len_max={}: must be >= 0", ctx_len_max));
  if (split_len < 0) bad.push_back(fmt::format("split_len={}: must be >= 0", split_len));
  throw_if_problems("plan_decode: unsupported decode parameters", bad);
  const DecodeKernelEntry* e = find_entry(p, choice);
  if (e == nullptr) throw InputError("plan_decode: no kernel entry (internal table mismatch)");
  DecodePlan plan;
  plan.kernel = e->name;
  plan.alternative = e->alternative;
  plan.tile_m = e->tile_m;
  plan.tile_n = e->tile_n;
  plan.stages = e->stages;
  plan.threads = e->threads;
  plan.smem_bytes = e->smem_bytes;
  plan.head_blocks = head_blocks(p, *e);
  plan.ctas_per_sm = configure(*e);
  int device = 0, sms = 0;
  ATTNROOF_CUDA_CHECK(cudaGetDevice(&device));
  ATTNROOF_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  plan.sm_count = sms;
  model::SplitPlan split;
  if (split_len > 0) {
    split.split_len = (split_len + e->tile_n - 1) / e->tile_n * e->tile_n;
    split.n_splits = std::max<int64_t>((ctx_len_max + split.split_len - 1) / split.split_len, 1);
  } else {
    const SplitCostModel& cost = split_cost_model();
    model::DecodeWork work;
    work.family = p.family;
    work.q_heads = p.q_heads;
    work.kv_heads = p.kv_heads;
    work.q_tokens = p.q_tokens;
    work.d_qk = p.d_qk;
    work.d_v = p.d_v;
    work.ctx_lens.assign(std::size_t(p.batch), ctx_len_max);
    work.read_ceiling_Bps = cost.read_ceiling_Bps;
    work.sm_clock_mhz = cost.sm_clock_mhz;
    work.plan = model::KernelPlan{.tile_m = e->tile_m,
                                  .tile_n = e->tile_n,
                                  .stages = e->stages,
                                  .ctas_per_sm = plan.ctas_per_sm,
                                  .sm_count = sms,
                                  .n_splits = 1,
                                  .split_len = 1};
    split = model::plan_splits(work, split_params(cost, *e));
    plan.split_cost_model = cost.name;
  }
  plan.n_splits = static_cast<int32_t>(std::min<int64_t>(split.n_splits, kMaxSplits));
  plan.split_len = static_cast<int32_t>(split.split_len);
  if (plan.n_splits > 1) {
    plan.o_partial_elems = int64_t(p.batch) * plan.n_splits * p.q_rows() * p.d_v;
    plan.lse_partial_elems = int64_t(p.batch) * plan.n_splits * p.q_rows();
  }
  return plan;
}

void launch_decode(const DecodeParams& p, cudaStream_t stream, const KernelChoice& choice) {
  throw_if_problems("launch_decode: unsupported decode parameters", check_decode(p));
  const DecodeKernelEntry* e = find_entry(p, choice);
  if (e == nullptr) throw InputError("launch_decode: no kernel entry (internal table mismatch)");
  configure(*e);
  const cudaLaunchConfig_t split_cfg{
      .gridDim = dim3(static_cast<unsigned>(head_blocks(p, *e)), static_cast<unsigned>(p.n_splits),
                      static_cast<unsigned>(p.batch * p.kv_heads)),
      .blockDim = dim3(static_cast<unsigned>(e->threads)),
      .dynamicSmemBytes = static_cast<std::size_t>(e->smem_bytes),
      .stream = stream,
      .attrs = nullptr,
      .numAttrs = 0,
  };
  // The C entry point: host code compiled by the C++ compiler has no templated launch overloads.
  DecodeParams params = p;
  void* args[] = {&params};
  if (e->bulk_copy()) {
    const int64_t rows = bulk_copy_rows(p, *e);
    cuda::BulkCopyDecodeArgs bulk{.p = p, .cache_rows = cache_tensor_map(p.k_cache, p.k_row_elems(), rows, *e),
                                  .v_rows = {}};
    if (p.family == KernelFamily::separate_kv)
      bulk.v_rows = cache_tensor_map(p.v_cache, p.v_row_elems(), rows, *e);
    void* bulk_args[] = {&bulk};
    ATTNROOF_CUDA_CHECK(cudaLaunchKernelExC(&split_cfg, cuda::entry_function(*e), bulk_args));
  } else {
    ATTNROOF_CUDA_CHECK(cudaLaunchKernelExC(&split_cfg, cuda::entry_function(*e), args));
  }
  ATTNROOF_CUDA_CHECK_LAUNCH();
  if (p.n_splits > 1) {
    const bool few = p.n_splits <= cuda::kRowMergeMaxSplits;
    const int64_t q_rows = p.q_rows();
    const cudaLaunchConfig_t merge_cfg{
        .gridDim = few ? dim3(static_cast<unsigned>(cuda::row_merge_grid_x(p.batch, q_rows, p.d_v)))
                       : dim3(static_cast<unsigned>(cuda::merge_grid_x(int(q_rows), p.d_v)),
                              static_cast<unsigned>(p.batch)),
        .blockDim = dim3(static_cast<unsigned>(few ? cuda::kRowMergeThreads : cuda::kMergeThreads)),
        .dynamicSmemBytes = few ? 0 : static_cast<std::size_t>(cuda::merge_smem_bytes(p.n_splits)),
        .stream = stream,
        .attrs = nullptr,
        .numAttrs = 0,
    };
    const auto merge = few ? cuda::merge_few_splits_kernel_ptr() : cuda::merge_splits_kernel_ptr();
    ATTNROOF_CUDA_CHECK(
        cudaLaunchKernelExC(&merge_cfg, reinterpret_cast<const void*>(merge), args));
    ATTNROOF_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace attnroof::kernels

#include "kernels/harness/check_support.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

#include "kernels/cuda_util/cuda_check.h"
#include "model/checked_math.h"
#include "model/error.h"
#include "kernels/reference/numerics.h"

namespace attnroof::kernels {

namespace {

constexpr float kLog2eF = 1.4426950408889634f;
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

float from_bf16(uint16_t h) { return ref::bf16_bits_to_float(h); }
float round_bf16(float f) { return ref::bf16_bits_to_float(ref::float_to_bf16_bits(f)); }

// Runs f(i) for i in [0, n) on `threads` threads; the first exception is rethrown here.
template <class F>
void parallel_for(int64_t n, int threads, F&& f) {
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (int64_t i = next++; i < n; i = next++) {
      try {
        f(i);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min<int64_t>(threads, n); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

// One sequence (and, for a single shared KV head and one new token, a chunk of its query heads)
// as a batch-1 problem over the same buffers, addressed through the documented layout
// (decode_params.h). With q_tokens > 1 a head chunk is not contiguous in q: whole sequences.
struct Slice {
  int32_t b = 0, h0 = 0, nh = 0;
};

DecodeParams slice_params(const DecodeParams& p, const Slice& s) {
  DecodeParams d = p;
  d.batch = 1;
  d.q_heads = s.nh;
  d.q = static_cast<const uint16_t*>(p.q) + (int64_t(s.b) * p.q_rows() + s.h0) * p.d_qk;
  d.ctx_lens = p.ctx_lens + s.b;
  if (p.page_table != nullptr) {
    d.page_table = p.page_table + int64_t(s.b) * p.max_pages_per_seq;
  } else {
    const int64_t row0 = int64_t(s.b) * p.max_ctx_len;
    d.k_cache = static_cast<const uint16_t*>(p.k_cache) + row0 * p.k_row_elems();
    if (p.v_cache != nullptr)
      d.v_cache = static_cast<const uint16_t*>(p.v_cache) + row0 * p.v_row_elems();
  }
  d.o = nullptr;
  d.lse = nullptr;
  d.o_partial = nullptr;
  d.lse_partial = nullptr;
  return d;
}

// Slices and the threads to run them on: head chunks only where kv_heads == 1 (a sub-range of
// query heads is then a valid problem); at most ~12 GB of float64 K/V copies alive at once.
std::vector<Slice> slices(const DecodeParams& p, int& threads) {
  int64_t longest = 1;
  for (int32_t b = 0; b < p.batch; ++b) longest = std::max<int64_t>(longest, p.ctx_lens[b]);
  const double bytes_per_task = 8.0 * double(longest) * double(p.d_qk + p.d_v) * 1.2;
  threads = static_cast<int>(std::clamp<double>(12e9 / bytes_per_task, 1.0, double(threads)));
  const int32_t chunks = p.kv_heads == 1 && p.q_tokens == 1
                             ? std::clamp(threads / std::max(p.batch, 1), 1, p.q_heads)
                             : 1;
  std::vector<Slice> out;
  for (int32_t b = 0; b < p.batch; ++b)
    for (int32_t c = 0; c < chunks; ++c) {
      const int32_t h0 = c * p.q_heads / chunks, h1 = (c + 1) * p.q_heads / chunks;
      if (h1 > h0) out.push_back(Slice{b, h0, h1 - h0});
    }
  return out;
}

}  // namespace

int check_threads(int requested) {
  if (requested < 0) throw InputError(fmt::format("cpu_threads = {}: must be >= 0", requested));
  return requested > 0 ? requested
                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

uint64_t Rng::next() {
  s += 0x9E3779B97F4A7C15ull;
  uint64_t z = s;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
double Rng::uniform() { return double(next() >> 11) * 0x1.0p-53; }
float Rng::normal() {
  const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

void HostDecode::bind() {
  p.q = q.data();
  p.k_cache = k.data();
  p.v_cache = p.family == KernelFamily::separate_kv ? v.data() : nullptr;
  p.ctx_lens = lens.data();
  p.page_table = page_table.empty() ? nullptr : page_table.data();
}

int64_t HostDecode::lay_out_contiguous(int64_t rows_per_seq) {
  p.max_ctx_len = rows_per_seq;
  page_table.clear();
  return int64_t(p.batch) * rows_per_seq;
}

int64_t HostDecode::lay_out_shuffled_pages(int32_t page_size, int64_t rows_per_seq,
                                           uint64_t seed) {
  p.page_size = page_size;
  p.max_pages_per_seq = static_cast<int32_t>(model::ceil_div(rows_per_seq, page_size));
  const int64_t pages = int64_t(p.batch) * p.max_pages_per_seq;
  std::vector<int32_t> perm(static_cast<std::size_t>(pages));
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937_64(seed));
  const int32_t poison_page = static_cast<int32_t>(pages);
  page_table.assign(std::size_t(pages), poison_page);
  for (int32_t b = 0; b < p.batch; ++b) {
    const int64_t used = model::ceil_div(lens[std::size_t(b)], page_size);
    for (int64_t j = 0; j < used; ++j) {
      const std::size_t at = std::size_t(b * p.max_pages_per_seq + j);
      page_table[at] = perm[at];
    }
  }
  return (pages + 1) * page_size;
}

int64_t HostDecode::cache_row(int64_t b, int64_t t) const {
  DecodeParams at = p;
  at.page_table = page_table.empty() ? nullptr : page_table.data();
  return at.physical_row(b, t);
}

EmuOutput emulate_decode_fp32(const DecodeParams& p, int threads) {
  EmuOutput out;
  const int64_t ns = p.n_splits > 1 ? p.n_splits : 0;
  const int64_t q_rows = p.q_rows();
  out.o.assign(std::size_t(p.batch * q_rows) * p.d_v, 0.f);
  out.o_partial.assign(std::size_t(p.batch * ns * q_rows) * p.d_v, 0.f);
  const bool latent = p.family == KernelFamily::shared_latent;
  const int group = p.q_heads / p.kv_heads;
  const auto* q = static_cast<const uint16_t*>(p.q);
  const auto* kc = static_cast<const uint16_t*>(p.k_cache);
  const auto* vc = static_cast<const uint16_t*>(p.v_cache);
  const float scale_log2 = p.softmax_scale * kLog2eF;
  parallel_for(int64_t(p.batch) * q_rows, threads, [&](int64_t bh) {
    // bh: sequence b, row (token j, head) of it; token j sees the keys below ctx - q_tokens + 1 + j.
    const int64_t b = bh / q_rows, q_row = bh % q_rows, head = q_row % p.q_heads;
    const int64_t kvh = head / group;
    const int64_t len = p.ctx_lens[b] <= 0 ? 0 : p.ctx_lens[b] - p.q_tokens + 1 + q_row / p.q_heads;
    if (len <= 0) return;
    std::vector<float> qf(static_cast<std::size_t>(p.d_qk));
    for (int d = 0; d < p.d_qk; ++d) qf[std::size_t(d)] = from_bf16(q[bh * p.d_qk + d]);
    std::vector<float> s(static_cast<std::size_t>(len));
    std::vector<const uint16_t*> vrow(static_cast<std::size_t>(len));
    for (int64_t n = 0; n < len; ++n) {
      const int64_t row = p.physical_row(b, n);
      const uint16_t* kr = kc + row * p.k_row_elems() + kvh * p.d_qk;
      vrow[std::size_t(n)] = latent ? kr : vc + row * p.v_row_elems() + kvh * p.d_v;
      float acc = 0;
      for (int d = 0; d < p.d_qk; ++d) acc = std::fma(qf[std::size_t(d)], from_bf16(kr[d]), acc);
      s[std::size_t(n)] = acc * scale_log2;
    }
    // Keys [n0, n1): fp32 softmax with P rounded to bf16 before P V; returns the unrounded o.
    std::vector<float> acc(static_cast<std::size_t>(p.d_v));
    auto attend = [&](int64_t n0, int64_t n1, float* dst, bool round_out) {
      const float m = *std::max_element(s.begin() + n0, s.begin() + n1);
      float l = 0;
      std::fill(acc.begin(), acc.end(), 0.f);
      for (int64_t n = n0; n < n1; ++n) {
        const float w = std::exp2(s[std::size_t(n)] - m);
        const float w16 = round_bf16(w);
        l += w;
        const uint16_t* vr = vrow[std::size_t(n)];
        for (int d = 0; d < p.d_v; ++d)
          acc[std::size_t(d)] = std::fma(w16, from_bf16(vr[d]), acc[std::size_t(d)]);
      }
      for (int d = 0; d < p.d_v; ++d) {
        const float o = acc[std::size_t(d)] * (1.f / l);
        dst[d] = round_out ? round_bf16(o) : o;
      }
    };
    attend(0, len, out.o.data() + bh * p.d_v, true);
    for (int64_t sp = 0; sp < ns; ++sp) {
      const int64_t n0 = sp * p.split_len, n1 = std::min<int64_t>(n0 + p.split_len, len);
      if (n1 <= n0) continue;  // empty split: o = 0
      attend(n0, n1, out.o_partial.data() + ((b * ns + sp) * q_rows + q_row) * p.d_v, false);
    }
  });
  return out;
}

ref::DecodeOutput reference_decode(const DecodeParams& p, int threads) {
  const int64_t q_rows = p.q_rows();
  ref::DecodeOutput out{p.batch, q_rows, p.d_v, {}, {}};
  out.o.assign(std::size_t(p.batch * q_rows) * p.d_v, 0.0);
  out.lse.assign(std::size_t(p.batch * q_rows), kNegInf);
  const std::vector<Slice> sl = slices(p, threads);
  parallel_for(int64_t(sl.size()), threads, [&](int64_t i) {
    const Slice& s = sl[std::size_t(i)];
    const ref::DecodeOutput r = ref::decode_reference(slice_params(p, s));
    const int64_t head0 = int64_t(s.b) * q_rows + s.h0;  // h0 = 0 when q_tokens > 1
    std::copy(r.o.begin(), r.o.end(), out.o.begin() + head0 * p.d_v);
    std::copy(r.lse.begin(), r.lse.end(), out.lse.begin() + head0);
  });
  return out;
}

ref::SplitOutput reference_split(const DecodeParams& p, int threads) {
  ref::SplitOutput out;
  const int64_t ns = p.n_splits;
  out.n_splits = ns;
  out.split_len = p.split_len;
  const int64_t q_rows = p.q_rows();
  out.o_partial.assign(std::size_t(p.batch * ns * q_rows) * p.d_v, 0.0);
  out.lse_partial.assign(std::size_t(p.batch * ns * q_rows), kNegInf);
  const std::vector<Slice> sl = slices(p, threads);
  parallel_for(int64_t(sl.size()), threads, [&](int64_t i) {
    const Slice& s = sl[std::size_t(i)];
    const ref::SplitOutput r = ref::decode_reference_split(slice_params(p, s));
    const int64_t slice_rows = int64_t(s.nh) * p.q_tokens;  // all of them when q_tokens > 1
    for (int64_t sp = 0; sp < ns; ++sp)
      for (int64_t k = 0; k < slice_rows; ++k) {
        const int64_t from = sp * slice_rows + k;
        const int64_t to = (int64_t(s.b) * ns + sp) * q_rows + s.h0 + k;
        std::copy_n(r.o_partial.begin() + from * p.d_v, p.d_v, out.o_partial.begin() + to * p.d_v);
        out.lse_partial[std::size_t(to)] = r.lse_partial[std::size_t(from)];
      }
  });
  out.merged = ref::merge_splits(out.o_partial, out.lse_partial, p.batch, ns, q_rows, p.d_v);
  return out;
}


GpuDecodeResult run_decode_on_gpu(const HostDecode& h, const KernelChoice& choice) {
  const DecodeParams& hp = h.p;
  const DeviceBuffer<uint16_t> d_q = upload(h.q), d_k = upload(h.k), d_v = upload(h.v);
  const DeviceBuffer<int32_t> d_lens = upload(h.lens), d_pt = upload(h.page_table);
  const std::size_t n_o = std::size_t(hp.batch * hp.q_rows()) * hp.d_v;
  const std::size_t n_lse = std::size_t(hp.batch * hp.q_rows());
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  DeviceBuffer<uint16_t> d_o = upload(std::vector<uint16_t>(n_o, kBf16NaN));
  DeviceBuffer<float> d_lse = upload(std::vector<float>(n_lse, kNaN));

  DecodeParams p = hp;
  p.q = d_q.get();
  p.k_cache = d_k.get();
  p.v_cache = hp.family == KernelFamily::separate_kv ? d_v.get() : nullptr;
  p.ctx_lens = d_lens.get();
  p.page_table = h.page_table.empty() ? nullptr : d_pt.get();
  p.o = d_o.get();
  p.lse = d_lse.get();
  GpuDecodeResult r;
  r.plan = plan_decode(p, h.ctx_max, 0, choice);
  r.plan.apply_to(p);
  DeviceBuffer<float> d_op, d_lp;
  if (p.n_splits > 1) {
    d_op = upload(std::vector<float>(std::size_t(r.plan.o_partial_elems), kNaN));
    d_lp = upload(std::vector<float>(std::size_t(r.plan.lse_partial_elems), kNaN));
    p.o_partial = d_op.get();
    p.lse_partial = d_lp.get();
  }
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  ATTNROOF_CUDA_CHECK(cudaEventCreate(&e0));
  ATTNROOF_CUDA_CHECK(cudaEventCreate(&e1));
  ATTNROOF_CUDA_CHECK(cudaEventRecord(e0, nullptr));
  launch_decode(p, nullptr, choice);
  ATTNROOF_CUDA_CHECK(cudaEventRecord(e1, nullptr));
  ATTNROOF_CUDA_CHECK(cudaDeviceSynchronize());
  float ms = 0;
  ATTNROOF_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
  r.gpu_ms = ms;
  ATTNROOF_CUDA_CHECK(cudaEventDestroy(e0));
  ATTNROOF_CUDA_CHECK(cudaEventDestroy(e1));
  r.o = download(d_o);
  r.lse = download(d_lse);
  r.o_partial = download(d_op);
  r.lse_partial = download(d_lp);
  return r;
}

double bf16_half_ulp(float x) {
  if (x == 0.f || !std::isfinite(x)) return 0;
  int exponent = 0;
  std::frexp(x, &exponent);  // |x| in [2^(exponent-1), 2^exponent)
  return std::ldexp(1.0, exponent - 1 - 8);
}

OutputErrors compare_outputs(const std::vector<float>& got, const std::vector<float>& emu,
                             const std::vector<double>& ref, const std::vector<float>& lse_got,
                             const std::vector<double>& lse_ref,
                             const std::vector<char>& row_has_keys, int64_t d_v,
                             GotPrecision precision) {
  OutputErrors e;
  double err2 = 0, ref2 = 0;
  for (std::size_t r = 0; r < row_has_keys.size(); ++r) {
    const bool empty = row_has_keys[r] == 0;
    const float l = lse_got[r];
    if (empty) {
      if (!(std::isinf(l) && l < 0)) e.empty_ok = false;
    } else if (!std::isfinite(l)) {
      ++e.non_finite;
    } else if (!std::isfinite(lse_ref[r])) {
      ++e.non_finite_ref;
    } else {
      e.max_lse_err = std::max(e.max_lse_err, std::abs(double(l) - lse_ref[r]));
    }
    for (int64_t d = 0; d < d_v; ++d) {
      const std::size_t i = r * std::size_t(d_v) + std::size_t(d);
      const float g = got[i];
      if (empty) {
        if (!(g == 0.f)) e.empty_ok = false;  // NaN fails too
        continue;
      }
      if (!std::isfinite(g)) {
        ++e.non_finite;
        continue;
      }
      if (!std::isfinite(ref[i]) || !std::isfinite(emu[i])) {
        ++e.non_finite_ref;  // the CPU side read poisoned memory: a harness bug, never a pass
        continue;
      }
      const double diff = std::abs(double(g) - ref[i]);
      const double excess = diff - (precision == GotPrecision::bf16 ? bf16_half_ulp(g) : 0.0);
      e.max_err = std::max(e.max_err, diff);
      if (e.worst_index < 0 || excess > e.max_excess) {
        e.max_excess = excess;
        e.worst_index = int64_t(i);
        e.worst_got = g;
        e.worst_ref = ref[i];
        e.worst_emu = emu[i];
      }
      e.emu_err = std::max(e.emu_err, std::abs(double(emu[i]) - ref[i]));
      e.ref_max_abs = std::max(e.ref_max_abs, std::abs(ref[i]));
      err2 += diff * diff;
      ref2 += ref[i] * ref[i];
    }
  }
  e.rel_l2 = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  e.tolerance = kToleranceEmuFactor * e.emu_err + kToleranceAbs;
  return e;
}

bool OutputErrors::passed() const { return failure().empty(); }

std::string OutputErrors::failure() const {
  std::vector<std::string> why;
  if (non_finite > 0) why.push_back(fmt::format("{} non-finite outputs", non_finite));
  if (non_finite_ref > 0)
    why.push_back(fmt::format("{} non-finite reference values (harness bug)", non_finite_ref));
  if (!empty_ok) why.push_back("a row without keys did not give o = 0, lse = -inf");
  if (!(max_excess <= tolerance))
    why.push_back(fmt::format(
        "|o - ref| - bf16 rounding = {:.3g} > 2 E + 1e-5 = {:.3g} at element {} (o {:.6g}, ref "
        "{:.6g}, emulation {:.6g})",
        max_excess, tolerance, worst_index, worst_got, worst_ref, worst_emu));
  if (!(max_lse_err <= kToleranceLse))
    why.push_back(fmt::format("max |lse - ref| = {:.3g} > {:.0e}", max_lse_err, kToleranceLse));
  if (!(emu_err <= kEmuSanityRel * ref_max_abs))
    why.push_back(fmt::format("emulation: E = {:.3g} > {} max |ref| = {:.3g} (bf16 inputs laid out "
                              "wrongly?)",
                              emu_err, kEmuSanityRel, kEmuSanityRel * ref_max_abs));
  std::string s;
  for (const auto& w : why) s += (s.empty() ? "" : "; ") + w;
  return s;
}

}  // namespace attnroof::kernels

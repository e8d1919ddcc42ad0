#include "kernels/reference/numerics.h"

#include <algorithm>
#include <bit>

namespace attnroof::ref {

namespace {

// cos/sin of p * theta_j for the positions and the half-width, as the mode computes them.
template <class T>
void rope_tables(std::span<const int64_t> pos, int64_t half, int64_t width, RopeMode mode,
                 MatT<T>& cos_t, MatT<T>& sin_t) {
  const auto n = int64_t(pos.size());
  cos_t.resize(n, half);
  sin_t.resize(n, half);
  for (int64_t j = 0; j < half; ++j) {
    const double theta = std::pow(kRopeBase, -2.0 * double(j) / double(width));
    const float theta_f = float(theta);  // torch: inv_freq in fp32
    for (int64_t r = 0; r < n; ++r) {
      double c = 0, s = 0;
      if (mode == RopeMode::float64) {
        const double a = double(pos[std::size_t(r)]) * theta;
        c = std::cos(a);
        s = std::sin(a);
      } else {
        const float a = float(pos[std::size_t(r)]) * theta_f;
        c = double(std::cos(a));
        s = double(std::sin(a));
        if (mode == RopeMode::fp32_angles_bf16_trig) {
          c = round_to_bf16(c);
          s = round_to_bf16(s);
        }
      }
      cos_t(r, j) = T(c);
      sin_t(r, j) = T(s);
    }
  }
}

}  // namespace

template <class T>
void apply_rope(MatT<T>& x, std::span<const int64_t> pos, int64_t col0, int64_t width,
                int64_t segments, int64_t stride, RopeMode mode) {
  if (width == 0 || segments == 0) return;
  const int64_t half = width / 2;
  MatT<T> cos_t, sin_t;
  rope_tables<T>(pos, half, width, mode, cos_t, sin_t);
  for (int64_t s = 0; s < segments; ++s) {
    const int64_t c = col0 + s * stride;
    const MatT<T> x1 = x.middleCols(c, half);
    const MatT<T> x2 = x.middleCols(c + half, half);
    x.middleCols(c, half) = x1.cwiseProduct(cos_t) - x2.cwiseProduct(sin_t);
    x.middleCols(c + half, half) = x1.cwiseProduct(sin_t) + x2.cwiseProduct(cos_t);
  }
}

CharMat causal_mask(std::span<const char> key_valid) {
  const auto n = Eigen::Index(key_valid.size());
  CharMat m = CharMat::Zero(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j <= i; ++j) m(i, j) = key_valid[std::size_t(j)] ? 1 : 0;
  }
  return m;
}

template <class T>
MatT<T> masked_softmax_rows(const MatT<T>& s, const CharMat& allowed, std::vector<double>* lse) {
  const T neg_inf = -std::numeric_limits<T>::infinity();
  MatT<T> masked = (allowed.array() != 0).select(s, neg_inf);
  MatT<T> p = MatT<T>::Zero(s.rows(), s.cols());
  if (lse != nullptr) lse->assign(std::size_t(s.rows()), -std::numeric_limits<double>::infinity());
  for (Eigen::Index r = 0; r < s.rows(); ++r) {
    const T m = masked.row(r).maxCoeff();
    if (m == neg_inf) continue;  // fully masked row: zero output, lse = -inf (never NaN)
    p.row(r) = (masked.row(r).array() - m).exp();
    const T sum = p.row(r).sum();
    p.row(r) /= sum;
    if (lse != nullptr) (*lse)[std::size_t(r)] = double(m) + std::log(double(sum));
  }
  return p;
}

template <class T>
MatT<T> softmax_keys(const MatT<T>& s, std::span<const char> key_valid, std::vector<double>* lse) {
  const T neg_inf = -std::numeric_limits<T>::infinity();
  MatT<T> p;
  if (std::all_of(key_valid.begin(), key_valid.end(), [](char v) { return v != 0; })) {
    p = s;
  } else {  // masked keys get -inf through one additive row, not a mask per query row
    RowT<T> bias(s.cols());
    for (Eigen::Index c = 0; c < s.cols(); ++c) bias(c) = key_valid[std::size_t(c)] ? T(0) : neg_inf;
    p = s.rowwise() + bias;
  }
  if (lse != nullptr) lse->assign(std::size_t(s.rows()), -std::numeric_limits<double>::infinity());
  for (Eigen::Index r = 0; r < p.rows(); ++r) {
    const T m = p.row(r).maxCoeff();
    if (m == neg_inf) {  // no key may be attended: zero output, lse = -inf (never NaN)
      p.row(r).setZero();
      continue;
    }
    p.row(r) = (p.row(r).array() - m).exp();
    const T sum = p.row(r).sum();
    p.row(r) /= sum;
    if (lse != nullptr) (*lse)[std::size_t(r)] = double(m) + std::log(double(sum));
  }
  return p;
}

void ErrorStats::merge(const ErrorStats& o) {
  max_abs_err = std::max(max_abs_err, o.max_abs_err);
  ref_max_abs = std::max(ref_max_abs, o.ref_max_abs);
  if (std::isinf(o.max_rel_err) || std::isinf(max_rel_err)) {
    max_rel_err = std::numeric_limits<double>::infinity();
  } else {
    max_rel_err = ref_max_abs > 0 ? max_abs_err / ref_max_abs : max_abs_err;
  }
}

template <class T>
ErrorStats compare(const MatT<T>& got, const MatT<double>& ref) {
  ErrorStats e;
  const double inf = std::numeric_limits<double>::infinity();
  if (got.rows() != ref.rows() || got.cols() != ref.cols() || !got.allFinite() ||
      !ref.allFinite()) {
    e.max_abs_err = e.max_rel_err = inf;
    return e;
  }
  if (ref.size() == 0) return e;
  e.max_abs_err = (got.template cast<double>() - ref).cwiseAbs().maxCoeff();
  e.ref_max_abs = ref.cwiseAbs().maxCoeff();
  e.max_rel_err = e.ref_max_abs > 0 ? e.max_abs_err / e.ref_max_abs : e.max_abs_err;
  return e;
}

#define ATTNROOF_NUMERICS_INSTANTIATE(T)                                                       \
  template void apply_rope<T>(MatT<T>&, std::span<const int64_t>, int64_t, int64_t, int64_t,   \
                              int64_t, RopeMode);                                              \
  template MatT<T> masked_softmax_rows<T>(const MatT<T>&, const CharMat&, std::vector<double>*); \
  template MatT<T> softmax_keys<T>(const MatT<T>&, std::span<const char>, std::vector<double>*); \
  template ErrorStats compare<T>(const MatT<T>&, const MatT<double>&);
ATTNROOF_NUMERICS_INSTANTIATE(double)
ATTNROOF_NUMERICS_INSTANTIATE(float)
#undef ATTNROOF_NUMERICS_INSTANTIATE

}  // namespace attnroof::ref

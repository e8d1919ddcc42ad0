// defines: MatT, RowT, Mat, Row (row-major Eigen aliases), RopeMode, Numerics, bf16 conversion
// (bf16_bits_to_float, float_to_bf16_bits, round_to_bf16), rms_norm_rows, apply_rope,
// masked_softmax_rows, ErrorStats / compare (the one comparator every reference check uses)
//
// Everything in the reference is row-major: a token is a row, a projection is `x * W` with W of
// shape [d_in, d_out] (the transpose of torch's nn.Linear weight). The scalar type T is double for
// the reference proper and float for the precision study.
#pragma once
#include <Eigen/Dense>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace attnroof::ref {

template <class T>
using MatT = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using RowT = Eigen::Matrix<T, 1, Eigen::Dynamic>;
using Mat = MatT<double>;
using Row = RowT<double>;

// How RoPE angles and their cos/sin are computed.
//   float64:              angle = p * theta_j in double, cos/sin in double (the reference).
//   fp32_angles:          angle rounded to fp32 (torch.outer(t.float(), inv_freq)), cos/sin of it
//                         rounded to fp32.
//   fp32_angles_bf16_trig the MLRA repo's Rotary: as fp32_angles, then cos/sin cast to bf16
//                         (`.to(x.dtype)` under bf16 autocast).
enum class RopeMode { float64, fp32_angles, fp32_angles_bf16_trig };

struct Numerics {
  RopeMode rope = RopeMode::float64;
  bool bf16_inputs = false;  // round weights and inputs to bf16 before use (precision study)
};

inline constexpr double kRopeBase = 10000.0;  // every source here (docs/variants.md "Presets")
inline constexpr double kRmsEps = 1e-6;       // MLRA repo RMSNorm eps

// --- bf16 -------------------------------------------------------------------------------------
// Inline: the checks convert billions of cached values (a 2M-key sequence is 1.2e9), and a call
// per element kept the compiler from vectorizing the loops.
inline float bf16_bits_to_float(uint16_t bits) {
  return std::bit_cast<float>(uint32_t(bits) << 16);
}
// Round to nearest even; NaN stays NaN (quiet), infinities stay infinite.
inline uint16_t float_to_bf16_bits(float value) {
  const uint32_t u = std::bit_cast<uint32_t>(value);
  if (std::isnan(value)) return uint16_t((u >> 16) | 0x0040u);  // keep sign, force quiet
  const uint32_t rounding_bias = 0x7FFFu + ((u >> 16) & 1u);    // round to nearest even
  return uint16_t((u + rounding_bias) >> 16);
}
inline double round_to_bf16(double v) {
  return double(bf16_bits_to_float(float_to_bf16_bits(float(v))));
}
template <class Derived>
void round_to_bf16_inplace(Eigen::MatrixBase<Derived>& m) {
  m = m.unaryExpr([](typename Derived::Scalar v) {
    return typename Derived::Scalar(round_to_bf16(double(v)));
  });
}

// --- building blocks --------------------------------------------------------------------------
// Each row r of x: x_r / sqrt(mean(x_r^2) + eps) * gain (gain: 1 x width).
template <class T>
MatT<T> rms_norm_rows(const MatT<T>& x, const RowT<T>& gain) {
  const Eigen::Matrix<T, Eigen::Dynamic, 1> inv =
      ((x.array().square().rowwise().sum() / T(x.cols())) + T(kRmsEps)).rsqrt();
  return (x.array().colwise() * inv.array()).rowwise() * gain.array();
}

// Half-split ("NeoX") RoPE in place on `segments` column segments of width `width` starting at
// col0, col0 + stride, ...: dim j pairs with j + width/2, theta_j = base^(-2j/width), row r at
// position pos[r]. Angles are p * theta_j computed afresh per position (never accumulated).
template <class T>
void apply_rope(MatT<T>& x, std::span<const int64_t> pos, int64_t col0, int64_t width,
                int64_t segments, int64_t stride, RopeMode mode);

// Row-wise softmax of s (scores already scaled) restricted to keys where allowed(r, c) != 0.
// A row with no allowed key gives all-zero probabilities and lse = -inf (FA3 semantics), never
// NaN. Returns probabilities; lse (natural log) written when non-null.
template <class T>
MatT<T> masked_softmax_rows(const MatT<T>& s, const Eigen::Matrix<char, Eigen::Dynamic,
                                                                  Eigen::Dynamic, Eigen::RowMajor>& allowed,
                            std::vector<double>* lse = nullptr);
// Softmax over a row-major [rows, keys] score block where every row sees the same keys and
// key_valid[k] says whether key k may be attended.
template <class T>
MatT<T> softmax_keys(const MatT<T>& s, std::span<const char> key_valid,
                     std::vector<double>* lse = nullptr);

using CharMat = Eigen::Matrix<char, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// Causal mask over L tokens combined with per-key validity: allowed(i, j) = j <= i && valid[j].
CharMat causal_mask(std::span<const char> key_valid);

// --- comparison -------------------------------------------------------------------------------
// max_abs_err = max |a - b|; max_rel_err = max_abs_err / max |ref| (normwise: elementwise
// relative error is meaningless where ref crosses zero). Any NaN/inf in either operand, or a
// shape mismatch, makes both errors +inf.
struct ErrorStats {
  double max_abs_err = 0;
  double max_rel_err = 0;
  double ref_max_abs = 0;
  void merge(const ErrorStats& o);
};
template <class T>
ErrorStats compare(const MatT<T>& got, const MatT<double>& ref);

}  // namespace attnroof::ref

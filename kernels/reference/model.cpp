#include "kernels/reference/model.h"

#include <fmt/format.h>

#include <stdexcept>

#include "kernels/reference/variants.h"

namespace attnroof::ref {

template <class T>
void Cache<T>::add_part(std::string name, int64_t width) {
  names.push_back(std::move(name));
  parts.emplace_back(MatT<T>(0, width));
}

template <class T>
void Cache<T>::append(std::span<const RowT<T>> rows, int64_t pos, bool valid) {
  if (rows.size() != parts.size()) throw std::logic_error("Cache::append: wrong number of parts");
  for (std::size_t k = 0; k < parts.size(); ++k) {
    MatT<T>& p = parts[k];
    if (rows[k].cols() != p.cols()) throw std::logic_error("Cache::append: wrong row width");
    if (p.rows() <= len) p.conservativeResize(std::max<Eigen::Index>(2 * p.rows(), 16), p.cols());
    p.row(len) = rows[k];
  }
  positions.push_back(pos);
  key_valid.push_back(valid ? 1 : 0);
  ++len;
}

template <class T>
int64_t Cache<T>::cached_elems_per_token() const {
  if (len == 0) return 0;
  int64_t stored = 0;
  for (std::size_t k = 0; k < parts.size(); ++k) stored += int64_t(part(k).size());
  return stored / len;
}

template <class T>
void ScoreRecord<T>::add(std::string name, const MatT<T>& s) {
  names.push_back(std::move(name));
  scores.push_back(s.template triangularView<Eigen::Lower>());
}

std::vector<int64_t> consecutive_heads(int64_t lo, int64_t hi) {
  std::vector<int64_t> heads;
  for (int64_t i = lo; i < hi; ++i) heads.push_back(i);
  return heads;
}

std::vector<std::string> check_head_split_ref(int64_t q_heads, int64_t tp) {
  if (tp < 1) return {fmt::format("tp = {} must be >= 1", tp)};
  if (q_heads % tp != 0) {
    return {fmt::format("tp = {} does not divide q_heads = {} (query heads split evenly)", tp,
                        q_heads)};
  }
  return {};
}

template <class T>
std::unique_ptr<RefModel<T>> make_ref_model(const Weights& w, const Numerics& numerics) {
  switch (w.config.id) {
    case VariantId::mha:
    case VariantId::mqa:
    case VariantId::gqa:
    case VariantId::mfa:
    case VariantId::gta: return make_headed_kv_model<T>(w, numerics);
    case VariantId::tpa: return make_tpa_model<T>(w, numerics);
    case VariantId::lrkv: return make_lrkv_model<T>(w, numerics);
    default: return make_latent_model<T>(w, numerics);
  }
}

template <class T>
void tp_append(const std::vector<Device<T>>& devices, std::vector<Cache<T>>& caches,
               const RowT<T>& x, int64_t pos, bool valid) {
  for (std::size_t r = 0; r < devices.size(); ++r) devices[r].model->append(caches[r], x, pos, valid);
}

template <class T>
RowT<T> tp_decode(const std::vector<Device<T>>& devices, const std::vector<Cache<T>>& caches,
                  const RowT<T>& x, int64_t pos, Form form, OutProj out_proj) {
  const RefModel<T>& first = *devices.front().model;
  const int64_t dv = first.d_v();
  RowT<T> out = RowT<T>::Zero(first.config().d_model);
  std::vector<RowT<T>> ys;
  for (std::size_t r = 0; r < devices.size(); ++r) {
    ys.push_back(devices[r].model->decode_y(caches[r], x, pos, form));
  }
  if (out_proj == OutProj::replicated) {
    for (std::size_t r = 0; r < devices.size(); ++r) out += ys[r] * devices[r].model->wo();
    return out;
  }
  // Reduce-scatter of y over heads, then each owner applies its W^O rows; the sum is the
  // all-reduce.
  MatT<T> y_sum = MatT<T>::Zero(first.config().q_heads, dv);
  for (std::size_t r = 0; r < devices.size(); ++r) {
    const std::vector<int64_t>& ids = devices[r].model->head_ids();
    for (std::size_t k = 0; k < ids.size(); ++k) {
      y_sum.row(ids[k]) += ys[r].segment(Eigen::Index(k) * dv, dv);
    }
  }
  for (const Device<T>& d : devices) {
    RowT<T> z(Eigen::Index(d.owned_heads.size()) * dv);
    for (std::size_t k = 0; k < d.owned_heads.size(); ++k) {
      z.segment(Eigen::Index(k) * dv, dv) = y_sum.row(d.owned_heads[k]);
    }
    out += z * d.wo_owned;
  }
  return out;
}

#define ATTNROOF_MODEL_INSTANTIATE(T)                                                          \
  template struct Cache<T>;                                                                    \
  template struct ScoreRecord<T>;                                                              \
  template std::unique_ptr<RefModel<T>> make_ref_model<T>(const Weights&, const Numerics&);    \
  template void tp_append<T>(const std::vector<Device<T>>&, std::vector<Cache<T>>&,            \
                             const RowT<T>&, int64_t, bool);                                   \
  template RowT<T> tp_decode<T>(const std::vector<Device<T>>&, const std::vector<Cache<T>>&,   \
                                const RowT<T>&, int64_t, Form, OutProj);
ATTNROOF_MODEL_INSTANTIATE(double)
ATTNROOF_MODEL_INSTANTIATE(float)
#undef ATTNROOF_MODEL_INSTANTIATE

}  // namespace attnroof::ref

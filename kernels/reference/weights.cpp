#include "kernels/reference/weights.h"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

#include "kernels/reference/latent_layout.h"
#include "model/error.h"
#include "model/registry.h"

namespace attnroof::ref {

const Mat& Weights::at(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw std::out_of_range("reference weights: no tensor '" + name + "'");
  return it->second;
}

std::vector<TensorSpec> weight_specs(const RefConfig& c) {
  using I = TensorSpec::Init;
  const int64_t d = c.d_model, h = c.q_heads;
  std::vector<TensorSpec> s;
  auto proj = [&](std::string name, int64_t rows, int64_t cols) {
    s.push_back(TensorSpec{std::move(name), rows, cols, I::projection});
  };
  auto gain = [&](std::string name, int64_t cols) {
    s.push_back(TensorSpec{std::move(name), 1, cols, I::gain});
  };
  switch (c.id) {
    case VariantId::mha:
    case VariantId::mqa:
    case VariantId::gqa:
      proj("wq", d, h * c.d_head);
      proj("wk", d, c.kv_heads * c.d_head);
      proj("wv", d, c.kv_heads * c.d_head);
      proj("wo", h * c.d_head, d);
      break;
    case VariantId::mfa:
      proj("w_dq", d, c.d_q_latent);
      gain("q_norm", c.d_q_latent);
      proj("w_uq", c.d_q_latent, h * c.d_head);
      proj("wk", d, c.d_head);
      proj("wv", d, c.d_head);
      proj("wo", h * c.d_head, d);
      break;
    case VariantId::gta:
      proj("wq", d, h * c.d_head);
      proj("w_kv", d, c.kv_heads * c.d_head);
      proj("w_kr", d, c.d_rope);
      proj("wo", h * c.d_head, d);
      break;
    case VariantId::tpa:
      proj("w_aq", d, h * c.q_rank);
      proj("w_bq", d, c.q_rank * c.d_head);
      proj("w_ak", d, h * c.k_rank);
      proj("w_bk", d, c.k_rank * c.d_head);
      proj("w_av", d, h * c.v_rank);
      proj("w_bv", d, c.v_rank * c.d_head);
      proj("wo", h * c.d_head, d);
      break;
    case VariantId::lrkv:
      proj("wq", d, h * c.d_head);
      proj("wk_shared", d, c.d_head);
      proj("wv_shared", d, c.d_head);
      proj("u_k", d, h * c.rank);
      proj("u_v", d, h * c.rank);
      proj("bt_k", h * c.rank, c.d_head);
      proj("bt_v", h * c.rank, c.d_head);
      proj("wo", h * c.d_head, d);
      break;
    default: {
      proj("w_dq", d, c.d_q_latent);
      gain("q_norm", c.d_q_latent);
      proj("w_uq", c.d_q_latent, h * (c.d_nope + c.d_rope));
      proj("w_dkv", d, c.d_latent + c.d_rope);
      gain("kv_norm", c.d_latent);
      const LatentLayout layout = latent_layout(c);
      for (int64_t b = 0; b < c.n_blocks; ++b) {
        const HeadRange& hr = layout.block_heads[std::size_t(b)];
        proj(fmt::format("w_ukv.{}", b), c.d_block(), hr.size() * (c.d_nope + c.d_v));
      }
      if (c.id == VariantId::tpla) gain("logit_scale", c.n_blocks);
      proj("wo", h * c.d_v, d);
      break;
    }
  }
  return s;
}

Weights init_weights(const RefConfig& config, uint64_t seed) {
  Weights w;
  w.config = config;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (const TensorSpec& t : weight_specs(config)) {
    Mat m(t.rows, t.cols);
    const double std_dev = t.init == TensorSpec::Init::gain ? 0.1 : 1.0 / std::sqrt(double(t.rows));
    const double mean = t.init == TensorSpec::Init::gain ? 1.0 : 0.0;
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = mean + std_dev * normal(rng);
    w.tensors.emplace(t.name, std::move(m));
  }
  return w;
}

namespace {
constexpr std::array<char, 8> kMagic = {'A', 'T', 'T', 'N', 'R', 'E', 'F', 'W'};
static_assert(std::endian::native == std::endian::little, "weight files are little-endian");
}  // namespace

void save_weights(const Weights& w, const std::string& path) {
  nlohmann::json header = {{"variant", std::string(model::to_string(w.config.id))},
                           {"config", w.config.json},
                           {"tensors", nlohmann::json::array()}};
  const std::vector<TensorSpec> specs = weight_specs(w.config);
  for (const TensorSpec& t : specs) {
    header["tensors"].push_back({{"name", t.name}, {"rows", t.rows}, {"cols", t.cols}});
  }
  const std::string text = header.dump();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw InputError(fmt::format("{}: cannot open for writing", path));
  out.write(kMagic.data(), std::streamsize(kMagic.size()));
  const uint64_t n = text.size();
  out.write(reinterpret_cast<const char*>(&n), sizeof n);
  out.write(text.data(), std::streamsize(n));
  for (const TensorSpec& t : specs) {
    const Mat& m = w.at(t.name);
    out.write(reinterpret_cast<const char*>(m.data()), std::streamsize(m.size() * 8));
  }
  if (!out) throw InputError(fmt::format("{}: write failed", path));
}

Weights load_weights(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open", path));
  std::array<char, 8> magic{};
  uint64_t n = 0;
  in.read(magic.data(), 8);
  in.read(reinterpret_cast<char*>(&n), sizeof n);
  if (!in || magic != kMagic || n > (uint64_t(1) << 30)) {
    throw InputError(fmt::format("{}: not an attnroof reference weight file (magic ATTNREFW)", path));
  }
  std::string text(n, '\0');
  in.read(text.data(), std::streamsize(n));
  const model::JsonSource source{path};
  const nlohmann::json header = model::parse_json_text(text, source);
  model::ObjectReader r(header, source);
  const VariantId id = model::parse_variant(r.get_string("variant"), r.position("variant"));
  Weights w;
  w.config = parse_ref_config(id, r.get_raw("config"), model::JsonSource{path + " (config)"});
  const nlohmann::json& listed = r.get_raw("tensors");
  r.finish();
  const std::vector<TensorSpec> specs = weight_specs(w.config);
  if (!listed.is_array() || listed.size() != specs.size()) {
    throw InputError(fmt::format("{}: expected {} tensors for {}", path, specs.size(),
                                 w.config.label()));
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const TensorSpec& t = specs[i];
    const nlohmann::json& e = listed[i];
    if (e.value("name", "") != t.name || e.value("rows", int64_t(-1)) != t.rows ||
        e.value("cols", int64_t(-1)) != t.cols) {
      throw InputError(fmt::format("{}: tensor {} should be {} [{}, {}], file has {}", path, i,
                                   t.name, t.rows, t.cols, e.dump()));
    }
    Mat m(t.rows, t.cols);
    in.read(reinterpret_cast<char*>(m.data()), std::streamsize(m.size() * 8));
    if (!in) throw InputError(fmt::format("{}: truncated in tensor {}", path, t.name));
    w.tensors.emplace(t.name, std::move(m));
  }
  return w;
}

}  // namespace attnroof::ref

// An independent FLOP count: for every variant, one decode step written out as the list of matmul
// shapes (M, N, K) that docs/variants.md describes, summed as 2*M*N*K, against
// decode_cost().flops() on random configs (seeded), several TP degrees, both forms, ragged batches
// and multi-token steps. The per-device placement (heads, KV heads, latent blocks, instances) is
// re-derived here from the rules of docs/variants.md "TP rules" and "Latent family" rather than
// taken from the model, and so is which TP degrees are valid.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/model/model_test_util.h"

using namespace attnroof::model;
using attnroof::model::test::variant_from_json;

namespace {

struct Matmul {
  double m, n, k;
};
using Shapes = std::vector<Matmul>;

double flops_of(const Shapes& shapes) {
  double f = 0;
  for (const Matmul& s : shapes) f += 2 * s.m * s.n * s.k;
  return f;
}

// One decode step: every sequence adds q_tokens tokens; query token j of a sequence of length L
// attends L - (q_tokens - 1 - j) keys.
struct Step {
  int64_t tp = 1;
  std::vector<int64_t> ctx;
  int64_t q_tokens = 1;
  Form form = Form::absorbed;

  double tokens() const { return double(ctx.size()) * double(q_tokens); }
  double cached_rows() const {
    double n = 0;
    for (int64_t l : ctx) n += double(l);
    return n;
  }
  std::vector<double> keys_per_query() const {
    std::vector<double> out;
    for (int64_t l : ctx) {
      for (int64_t j = 0; j < q_tokens; ++j) out.push_back(double(l - (q_tokens - 1 - j)));
    }
    return out;
  }
  DecodePoint point() const {
    DecodePoint p = DecodePoint::ragged(tp, ctx, q_tokens);
    p.form = form;
    return p;
  }
};

using Rng = std::mt19937;

int64_t pick(Rng& rng, std::vector<int64_t> options) {
  return options[std::uniform_int_distribution<std::size_t>(0, options.size() - 1)(rng)];
}

Step random_step(Rng& rng, int64_t tp, Form form) {
  Step s;
  s.tp = tp;
  s.form = form;
  s.q_tokens = pick(rng, {1, 1, 2, 4});
  const int64_t batch = pick(rng, {1, 2, 3, 5});
  for (int64_t b = 0; b < batch; ++b) {
    s.ctx.push_back(std::uniform_int_distribution<int64_t>(s.q_tokens, 5000)(rng));
  }
  return s;
}

// Distinct units (KV heads, tied heads, latent blocks) that the query heads of the worst device
// use, when unit u serves query heads [u g, (u+1) g) and device r owns [r h/t, (r+1) h/t).
double worst_device_units(int64_t h, int64_t heads_per_unit, int64_t tp) {
  std::size_t worst = 0;
  for (int64_t r = 0; r < tp; ++r) {
    std::set<int64_t> units;
    for (int64_t i = r * h / tp; i < (r + 1) * h / tp; ++i) units.insert(i / heads_per_unit);
    worst = std::max(worst, units.size());
  }
  return double(worst);
}

// Compares the two counts over every valid TP degree, both forms and a few random steps; checks
// that the variant's check_tp accepts exactly `valid_tp`.
template <class ShapesFn>
void compare(Rng& rng, const VariantPtr& v, const std::vector<int64_t>& valid_tp,
             ShapesFn shapes_of) {
  for (int64_t tp = 1; tp <= 32; ++tp) {
    const bool expected = std::find(valid_tp.begin(), valid_tp.end(), tp) != valid_tp.end();
    INFO(v->label() << " " << v->config_json().dump() << " tp " << tp);
    REQUIRE(v->check_tp(tp).empty() == expected);
  }
  for (const int64_t tp : valid_tp) {
    for (const Form form : {Form::absorbed, Form::materialized}) {
      for (int trial = 0; trial < 3; ++trial) {
        const Step step = random_step(rng, tp, form);
        INFO(v->label() << " " << v->config_json().dump() << " tp " << tp << " form "
                        << to_string(form) << " q_tokens " << step.q_tokens << " batch "
                        << step.ctx.size());
        const double expected = flops_of(shapes_of(step));
        REQUIRE(v->decode_cost(step.point()).flops() == Approx(expected).epsilon(1e-12));
      }
    }
  }
}

std::vector<int64_t> degrees_where(const std::function<bool(int64_t)>& ok) {
  std::vector<int64_t> out;
  for (int64_t t = 1; t <= 32; ++t) {
    if (ok(t)) out.push_back(t);
  }
  return out;
}

constexpr int kConfigsPerVariant = 12;

}  // namespace

TEST_CASE("Independent FLOP count: MHA, MQA, GQA", "[model][flops]") {
  Rng rng(20261124);
  for (const char* kind : {"mha", "mqa", "gqa"}) {
    for (int i = 0; i < kConfigsPerVariant; ++i) {
      const int64_t h = pick(rng, {4, 6, 8, 12, 16, 24});
      const int64_t kv = std::string(kind) == "mha"   ? h
                         : std::string(kind) == "mqa" ? 1
                                                      : pick(rng, {1, 2, h / 2, h});
      const int64_t dh = pick(rng, {32, 64, 128}), d = pick(rng, {256, 512, 768});
      const std::string json =
          std::string(kind) == "gqa"
              ? fmt::format(R"({{"d_model": {}, "q_heads": {}, "kv_heads": {}, "d_head": {}}})", d,
                            h, kv, dh)
              : fmt::format(R"({{"d_model": {}, "q_heads": {}, "d_head": {}}})", d, h, dh);
      compare(rng, variant_from_json(kind, json),
              degrees_where([&](int64_t t) { return h % t == 0; }), [&](const Step& s) {
                const double h_t = double(h / s.tp), k_t = worst_device_units(h, h / kv, s.tp);
                const double T = s.tokens();
                Shapes m = {{T, h_t * double(dh), double(d)},   // W^Q
                            {T, k_t * double(dh), double(d)},   // W^K
                            {T, k_t * double(dh), double(d)},   // W^V
                            {T, double(d), h_t * double(dh)}};  // W^O
                for (double keys : s.keys_per_query()) {
                  m.push_back({h_t, keys, double(dh)});  // q K^T
                  m.push_back({h_t, double(dh), keys});  // P V
                }
                return m;
              });
    }
  }
}

TEST_CASE("Independent FLOP count: GTA", "[model][flops]") {
  Rng rng(7);
  for (int i = 0; i < kConfigsPerVariant; ++i) {
    const int64_t h = pick(rng, {8, 12, 16, 24, 32}), kv = pick(rng, {1, 2, 4});
    const int64_t dh = pick(rng, {64, 128}), dr = dh / 2, d = pick(rng, {256, 1024});
    const VariantPtr v = variant_from_json(
        "gta", fmt::format(R"({{"d_model": {}, "q_heads": {}, "kv_heads": {}, "d_head": {},
                                "d_rope": {}}})",
                           d, h, kv, dh, dr));
    compare(rng, v, degrees_where([&](int64_t t) { return h % t == 0; }), [&](const Step& s) {
      const double h_t = double(h / s.tp), k_t = worst_device_units(h, h / kv, s.tp);
      const double T = s.tokens();
      Shapes m = {{T, h_t * double(dh), double(d)},   // W^Q
                  {T, k_t * double(dh), double(d)},   // tied W^KV
                  {T, double(dr), double(d)},         // W^KR (one shared RoPE head)
                  {T, double(d), h_t * double(dh)}};  // W^O
      for (double keys : s.keys_per_query()) {
        m.push_back({h_t, keys, double(dh - dr)});  // q^N . K_NoPE (tied half)
        m.push_back({h_t, keys, double(dr)});       // q^R . K_RoPE
        m.push_back({h_t, double(dh), keys});       // P . KV
      }
      return m;
    });
  }
}

namespace {

// The latent family's per-device placement, re-derived from the placement table of
// docs/variants.md "Latent family".
struct Placement {
  double n_t, P, H_q, H_o;
};

struct LatentCase {
  std::string variant;  // mla, gla, mlra2, mlra4, tpla
  int64_t d, h, dq, n_blocks, d_block, dr, dn, dv;
  bool sharded_out = false;

  std::string json() const {
    std::string j = fmt::format(
        R"({{"d_model": {}, "q_heads": {}, "d_q_latent": {}, "d_rope": {}, "d_nope": {}, "d_v": {})",
        d, h, dq, dr, dn, dv);
    if (variant == "mla") j += fmt::format(R"(, "d_latent": {})", d_block);
    if (variant == "gla") j += fmt::format(R"(, "n_blocks": {}, "d_block": {})", n_blocks, d_block);
    if (variant == "tpla") {
      j += fmt::format(R"(, "d_latent": {}, "groups": {})", n_blocks * d_block, n_blocks);
    }
    if (variant == "mlra2" || variant == "mlra4") {
      j += fmt::format(R"(, "d_latent": {}, "out_proj": "{}")", 4 * d_block,
                       sharded_out ? "sharded" : "replicated");
    }
    return j + "}";
  }

  bool valid(int64_t t) const {
    if (variant == "mla") return h % t == 0;
    if (variant == "gla") return h % t == 0 && (n_blocks % t == 0 || t % n_blocks == 0);
    const bool heads_ok = !sharded_out || h % t == 0;
    if (variant == "mlra4") return heads_ok && (4 % t == 0 || (t % 4 == 0 && h % (t / 4) == 0));
    if (variant == "mlra2") {
      return heads_ok && (t == 1 || t == 2 || (t % 4 == 0 && (h / 2) % (t / 4) == 0));
    }
    return n_blocks % t == 0 || (t % n_blocks == 0 && h % (t / n_blocks) == 0);  // tpla
  }

  Placement placement(int64_t t) const {
    const double H = double(h), tt = double(t);
    if (variant == "mla") return {1, H / tt, H / tt, H / tt};
    if (variant == "gla") {
      return {worst_device_units(h, h / n_blocks, t), H / tt, H / tt, H / tt};
    }
    const bool all_heads = variant == "mlra4" || variant == "tpla";
    Placement p{};
    if (all_heads) {
      const double n = double(n_blocks);
      p = t <= n_blocks ? Placement{n / tt, n * H / tt, H, H}
                        : Placement{1, n * H / tt, n * H / tt, n * H / tt};
    } else if (t == 1) {
      p = {4, 2 * H, H, H};  // MLRA-2: two branches of two blocks, each block h/2 heads
    } else if (t == 2) {
      p = {2, H, H / 2, H / 2};
    } else {
      p = {1, 2 * H / tt, 2 * H / tt, 2 * H / tt};
    }
    const bool partial = all_heads ? t > 1 : t >= 4;
    if (partial && sharded_out) p.H_o = H / tt;
    return p;
  }

  Shapes shapes(const Step& s) const {
    const Placement pl = placement(s.tp);
    const double T = s.tokens(), N = s.cached_rows();
    const double D = double(d), Dq = double(dq), db = double(d_block), R = double(dr),
                 Dn = double(dn), Dv = double(dv);
    Shapes m = {{T, Dq, D},                  // W^DQ
                {T, pl.n_t * db + R, D},     // W^DKV for the resident blocks, W^KR
                {T, pl.H_q * (Dn + R), Dq},  // W^UQ
                {T, D, pl.H_o * Dv}};        // W^O
    if (s.form == Form::absorbed) {
      m.push_back({T * pl.P, db, Dn});  // q~ = q^N W^UK^T per instance
      m.push_back({T * pl.P, Dv, db});  // W^UV per instance
      for (double keys : s.keys_per_query()) {
        m.push_back({pl.P, keys, db + R});  // [q~ | q^R] . [c | k^R]
        m.push_back({pl.P, db, keys});      // P . c
      }
    } else {
      m.push_back({N, pl.P * (Dn + Dv), db});  // K^N and V of every cached row, per instance
      for (double keys : s.keys_per_query()) {
        m.push_back({pl.P, keys, Dn + R});
        m.push_back({pl.P, Dv, keys});
      }
    }
    return m;
  }
};

}  // namespace

TEST_CASE("Independent FLOP count: MLA, GLA, MLRA-2, MLRA-4, TPLA",
          "[model][flops]") {
  Rng rng(42);
  for (const char* variant : {"mla", "gla", "mlra2", "mlra4", "tpla"}) {
    for (int i = 0; i < kConfigsPerVariant; ++i) {
      LatentCase c;
      c.variant = variant;
      c.h = pick(rng, {8, 12, 16, 24, 32});
      c.d = pick(rng, {512, 1024, 3072});
      c.dq = pick(rng, {128, 384, 1024});
      c.dr = pick(rng, {32, 64});
      c.dn = pick(rng, {64, 128});
      c.dv = pick(rng, {64, 128, 96});
      c.n_blocks = c.variant == "mla"    ? 1
                   : c.variant == "gla"  ? pick(rng, {1, 2, 4})
                   : c.variant == "tpla" ? pick(rng, {2, 4})
                                         : 4;
      c.d_block = pick(rng, {64, 128, 256});
      c.sharded_out = (c.variant == "mlra2" || c.variant == "mlra4") && pick(rng, {0, 1}) == 1;
      compare(rng, variant_from_json(c.variant, c.json()),
              degrees_where([&](int64_t t) { return c.valid(t); }),
              [&](const Step& s) { return c.shapes(s); });
    }
  }
}

TEST_CASE("Independent FLOP count: TPA materialized and factorized (FlashTPA)",
          "[model][flops]") {
  Rng rng(3);
  for (int i = 0; i < kConfigsPerVariant; ++i) {
    const int64_t h = pick(rng, {8, 16, 24}), dh = pick(rng, {64, 128}), d = pick(rng, {512, 768});
    const int64_t rq = pick(rng, {2, 6, 16}), rk = pick(rng, {1, 2, 4}), rv = pick(rng, {1, 2});
    const VariantPtr v = variant_from_json(
        "tpa", fmt::format(R"({{"d_model": {}, "q_heads": {}, "d_head": {}, "q_rank": {},
                                "k_rank": {}, "v_rank": {}}})",
                           d, h, dh, rq, rk, rv));
    compare(rng, v, degrees_where([&](int64_t t) { return h % t == 0; }), [&](const Step& s) {
      const double h_t = double(h / s.tp), T = s.tokens(), N = s.cached_rows();
      const double Dh = double(dh), Rq = double(rq), Rk = double(rk), Rv = double(rv);
      Shapes m = {{T, (h_t + Dh) * (Rq + Rk + Rv), double(d)},  // A and B factor projections
                  {T, double(d), h_t * Dh}};                    // W^O
      if (s.form == Form::materialized) {
        m.push_back({T * h_t, Dh, Rq});       // q_i = A^q_i B^q
        m.push_back({N * h_t, Dh, Rk + Rv});  // k_i, v_i of every cached row
        for (double keys : s.keys_per_query()) {
          m.push_back({h_t, keys, Dh});
          m.push_back({h_t, Dh, keys});
        }
      } else {
        for (double keys : s.keys_per_query()) {
          m.push_back({Rq, keys * Rk, Dh});   // B_q . B_K^T, shared by the heads
          m.push_back({h_t, keys * Rk, Rq});  // A_q . (B_q B_K^T)
          m.push_back({h_t * keys, 1, Rk});   // . A_K
          m.push_back({h_t, Rv, keys});       // P . A_V
          m.push_back({h_t, Dh, keys * Rv});  // (P A_V) . B_V
        }
      }
      return m;
    });
  }
}

TEST_CASE("Independent FLOP count: MFA and MFA-KR", "[model][flops]") {
  Rng rng(11);
  for (int i = 0; i < kConfigsPerVariant; ++i) {
    const int64_t h = pick(rng, {8, 24, 64}), df = pick(rng, {128, 256}),
                  d = pick(rng, {512, 3072});
    const int64_t rank = pick(rng, {256, 2048});
    const bool kr = pick(rng, {0, 1}) == 1;
    const VariantPtr v = variant_from_json(
        "mfa", fmt::format(R"({{"d_model": {}, "q_heads": {}, "d_head": {}, "d_q_latent": {},
                                "key_reuse": {}}})",
                           d, h, df, rank, kr));
    compare(rng, v, degrees_where([&](int64_t t) { return h % t == 0; }), [&](const Step& s) {
      const double h_t = double(h / s.tp), T = s.tokens(), Df = double(df);
      Shapes m = {{T, double(rank), double(d)},           // W_Q,down
                  {T, h_t * Df, double(rank)},            // W_Q,up
                  {T, (kr ? 1.0 : 2.0) * Df, double(d)},  // the one K head (and V head)
                  {T, double(d), h_t * Df}};              // W^O
      for (double keys : s.keys_per_query()) {
        m.push_back({h_t, keys, Df});
        m.push_back({h_t, Df, keys});
      }
      return m;
    });
  }
}

TEST_CASE("Independent FLOP count: LRKV, both RoPE readings", "[model][flops]") {
  Rng rng(5);
  for (int i = 0; i < kConfigsPerVariant; ++i) {
    const int64_t h = pick(rng, {8, 18, 24}), dh = pick(rng, {64, 128}), d = pick(rng, {512, 2304});
    const int64_t r = pick(rng, {16, 48, 64});
    const bool latent_rope = pick(rng, {0, 1}) == 1;
    const VariantPtr v = variant_from_json(
        "lrkv", fmt::format(R"({{"d_model": {}, "q_heads": {}, "d_head": {}, "rank": {},
                                 "rope": "{}"}})",
                            d, h, dh, r, latent_rope ? "latent" : "materialized"));
    compare(rng, v, degrees_where([&](int64_t t) { return h % t == 0; }), [&](const Step& s) {
      const double h_t = double(h / s.tp), T = s.tokens(), N = s.cached_rows();
      const double Dh = double(dh), Rr = double(r);
      Shapes m = {{T, h_t * Dh, double(d)},      // W^Q
                  {T, 2 * Dh, double(d)},        // W^K_sh, W^V_sh
                  {T, 2 * h_t * Rr, double(d)},  // U^K_h, U^V_h
                  {T, double(d), h_t * Dh}};     // W^O
      if (s.form == Form::materialized) {
        m.push_back({N * h_t, Dh, Rr});  // R^K_h B^K_h^T
        m.push_back({N * h_t, Dh, Rr});  // R^V_h B^V_h^T
        for (double keys : s.keys_per_query()) {
          m.push_back({h_t, keys, Dh});
          m.push_back({h_t, Dh, keys});
        }
        return m;
      }
      if (latent_rope) {
        m.push_back({T * h_t, Rr, Dh});  // q B^K
      } else {
        m.push_back({N * h_t, Dh, Rr});  // keys reconstructed: RoPE acts on the d_h-dim key
      }
      m.push_back({T * h_t, Dh, Rr});  // (a R^V) B^V^T
      for (double keys : s.keys_per_query()) {
        if (latent_rope) {
          m.push_back({h_t, keys, Dh});  // q K_sh^T
          m.push_back({h_t, keys, Rr});  // (q B^K) R^K^T
        } else {
          m.push_back({h_t, keys, Dh});  // q K^T on reconstructed keys
        }
        m.push_back({h_t, Dh, keys});  // a V_sh
        m.push_back({h_t, Rr, keys});  // a R^V
      }
      return m;
    });
  }
}

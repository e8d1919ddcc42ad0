// Decode cost against the documented tables: docs/variants.md "DeepSeek-V3 at 128K" (DeepSeek-V3
// dimensions), "2.9B configs at 8K", the "Arithmetic intensity" values, the
// MLRA output-projection options' collectives, and the presets' total parameter counts.
#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <utility>

#include "model/presets.h"
#include "tests/model/model_test_util.h"

using namespace attnroof::model;
using attnroof::model::test::rounds_to;
using attnroof::model::test::variant_from_json;

namespace {

double core_flops(const Cost& c) { return c.flops_of("scores") + c.flops_of("value"); }

const VariantPtr& preset_variant(const std::string& name) {
  return find_preset(name, "test").variant;
}

}  // namespace

TEST_CASE("docs/variants.md worked example: DeepSeek-V3 dims, B = 1, L = 131072, per device",
          "[model][cost][golden]") {
  struct Row {
    const char* preset;
    int64_t tp;
    double core_gflop, total_gflop, kv_mb, ai_core, w_m;
  };
  const std::array<Row, 10> rows = {{
      {"dsv3_mla", 1, 36.5, 36.9, 151.0, 242, 187.1},
      {"dsv3_mla", 4, 9.13, 9.24, 151.0, 60, 58.1},
      {"dsv3_mla", 8, 4.56, 4.64, 151.0, 30, 36.6},
      {"dsv3_gla2", 2, 9.66, 9.85, 83.9, 115, 95.1},
      {"dsv3_gla2", 4, 4.83, 4.94, 83.9, 58, 54.2},
      {"dsv3_mlra4", 2, 21.5, 21.8, 83.9, 256, 176.9},
      {"dsv3_mlra4", 4, 10.7, 11.1, 50.3, 213, 171.8},
      {"dsv3_mlra4", 8, 5.37, 5.55, 50.3, 107, 92.1},
      {"dsv3_tpla2", 2, 19.3, 19.7, 83.9, 230, 176.9},
      {"dsv3_tpla2", 4, 9.66, 9.85, 83.9, 115, 95.1},
  }};
  for (const Row& row : rows) {
    INFO(row.preset << " at tp " << row.tp);
    const VariantPtr& v = preset_variant(row.preset);
    REQUIRE(v->check_tp(row.tp).empty());
    const Cost c = v->decode_cost(DecodePoint::uniform(row.tp, 1, 131072));
    const int gflop_decimals = row.core_gflop < 10 ? 2 : 1;
    CHECK(rounds_to(core_flops(c) / 1e9, row.core_gflop, gflop_decimals));
    CHECK(rounds_to(c.flops() / 1e9, row.total_gflop, row.total_gflop < 10 ? 2 : 1));
    CHECK(rounds_to(c.kv_read_bytes() / 1e6, row.kv_mb, 1));
    CHECK(rounds_to(core_flops(c) / c.kv_read_bytes(), row.ai_core, 0));
    CHECK(rounds_to(v->weight_params(row.tp) / 1e6, row.w_m, 1));
  }
}

TEST_CASE("docs/variants.md MLRA: option B (out_proj sharded) shards W^O (DSV3 TP 4)",
          "[model][cost][golden]") {
  const VariantPtr sharded = variant_from_json(
      "mlra4", R"({"d_model": 7168, "q_heads": 128, "d_q_latent": 1536, "d_latent": 512,
                   "d_rope": 64, "d_nope": 128, "d_v": 128, "out_proj": "sharded"})");
  // The formula gives 11,010,048 + 1,376,256 + 37,748,736 + 4,194,304 + 32 * 128 * 7168 =
  // 83,689,472, which prints as 83.7 (the table this was first checked against printed 83.8,
  // one off in the last digit); the formula is kept.
  CHECK(rounds_to(sharded->weight_params(4) / 1e6, 83.7, 1));
  CHECK(sharded->weight_params(4) == 83689472.0);
  // Option A at the same point for comparison: 171.8 M (the worked-example row).
  CHECK(rounds_to(preset_variant("dsv3_mlra4")->weight_params(4) / 1e6, 171.8, 1));
}

TEST_CASE(
    "docs/variants.md: per-device decode cost of the 2.9B configs (M params / MFLOP, B = 1, "
    "L = 8192)",
    "[model][cost][golden]") {
  struct Cell {
    double w_m, mflop;
  };
  struct Row {
    const char* preset;
    Form form;
    std::array<Cell, 4> tp_1_2_4_8;
    int n_tp;  // leading columns present in the table
  };
  const std::array<Row, 8> rows = {{
      {"paper29b_mha", Form::absorbed, {{{37.75, 176}, {18.87, 88}, {9.44, 44}, {4.72, 22}}}, 4},
      // TP 8 is not in the table; TP 4 has 2 KV heads per device (docs/variants.md "TP rules").
      {"paper29b_gqa", Form::absorbed, {{{23.59, 148}, {11.80, 74}, {6.29, 38}, {0, 0}}}, 3},
      {"paper29b_mla", Form::absorbed, {{{26.15, 480}, {16.32, 247}, {11.40, 130}, {8.95, 71}}}, 4},
      {"paper29b_gla2", Form::absorbed, {{{20.64, 268}, {11.99, 137}, {8.06, 73}, {6.09, 41}}}, 4},
      {"paper29b_mlra2",
       Form::absorbed,
       {{{20.64, 293}, {11.99, 150}, {11.21, 85}, {7.47, 46}}},
       4},
      {"paper29b_mlra4",
       Form::absorbed,
       {{{22.22, 548}, {19.86, 291}, {18.68, 163}, {11.21, 85}}},
       4},
      {"paper29b_mfa", Form::absorbed, {{{39.32, 280}, {23.59, 148}, {15.73, 82}, {11.80, 49}}}, 4},
      // TP 4: 8,232,960 (factor projections) + 9,216 (q formation) + 50,331,648
      // (reconstruction) + 25,165,824 (QK^T, PV) + 4,718,592 (W^O) = 88,458,240, which prints as
      // 88 (the table this was first checked against printed 89); the formula is kept.
      {"paper29b_tpa",
       Form::materialized,
       {{{14.11, 330}, {9.02, 169}, {6.48, 88}, {5.20, 48}}},
       4},
  }};
  const std::array<int64_t, 4> tps = {1, 2, 4, 8};
  for (const Row& row : rows) {
    const VariantPtr& v = preset_variant(row.preset);
    for (int i = 0; i < row.n_tp; ++i) {
      const int64_t tp = tps[std::size_t(i)];
      const Cell& cell = row.tp_1_2_4_8[std::size_t(i)];
      INFO(row.preset << " at tp " << tp);
      REQUIRE(v->check_tp(tp).empty());
      DecodePoint p = DecodePoint::uniform(tp, 1, 8192);
      p.form = row.form;
      CHECK(rounds_to(v->weight_params(tp) / 1e6, cell.w_m, 2));
      CHECK(rounds_to(v->decode_cost(p).flops() / 1e6, cell.mflop, 0));
    }
  }
}

TEST_CASE("docs/variants.md: attention-core arithmetic intensity (FLOP per KV byte)",
          "[model][cost][golden]") {
  const auto ai = [](const std::string& preset, int64_t tp) {
    const Cost c = preset_variant(preset)->decode_cost(DecodePoint::uniform(tp, 1, 131072));
    return core_flops(c) / c.kv_read_bytes();
  };
  CHECK(rounds_to(ai("dsv3_mla", 1), 242, 0));
  CHECK(rounds_to(ai("dsv3_mlra4", 4), 213, 0));
  CHECK(rounds_to(ai("bench64_mlra4", 4), 107, 0));
  CHECK(ai("bench64_gqa", 8) == 8.0);
}

TEST_CASE("MLRA output projection: option A one all-reduce, option B reduce-scatter first",
          "[model][cost][comm]") {
  const std::string dims = R"("d_model": 3072, "q_heads": 24, "d_q_latent": 1024, "d_latent": 512,
                              "d_rope": 64, "d_nope": 128, "d_v": 128, "out_proj": )";
  const VariantPtr a4 = variant_from_json("mlra4", "{" + dims + R"("replicated"})");
  const VariantPtr b4 = variant_from_json("mlra4", "{" + dims + R"("sharded"})");
  const VariantPtr b2 = variant_from_json("mlra2", "{" + dims + R"("sharded"})");
  const DecodePoint p4 = DecodePoint::uniform(4, 3, 1000);

  const Cost ca = a4->decode_cost(p4);
  REQUIRE(ca.n_collectives == 1);
  CHECK(ca.collectives[0].kind == CollectiveKind::all_reduce);
  CHECK(ca.collectives[0].elems == 3.0 * 3072);

  const Cost cb = b4->decode_cost(p4);
  REQUIRE(cb.n_collectives == 2);
  CHECK(cb.collectives[0].kind == CollectiveKind::reduce_scatter);
  CHECK(cb.collectives[0].elems == 3.0 * 24 * 128);
  CHECK(cb.collectives[1].kind == CollectiveKind::all_reduce);
  // Option B: W^O rows h/t = 6 per device instead of all 24.
  CHECK(ca.flops_of("out_proj") == 2.0 * 3 * 24 * 128 * 3072);
  CHECK(cb.flops_of("out_proj") == 2.0 * 3 * 6 * 128 * 3072);
  CHECK(a4->weight_params(4) - b4->weight_params(4) == 18.0 * 128 * 3072);

  // MLRA-2 at TP 2 holds both branches of its head half: complete outputs, no reduce-scatter.
  CHECK(b2->decode_cost(DecodePoint::uniform(2, 1, 100)).n_collectives == 1);
  CHECK(b2->decode_cost(DecodePoint::uniform(4, 1, 100)).n_collectives == 2);
  // TP 1: nothing to communicate.
  CHECK(b4->decode_cost(DecodePoint::uniform(1, 1, 100)).n_collectives == 0);
}

TEST_CASE(
    "Forms: latent variants differ, single-form variants coincide; weights and KV never "
    "depend on the form",
    "[model][cost]") {
  for (const Preset& p : builtin_presets()) {
    INFO(p.name);
    DecodePoint absorbed = DecodePoint::uniform(1, 2, 4096);
    DecodePoint materialized = absorbed;
    materialized.form = Form::materialized;
    const Cost a = p.variant->decode_cost(absorbed), m = p.variant->decode_cost(materialized);
    // Summed over each form's own op list (not the form-independent fields): the same weight
    // bytes read and the same cache bytes written.
    const auto sums = [](const Cost& c) {
      double weights = 0, written = 0;
      for (int i = 0; i < c.n_ops; ++i) {
        weights += c.ops[std::size_t(i)].weight_bytes;
        written += c.ops[std::size_t(i)].kv_write_bytes;
      }
      return std::pair(weights, written);
    };
    const auto [a_weights, a_written] = sums(a);
    const auto [m_weights, m_written] = sums(m);
    CHECK(a_weights > 0);
    CHECK(a_written > 0);
    CHECK(m_weights == Approx(a_weights));
    CHECK(m_written == Approx(a_written));
    const VariantId id = p.variant_id;
    const bool one_form = id == VariantId::mha || id == VariantId::mqa || id == VariantId::gqa ||
                          id == VariantId::gta || id == VariantId::mfa;
    if (one_form) {
      CHECK(a.flops() == m.flops());
    } else {
      // Re-up-projecting every cached token costs more than attending the cache in place.
      CHECK(m.flops() > a.flops());
    }
  }
}

TEST_CASE("Every cost echoes its variant's KV and weights and writes the new rows",
          "[model][cost]") {
  for (const Preset& p : builtin_presets()) {
    for (const int64_t tp : {1, 2, 4, 8}) {
      if (!p.variant->check_tp(tp).empty()) continue;
      INFO(p.name << " at tp " << tp);
      const DecodePoint point = DecodePoint::uniform(tp, 4, 2048, 2);
      const Cost c = p.variant->decode_cost(point);
      // The op list, summed op by op, against the variant's own KV and weight functions; the
      // cost's summary fields against the same sums.
      double written = 0, weight_bytes = 0;
      for (int i = 0; i < c.n_ops; ++i) {
        written += c.ops[std::size_t(i)].kv_write_bytes;
        weight_bytes += c.ops[std::size_t(i)].weight_bytes;
      }
      const double kv_row_bytes =
          double(p.variant->kv_elems_per_token(tp)) * bytes_of(point.dtypes.kv);
      CHECK(written == Approx(point.tokens() * kv_row_bytes));
      CHECK(weight_bytes == Approx(p.variant->weight_params(tp) * bytes_of(point.dtypes.weight)));
      CHECK(c.kv_elems_per_token * bytes_of(point.dtypes.kv) * point.tokens() == Approx(written));
      CHECK(c.weight_params * bytes_of(point.dtypes.weight) == Approx(weight_bytes));
      CHECK(c.n_collectives == (tp > 1 ? 1 : 0));
    }
  }
}

TEST_CASE("config_json echoes every key: rebuilding from it reproduces the variant",
          "[model][config]") {
  for (const Preset& p : builtin_presets()) {
    INFO(p.name);
    const VariantPtr again =
        make_variant(p.variant_id, p.variant->config_json(), JsonSource{"config_json"});
    CHECK(again->config_json() == p.variant->config_json());
    CHECK(again->label() == p.variant->label());
    for (const int64_t tp : {1, 2, 4, 8}) {
      if (!p.variant->check_tp(tp).empty()) continue;
      CHECK(again->kv_elems_per_token(tp) == p.variant->kv_elems_per_token(tp));
      CHECK(again->weight_params(tp) == p.variant->weight_params(tp));
    }
  }
}

TEST_CASE("Preset totals: attention x layers + other_params = the reported parameter counts",
          "[model][presets][golden]") {
  const auto total = [](const std::string& name) {
    const Preset& p = find_preset(name, "test");
    return p.other_params + double(p.n_layers) * p.variant->weight_params(1);
  };
  // The 2.9B totals of docs/variants.md "Presets", in billions, 3 decimals.
  const std::array<std::pair<const char*, double>, 11> paper = {{{"paper29b_mha", 2.873},
                                                                 {"paper29b_mqa", 2.872},
                                                                 {"paper29b_gqa", 2.873},
                                                                 {"paper29b_mla", 2.872},
                                                                 {"paper29b_mfa", 2.873},
                                                                 {"paper29b_tpa", 2.873},
                                                                 {"paper29b_gla2", 2.873},
                                                                 {"paper29b_gla4", 2.873},
                                                                 {"paper29b_gta", 2.872},
                                                                 {"paper29b_mlra2", 2.873},
                                                                 {"paper29b_mlra4", 2.873}}};
  for (const auto& [name, billions] : paper) {
    INFO(name);
    CHECK(rounds_to(total(name) / 1e9, billions, 3));
  }
  // The same table's attention parameters per layer (M), for rows not checked elsewhere.
  CHECK(rounds_to(preset_variant("paper29b_tpa")->weight_params(1) / 1e6, 14.11, 2));
  CHECK(rounds_to(preset_variant("paper29b_gta")->weight_params(1) / 1e6, 21.43, 2));
  CHECK(rounds_to(preset_variant("paper29b_gla4")->weight_params(1) / 1e6, 19.86, 2));
  CHECK(rounds_to(preset_variant("paper29b_mqa")->weight_params(1) / 1e6, 19.66, 2));
  // Llama-3 parameter counts as published (safetensors totals), DeepSeek-V3's 671B.
  CHECK(total("llama3_8b") == 8030261248.0);
  CHECK(total("llama3_70b") == 70553706496.0);
  CHECK(rounds_to(total("dsv3_mla") / 1e9, 671, 0));
  // GLA paper Table 10 (XL, M parameters, 2 decimals).
  CHECK(rounds_to(total("glaxl_mha") / 1e6, 1471.12, 2));
  CHECK(rounds_to(total("glaxl_gqa4") / 1e6, 1470.83, 2));
  CHECK(rounds_to(total("glaxl_gta4") / 1e6, 1471.22, 2));
  // MLA 1470.58 and GLA-2 1470.78 in Table 10 sit 245,760 (= 24 x 10,240) above the formula's
  // totals with the inferred d_q 1024: a per-layer term that the weight formula of
  // docs/variants.md "Latent family" does not have
  // (attention-internal RMSNorm gains are only 1,536). Recorded, not absorbed into other_params.
  CHECK(1470.58e6 - total("glaxl_mla") == Approx(245760).margin(5000));
  CHECK(1470.78e6 - total("glaxl_gla2") == Approx(245760).margin(5000));
}

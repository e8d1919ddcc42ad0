#include "kernels/reference/verify.h"

#include <fmt/format.h>

#include "kernels/reference/checks.h"
#include "kernels/reference/config.h"
#include "kernels/reference/weights.h"
#include "model/error.h"
#include "model/presets.h"
#include "model/registry.h"

namespace attnroof::ref {

std::vector<std::string> default_verify_variants() {
  return {"mha",  "mqa",          "gqa",  "mla",           "gla",   "gta",
          "tpa",  "mfa",          "lrkv", "lrkv:latent",   "mlra2", "mlra2:sharded",
          "mlra4", "mlra4:sharded", "tpla"};
}

namespace {

struct Target {
  RefConfig config;
  std::string source;
};

Target resolve(const std::string& spec, const VerifyOptions& o) {
  const auto colon = spec.find(':');
  const std::string id_text = spec.substr(0, colon);
  const std::string option = colon == std::string::npos ? "" : spec.substr(colon + 1);
  const VariantId id = model::parse_variant(id_text, "--variants");
  const bool takes_option = id == VariantId::lrkv || id == VariantId::mlra2 || id == VariantId::mlra4;
  if (!option.empty() && !takes_option) {
    throw InputError(fmt::format("--variants: '{}': only lrkv (materialized, latent) and mlra2/mlra4 "
                                 "(replicated, sharded) take an option", spec));
  }
  nlohmann::json config = small_config(id, o.q_heads, option);
  if (id == VariantId::mlra2 && o.q_heads % 2 != 0) config["q_heads"] = o.q_heads + 1;
  return {parse_ref_config(id, config, model::JsonSource{"verify small config " + spec}),
          fmt::format("small random config ({} query heads)", config["q_heads"].get<int64_t>())};
}

}  // namespace

nlohmann::json run_verify(const VerifyOptions& o) {
  std::vector<Target> targets;
  if (!o.preset.empty()) {
    const model::Preset& p = model::find_preset(o.preset, "--preset");
    targets.push_back({parse_ref_config(p.variant_id, p.config, model::JsonSource{"preset " + p.name}),
                       "preset " + p.name});
  } else {
    for (const std::string& v : o.variants.empty() ? default_verify_variants() : o.variants) {
      targets.push_back(resolve(v, o));
    }
  }
  CheckOptions co;
  co.seed = o.seed;
  co.tps = o.tps;
  co.ctx_lens = o.ctx_lens;
  if (!o.preset.empty()) {  // real sizes: keep the sequences short
    co.ctx_lens = {1, 3, 33};
    co.equivariance_len = 9;
    co.pads = {1, 3};
  }
  nlohmann::json report = {{"schema", "attnroof.verify/1"},
                           {"seed", o.seed},
                           {"tps", o.tps},
                           {"tolerances", {{"equivalence_rel", kEquivalenceTol},
                                           {"equivariance_rel", kEquivarianceTol},
                                           {"violation_rel", kViolationThreshold}}},
                           {"variants", nlohmann::json::array()}};
  int64_t n_checks = 0, n_failed = 0, n_na = 0;
  nlohmann::json study = nlohmann::json::array();
  for (const Target& t : targets) {
    const Weights w = init_weights(t.config, o.seed);
    std::vector<CheckResult> all;
    for (auto* fn : {&check_equivalence, &check_one_truth, &check_e1_scores, &check_e2_outputs,
                     &check_e3_left_padding, &check_negative_controls}) {
      for (CheckResult& r : fn(w, co)) all.push_back(std::move(r));
    }
    nlohmann::json checks = nlohmann::json::array();
    bool pass = true;
    for (const CheckResult& r : all) {
      checks.push_back(r.to_json());
      if (!r.applicable) {
        ++n_na;
        continue;
      }
      ++n_checks;
      if (!r.pass) {
        ++n_failed;
        pass = false;
      }
    }
    report["variants"].push_back({{"variant", ref_variant_name(t.config)},
                                  {"label", t.config.label()},
                                  {"source", t.source},
                                  {"config", t.config.json},
                                  {"pass", pass},
                                  {"checks", checks}});
    if (o.precision_study) {
      // Real head and RoPE widths (precision_config), so that fp32 angle rounding is that of the
      // real models; with a preset, the preset itself.
      const std::string option = t.config.id == VariantId::lrkv
                                     ? std::string(model::to_string(t.config.lrkv_rope))
                                     : t.config.out_proj == OutProj::sharded ? "sharded" : "";
      const Weights pw = o.preset.empty()
                             ? init_weights(parse_ref_config(t.config.id, precision_config(t.config.id, option),
                                                             model::JsonSource{"precision config"}),
                                            o.seed)
                             : w;
      for (const PrecisionRow& row : precision_study(pw, co)) study.push_back(row.to_json());
    }
  }
  report["precision_study"] = study;
  report["lrkv_finding"] = lrkv_finding(co).to_json();
  report["summary"] = {{"checks", n_checks}, {"failed", n_failed}, {"not_applicable", n_na}};
  report["pass"] = n_failed == 0;
  return report;
}

bool verify_passed(const nlohmann::json& report) { return report.at("pass").get<bool>(); }

std::string format_verify_table(const nlohmann::json& report) {
  auto num = [](const nlohmann::json& v) {
    return v.is_number() ? fmt::format("{:.3g}", v.get<double>()) : std::string("inf");
  };
  std::string out = fmt::format("{:<16} {:<34} {:>10} {:>10} {:>8}  {}\n", "variant", "check",
                                "max_abs", "max_rel", "tol", "result");
  for (const nlohmann::json& v : report.at("variants")) {
    for (const nlohmann::json& c : v.at("checks")) {
      const bool applicable = c.at("applicable").get<bool>();
      const std::string result = !applicable ? "n/a" : c.at("pass").get<bool>()
                                                           ? (c.at("expect_violation").get<bool>() ? "PASS (fails as required)" : "PASS")
                                                           : "FAIL";
      out += fmt::format("{:<16} {:<34} {:>10} {:>10} {:>8}  {}", v.at("variant").get<std::string>(),
                         c.at("check").get<std::string>(), applicable ? num(c.at("max_abs_err")) : "-",
                         applicable ? num(c.at("max_rel_err")) : "-", num(c.at("tol")), result);
      if (!applicable || !c.at("pass").get<bool>()) out += "  [" + c.at("detail").get<std::string>() + "]";
      out += "\n";
    }
  }
  const nlohmann::json& study = report.at("precision_study");
  if (!study.empty()) {
    out += fmt::format("\nprecision study (rel err; e1 = scores, e2 = outputs vs the same format at "
                       "shift 0; vs_f64 = outputs vs float64 on the same bf16 values)\n");
    out += fmt::format("{:<16} {:<8} {:<22} {:>8} {:>10} {:>10} {:>10}\n", "variant", "arith", "rope",
                       "shift", "e1", "e2", "vs_f64");
    for (const nlohmann::json& r : study) {
      out += fmt::format("{:<16} {:<8} {:<22} {:>8} {:>10} {:>10} {:>10}\n",
                         r.at("variant").get<std::string>(), r.at("arithmetic").get<std::string>(),
                         r.at("rope").get<std::string>(), r.at("shift").get<int64_t>(), num(r.at("e1_rel")),
                         num(r.at("e2_rel")), num(r.at("vs_f64_rel")));
    }
  }
  out += "\nLRKV: " + report.at("lrkv_finding").at("summary").get<std::string>() + "\n";
  const nlohmann::json& s = report.at("summary");
  out += fmt::format("\n{} checks, {} failed, {} not applicable: {}\n", s.at("checks").get<int64_t>(),
                     s.at("failed").get<int64_t>(), s.at("not_applicable").get<int64_t>(),
                     report.at("pass").get<bool>() ? "PASS" : "FAIL");
  return out;
}

}  // namespace attnroof::ref

// defines: VerifyOptions, default_verify_variants, run_verify, verify_passed, format_verify_table
//
// `attnroof verify` runs every reference check (checks.h) per variant and returns one JSON
// report: per variant and check {max_abs_err, max_rel_err, tol, pass, detail}, the precision
// study and the LRKV finding. A check that cannot apply (no absorbed form, a TP degree the
// variant does not shard to) is reported with applicable = false and is not a failure.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnroof::ref {

struct VerifyOptions {
  // Reference variant names: a model id ("mla", "MLRA-4"), optionally ":<option>" for the
  // option that changes the math ("lrkv:latent", "mlra4:sharded"). Empty: every variant.
  std::vector<std::string> variants;
  // A built-in preset name: check its variant with the preset's config (real sizes: slow, and
  // the float64 weights of a large layer take gigabytes). Empty: small random configs.
  std::string preset;
  std::vector<int64_t> tps = {1, 2, 4, 8};
  uint64_t seed = 1;
  int64_t q_heads = 8;  // query heads of the small configs (8 shards at every TP degree)
  std::vector<int64_t> ctx_lens = {1, 3, 129, 257};
  bool precision_study = true;
};

std::vector<std::string> default_verify_variants();
// Throws InputError for unknown variants, presets or options.
nlohmann::json run_verify(const VerifyOptions& options);
bool verify_passed(const nlohmann::json& report);
// Human-readable table of the report (one line per variant and check, then the study).
std::string format_verify_table(const nlohmann::json& report);

}  // namespace attnroof::ref

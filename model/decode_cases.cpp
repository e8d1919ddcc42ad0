#include "model/decode_cases.h"

#include <fmt/format.h>

#include <algorithm>

#include "model/decode_point.h"
#include "model/error.h"
#include "model/json_reader.h"
#include "model/presets.h"

namespace attnroof::model {

namespace {

// docs/variants.md "Benchmark shapes": the MLRA benchmark's four per-device shapes at their
// deployment TP, plus MLA with DeepSeek-V3's 128 heads (the batch-64 tensor-rate target).
// GQA pages by 128 rows (its 256 B rows), the latent shapes by 64.
constexpr DecodeCase kCases[] = {
    {"gqa_tp8", "bench64_gqa", 8, 128, "GQA, 8 KV heads at TP 8: 8 query heads on one KV head"},
    {"mla", "bench64_mla", 1, 64, "MLA, data-parallel: 64 heads on one 576-wide latent row"},
    {"gla2_tp2", "bench64_gla2", 2, 64, "GLA-2 at TP 2: 32 heads on one 320-wide block row"},
    {"mlra4_tp4", "bench64_mlra4", 4, 64, "MLRA-4 at TP 4: 64 heads on one 192-wide block row"},
    {"mla_h128", "dsv3_mla", 1, 64, "MLA with DeepSeek-V3's 128 heads, data-parallel"},
};

}  // namespace

std::span<const DecodeCase> decode_cases() { return kCases; }

std::vector<std::string> decode_case_names() {
  std::vector<std::string> out;
  for (const DecodeCase& c : kCases) out.emplace_back(c.name);
  return out;
}

const DecodeCase& find_decode_case(std::string_view name, std::string_view field) {
  const auto* it = std::find_if(std::begin(kCases), std::end(kCases),
                                [&](const DecodeCase& c) { return c.name == name; });
  if (it == std::end(kCases))
    throw InputError(fmt::format("{}: unknown decode case '{}'; the cases: {}", field,
                                 excerpt(name), fmt::join(decode_case_names(), ", ")));
  return *it;
}

AttentionKernelShape decode_case_kernel(const DecodeCase& c) {
  const Preset& preset = find_preset(c.preset, "decode case preset");
  return preset.variant->decode_cost(DecodePoint::uniform(c.tp, 1, 1024)).attention_kernel;
}

}  // namespace attnroof::model

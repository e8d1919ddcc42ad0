// defines: DecodeCase, decode_cases, find_decode_case, decode_case_kernel, decode_case_names
//
// The named decode cases the project runs on its own kernels, declared once: each is a built-in
// preset at a TP degree, so its per-device kernel shape (family, heads, widths) and its KV bytes
// are the model's answer (Cost::attention_kernel, kv_elems_per_token), never restated. The
// benchmark (`attnroof bench-kernels --shapes`), the study's measured sections (studies/paper.json
// names a case and a label only), the TP step (its variants' head shapes) and the model's own
// tests take their shapes from here. docs/where-changes-go.md "A new benchmark case".
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/cost.h"

namespace attnroof::model {

struct DecodeCase {
  std::string_view name;    // "gqa_tp8": the one name in reports, options and studies
  std::string_view preset;  // "bench64_gqa" (model/data/presets)
  int64_t tp = 1;           // the deployment TP degree whose per-device shard the kernel runs
  int32_t page_size = 64;   // KV rows per page when the benchmark pages the cache
  std::string_view about;   // one line
};

// In benchmark order (a ragged batch's lengths depend on a case's place here).
std::span<const DecodeCase> decode_cases();
std::vector<std::string> decode_case_names();
// By exact name; InputError names `field` and lists the cases.
const DecodeCase& find_decode_case(std::string_view name, std::string_view field);
// The case's per-device attention kernel: its preset's decode cost at its TP degree.
AttentionKernelShape decode_case_kernel(const DecodeCase& c);

}  // namespace attnroof::model

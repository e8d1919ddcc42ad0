#include "model/dtype.h"

#include <fmt/format.h>

#include "model/error.h"
#include "model/json_reader.h"

namespace attnroof::model {

std::string_view to_string(Dtype t) {
  switch (t) {
    case Dtype::fp32: return "fp32";
    case Dtype::bf16: return "bf16";
    case Dtype::fp16: return "fp16";
    case Dtype::fp8_e4m3: return "fp8_e4m3";
  }
  return "?";
}

Dtype parse_dtype(std::string_view name, std::string_view field) {
  for (Dtype t : kAllDtypes) {
    if (name == to_string(t)) return t;
  }
  if (name == "fp8") return Dtype::fp8_e4m3;
  throw InputError(fmt::format("{}: unknown dtype '{}'; known: fp32, bf16, fp16, fp8 (= fp8_e4m3)",
                               field, excerpt(name)));
}

}  // namespace attnroof::model

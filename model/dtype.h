// defines: Dtype, bytes_of, to_string(Dtype), parse_dtype, kAllDtypes
#pragma once
#include <array>
#include <string>
#include <string_view>

namespace attnroof::model {

enum class Dtype { fp32, bf16, fp16, fp8_e4m3 };

inline constexpr std::array<Dtype, 4> kAllDtypes = {Dtype::fp32, Dtype::bf16, Dtype::fp16,
                                                    Dtype::fp8_e4m3};

// The only place a dtype's size lives.
constexpr double bytes_of(Dtype t) {
  switch (t) {
    case Dtype::fp32: return 4.0;
    case Dtype::bf16: return 2.0;
    case Dtype::fp16: return 2.0;
    case Dtype::fp8_e4m3: return 1.0;
  }
  return 0.0;
}

std::string_view to_string(Dtype t);
// Accepts "fp32", "bf16", "fp16", "fp8" and "fp8_e4m3"; throws InputError listing them otherwise.
Dtype parse_dtype(std::string_view name, std::string_view field);

// KV cache, weights and activations may each have their own format.
struct Dtypes {
  Dtype kv = Dtype::bf16;
  Dtype weight = Dtype::bf16;
  Dtype act = Dtype::bf16;
};

}  // namespace attnroof::model

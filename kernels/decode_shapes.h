// defines: kMaxQTokens, DecodeShape, shape_name
//
// What a compiled decode kernel is keyed by, for the launcher, its tables, the validation grid
// and the stress rounds alike. Host-clean, header-only. The named deployment cases (gqa_tp8, mla,
// ...) are model/decode_cases.h's; their kernel shape is the model's answer.
#pragma once
#include <cstdint>
#include <string>

#include "kernels/decode_params.h"

namespace attnroof::kernels {

// New tokens per sequence the kernels take (DecodeParams::q_tokens: speculative decoding,
// multi-token prediction): the range validate-kernels checks.
inline constexpr int32_t kMaxQTokens = 8;

// One compiled kernel shape: (family, d_qk, d_v).
struct DecodeShape {
  KernelFamily family;
  int32_t d_qk;
  int32_t d_v;
  friend bool operator==(const DecodeShape&, const DecodeShape&) = default;
};

// The shape's one name: "separate_d128" (d_qk = d_v) or "latent_d576_v512". A kernel table
// entry's name is this plus its tile plan ("latent_d576_v512_m64_n32_s3").
inline std::string shape_name(const DecodeShape& s) {
  if (s.family == KernelFamily::separate_kv && s.d_qk == s.d_v)
    return "separate_d" + std::to_string(s.d_qk);
  return std::string(s.family == KernelFamily::separate_kv ? "separate" : "latent") + "_d" +
         std::to_string(s.d_qk) + "_v" + std::to_string(s.d_v);
}

}  // namespace attnroof::kernels

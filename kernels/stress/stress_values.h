// defines: stress_bits, stress_value_bits (the cache and query values of a stress round)
//
// Counter-based: element `index` of buffer `stream` in the round seeded `seed` is a pure function
// of the three, computed with integer operations only, so the device fill (stress_fill.cu) and
// the host check (stress_case.cpp) produce the same bits without sharing memory. That lets a
// round fill tens of GB on the GPU and rebuild only the sampled sequences on the CPU.
// Included by host and CUDA code.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define ATTNROOF_HOST_DEVICE __host__ __device__
#else
#define ATTNROOF_HOST_DEVICE
#endif

namespace attnroof::kernels::stress {

enum class StressBuffer : uint32_t { q = 0, k = 1, v = 2 };

// splitmix64's finalizer of a counter: 64 well-mixed bits, four values' worth.
ATTNROOF_HOST_DEVICE inline uint64_t stress_bits(uint64_t seed, StressBuffer buffer,
                                                 uint64_t group) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + (uint64_t(buffer) + 1) * 0xD1B54A32D192ED03ull +
               group * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// bf16 bits of one element: a random sign, exponent 2^-3..2^0 and 7 random mantissa bits, so
// |x| in [0.125, 2): finite, never zero, with the full mantissa of bf16 in use. Elements
// 4g..4g+3 take the four 16-bit fields of stress_bits(.., g).
ATTNROOF_HOST_DEVICE inline uint16_t stress_value_from(uint64_t bits, uint64_t index) {
  const uint32_t r = uint32_t(bits >> (16 * (index & 3))) & 0xFFFFu;
  const uint32_t sign = r >> 15, exponent = 124 + ((r >> 7) & 3), mantissa = r & 0x7F;
  return uint16_t((sign << 15) | (exponent << 7) | mantissa);
}

ATTNROOF_HOST_DEVICE inline uint16_t stress_value_bits(uint64_t seed, StressBuffer buffer,
                                                       uint64_t index) {
  return stress_value_from(stress_bits(seed, buffer, index >> 2), index);
}

}  // namespace attnroof::kernels::stress

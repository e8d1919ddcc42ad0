// defines: fill_stress_cache (the device side of a stress round's cache, stress_fill.cu)
//
// Host-clean: no CUDA headers (streams through the runtime's own typedef, as launch_decode.h).
#pragma once
#include <cstdint>

#include "kernels/cuda/launch_decode.h"
#include "kernels/stress/stress_values.h"

namespace attnroof::kernels::cuda {

// Writes element i of `cache` (elems bf16 values, a multiple of 4) as
// stress_value_bits(seed, buffer, i), then NaN over the physical rows of each range
// [poison[2r], poison[2r+1]) (device int64 pairs, n_ranges of them; row_elems values per row).
// Asynchronous on `stream`; throws CudaError when a launch fails.
void fill_stress_cache(uint16_t* cache, int64_t elems, int64_t row_elems, uint64_t seed,
                       stress::StressBuffer buffer, const int64_t* poison, int64_t n_ranges,
                       cudaStream_t stream);

}  // namespace attnroof::kernels::cuda

// defines: KernelFamily
//
// The two decode kernel families, declared once: the time model prices them (time_model.h), the
// model's cost names the one a variant's attention stage runs (cost.h), and the kernels and the
// reference take them in their flat parameters (kernels/decode_params.h). No includes beyond
// <cstdint>, so that nvcc compiles it into device code.
#pragma once
#include <cstdint>

namespace attnroof::model {

// separate_kv: K and V rows per KV head (MHA, MQA, GQA); shared_latent: one latent row per token
// read as both key and value (MLA, GLA, MLRA and TPLA shards).
enum class KernelFamily : int32_t { separate_kv = 0, shared_latent = 1 };

}  // namespace attnroof::model

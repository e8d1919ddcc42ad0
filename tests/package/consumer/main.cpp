// The installed package's libraries at work, each from its installed headers: a builtin preset
// and the hardware and calibration data embedded in attnroof::model, one float64 reference
// decode (attnroof::reference) and one calibration helper (attnroof::calibrate). Prints facts
// that RunConsumer.cmake compares with values derived by hand.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "calibrate/fit.h"
#include "kernels/decode_params.h"
#include "kernels/reference/decode_reference.h"
#include "kernels/reference/numerics.h"
#include "model/dtype.h"
#include "model/hardware.h"
#include "model/presets.h"

namespace {

namespace model = attnroof::model;

void print_preset() {
  const model::Preset& p = model::find_preset("llama3_70b", "preset");
  const long long tp = 8;
  const long long elems = p.variant->kv_elems_per_token(tp);
  const long long layers = p.n_layers;
  const double bytes = double(elems) * model::bytes_of(model::Dtype::bf16) * double(layers);
  std::printf("llama3_70b: %s, %lld layers\n", p.variant->label().c_str(), layers);
  std::printf("kv elements per token per layer at TP %lld: %lld\n", tp, elems);
  std::printf("kv bytes per token at TP %lld (bf16, all layers): %.0f\n", tp, bytes);
}

void print_calibration() {
  const model::Hardware& hw = model::find_hardware("h200_sxm", "hardware");
  std::printf("h200_sxm calibration: %s\n", hw.calibration ? hw.calibration->gpu.c_str() : "none");
}

// One sequence, one head, two keys: scores 0 and ln 3 weigh the values 1/4 and 3/4, so
// o = (4,0)/4 + (0,4)*3/4 = (1, 3) and lse = ln(1 + 3) = ln 4.
void print_decode() {
  using attnroof::ref::float_to_bf16_bits;
  const std::vector<uint16_t> q = {float_to_bf16_bits(1), float_to_bf16_bits(0)};
  const std::vector<uint16_t> k = {float_to_bf16_bits(0), float_to_bf16_bits(0),
                                   float_to_bf16_bits(1), float_to_bf16_bits(0)};
  const std::vector<uint16_t> v = {float_to_bf16_bits(4), float_to_bf16_bits(0),
                                   float_to_bf16_bits(0), float_to_bf16_bits(4)};
  const std::vector<int32_t> ctx_lens = {2};
  attnroof::kernels::DecodeParams p;
  p.batch = 1;
  p.q_heads = 1;
  p.kv_heads = 1;
  p.d_qk = 2;
  p.d_v = 2;
  p.softmax_scale = static_cast<float>(std::log(3.0));
  p.q = q.data();
  p.k_cache = k.data();
  p.v_cache = v.data();
  p.ctx_lens = ctx_lens.data();
  p.max_ctx_len = 2;
  const attnroof::ref::DecodeOutput out = attnroof::ref::decode_reference(p);
  std::printf("decode_reference o: %.4f %.4f lse: %.4f\n", out.o.at(0), out.o.at(1), out.lse.at(0));
}

void print_read_ceiling() {
  std::vector<attnroof::calibrate::DecodeMeasurement> records(3);
  records[0].read_ceiling_Bps = 3e12;
  records[1].read_ceiling_Bps = 1e12;
  records[2].read_ceiling_Bps = 2e12;
  std::printf("median read ceiling: %.0f B/s\n", attnroof::calibrate::median_read_ceiling(records));
}

}  // namespace

int main() {
  print_preset();
  print_calibration();
  print_decode();
  print_read_ceiling();
}

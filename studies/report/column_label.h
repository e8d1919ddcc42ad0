// defines: ColumnLabel, column_label, AxisLabel, axis_label (readable axis labels, with a unit and an
// SI prefix, derived from the unit-suffixed column names of reports/SCHEMA.md)
//
// The rule (`attnroof plot --help` states it):
//   - The name is split at '_'. The unit is the first of s, bytes/byte, flops/flop, elems, params
//     that ends the name or is followed only by "per ..." (kv_bytes_per_token: B/token,
//     attention_flop_per_s: FLOP/s). A name with none is a count or a ratio: no unit.
//   - The words before the unit are the quantity, with abbreviations spelled out (kv: KV, tp: TP,
//     ctx: context, len: length, attn: attention, comm: communication, q: query, n: number of); a
//     leading "t" before a unit of s is "time" (t_attention_s: attention time (s)).
//   - s, B, FLOP and FLOP/s take the SI prefix that puts the largest value plotted at 1 to 999
//     (seconds only downwards: ms, µs, ns; bytes in SI kB/MB/GB, as the tables print them). A
//     ratio of two units (FLOP/byte) and counts (elements, parameters) are never prefixed.
#pragma once
#include <string>
#include <string_view>

namespace attnroof::report {

struct ColumnLabel {
  std::string quantity;  // "attention time", "KV", "context length"
  std::string unit;      // "s", "B/token", "FLOP/byte"; "" for a count or a ratio
  // Which SI prefixes the unit takes (written before it: "kB/token", "TFLOP/s", "µs").
  enum class Prefixes { none, any, downwards } prefixes = Prefixes::none;
};

ColumnLabel column_label(std::string_view column_name);

struct AxisLabel {
  std::string text;  // "attention time (µs)"
  double scale = 1;  // values are drawn times this (1e6 for µs)
};

// The label of an axis whose largest absolute value is `max_abs`; several columns on one axis
// share its unit (the caller checks) and are listed: "attention time, communication time (µs)".
AxisLabel axis_label(const ColumnLabel& first, std::string_view quantities, double max_abs);

}  // namespace attnroof::report

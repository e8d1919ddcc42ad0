// defines: the TP sharding helpers of docs/variants.md "TP rules" (integer heads, replication,
// worst device)
#pragma once
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace attnroof::model {

// Query heads split evenly and contiguously over tp devices (device r owns heads
// [r*h/tp, (r+1)*h/tp)). Returns the problems with that split: tp must divide h.
std::vector<std::string> check_head_split(int64_t q_heads, int64_t tp);

// Units (KV heads, latent blocks, tied heads) each serve `heads_per_unit` consecutive query
// heads. With query heads split as above, the most units any one device needs. This is the
// rule of docs/variants.md "TP rules": 24 q / 6 kv (4 per unit) at tp 4 gives 2, not 1.5; past the
// number of units each unit is replicated and the answer is 1. Precondition: tp and heads_per_unit
// divide q_heads (a closed form, so a huge tp costs nothing).
int64_t max_units_per_device(int64_t q_heads, int64_t heads_per_unit, int64_t tp);

// An error message lists at most this many valid TP degrees, then says how many there are.
inline constexpr std::size_t kMaxListedDegrees = 16;

// "1, 2, 4, 8" style list of the degrees among `candidates` (ascending, each a possible degree)
// for which ok(t) holds; past kMaxListedDegrees, "1, 2, ..., 32768, ... (62 in all)".
template <class Pred>
std::string valid_degrees(Pred ok, std::span<const int64_t> candidates) {
  std::string out;
  std::size_t n = 0;
  for (int64_t t : candidates) {
    if (!ok(t)) continue;
    if (++n <= kMaxListedDegrees) out += (out.empty() ? "" : ", ") + std::to_string(t);
  }
  if (n > kMaxListedDegrees) out += ", ... (" + std::to_string(n) + " in all)";
  return out;
}

}  // namespace attnroof::model

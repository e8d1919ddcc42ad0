// defines: the TP sharding helpers of variants.md §1 (integer heads, replication, worst device)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace attnroof::model {

// Query heads split evenly and contiguously over tp devices (device r owns heads
// [r*h/tp, (r+1)*h/tp)). Returns the problems with that split: tp must divide h.
std::vector<std::string> check_head_split(int64_t q_heads, int64_t tp);

// Units (KV heads, latent blocks, tied heads) each serve `heads_per_unit` consecutive query
// heads. With query heads split as above, the most units any one device needs. This is the
// variants.md §2.2 ‡ rule: 24 q / 6 kv (4 per unit) at tp 4 gives 2, not 1.5; past the number of
// units each unit is replicated and the answer is 1.
int64_t max_units_per_device(int64_t q_heads, int64_t heads_per_unit, int64_t tp);

// "1, 2, 4, 8" style list of the degrees in `candidates` for which ok(t) holds.
template <class Pred>
std::string valid_degrees(Pred ok, int64_t max_degree = 1024) {
  std::string out;
  for (int64_t t = 1; t <= max_degree; ++t) {
    if (ok(t)) out += (out.empty() ? "" : ", ") + std::to_string(t);
  }
  return out;
}

}  // namespace attnroof::model

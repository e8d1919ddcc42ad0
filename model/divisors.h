// defines: divisors (every divisor of a 64-bit integer, found by factoring it)
#pragma once
#include <cstdint>
#include <vector>

namespace attnroof::model {

// The positive divisors of n >= 1, ascending; empty for n < 1. n is factored (trial division by
// small primes, then Pollard's rho with a deterministic Miller-Rabin test), so the time does not
// grow with n: a prime near 2^63 takes microseconds, where counting to sqrt(n) would take
// minutes. No 64-bit integer has more than 103680 divisors.
std::vector<int64_t> divisors(int64_t n);

}  // namespace attnroof::model

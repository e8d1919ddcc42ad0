#include "model/divisors.h"

#include <algorithm>
#include <numeric>

namespace attnroof::model {

namespace {

__extension__ using u128 = unsigned __int128;  // GCC/Clang: products of two 64-bit residues

uint64_t mul_mod(uint64_t a, uint64_t b, uint64_t m) { return uint64_t(u128(a) * b % m); }

uint64_t pow_mod(uint64_t base, uint64_t exp, uint64_t m) {
  uint64_t result = 1;
  base %= m;
  for (; exp > 0; exp >>= 1) {
    if (exp & 1) result = mul_mod(result, base, m);
    base = mul_mod(base, base, m);
  }
  return result;
}

// Miller-Rabin with the first 12 primes as witnesses: exact for every n < 3.3e24 (so for every
// 64-bit n).
bool is_prime(uint64_t n) {
  constexpr uint64_t kWitnesses[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
  if (n < 2) return false;
  for (uint64_t p : kWitnesses) {
    if (n % p == 0) return n == p;
  }
  uint64_t d = n - 1;
  int s = 0;
  for (; d % 2 == 0; d /= 2) ++s;
  for (uint64_t a : kWitnesses) {
    uint64_t x = pow_mod(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int r = 1; r < s && composite; ++r) {
      x = mul_mod(x, x, n);
      composite = x != n - 1;
    }
    if (composite) return false;
  }
  return true;
}

// A non-trivial factor of an odd composite n (Pollard's rho, Floyd's cycle finding; a failed
// walk retries with the next polynomial x^2 + c).
uint64_t rho_factor(uint64_t n) {
  for (uint64_t c = 1;; ++c) {
    const auto step = [&](uint64_t x) { return (mul_mod(x, x, n) + c) % n; };
    uint64_t slow = 2, fast = 2, d = 1;
    while (d == 1) {
      slow = step(slow);
      fast = step(step(fast));
      d = std::gcd(slow > fast ? slow - fast : fast - slow, n);
    }
    if (d != n) return d;
  }
}

void add_prime_factors(uint64_t n, std::vector<uint64_t>& primes) {
  if (n == 1) return;
  if (is_prime(n)) {
    primes.push_back(n);
    return;
  }
  const uint64_t d = rho_factor(n);
  add_prime_factors(d, primes);
  add_prime_factors(n / d, primes);
}

}  // namespace

std::vector<int64_t> divisors(int64_t n) {
  if (n < 1) return {};
  uint64_t rest = uint64_t(n);
  std::vector<uint64_t> primes;  // with multiplicity
  // Small factors by trial division: faster than rho, and it leaves rho an odd cofactor.
  constexpr uint64_t kTrialLimit = 1000;
  for (uint64_t p = 2; p < kTrialLimit && p * p <= rest; ++p) {
    for (; rest % p == 0; rest /= p) primes.push_back(p);
  }
  add_prime_factors(rest, primes);
  std::sort(primes.begin(), primes.end());

  std::vector<int64_t> out = {1};
  for (std::size_t i = 0; i < primes.size();) {
    const uint64_t p = primes[i];
    std::size_t multiplicity = 0;
    for (; i < primes.size() && primes[i] == p; ++i) ++multiplicity;
    const std::size_t before = out.size();
    uint64_t power = 1;
    for (std::size_t k = 0; k < multiplicity; ++k) {
      power *= p;  // divides n, so it fits
      for (std::size_t j = 0; j < before; ++j) out.push_back(int64_t(uint64_t(out[j]) * power));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace attnroof::model

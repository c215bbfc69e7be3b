// Portable distributions over std::mt19937_64 (see random.hpp for why not std:: distributions).
#include "platforms/availability/random.hpp"

#include <cmath>

namespace frugal::platforms {

std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t stream_seed(std::uint64_t study_seed, std::int64_t key, std::string_view stream) {
  return mix64(mix64(mix64(study_seed) ^ fnv1a64(stream)) ^ static_cast<std::uint64_t>(key));
}

double Rng::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

double Rng::exponential(double mean) { return -mean * std::log1p(-uniform()); }

double Rng::weibull(double shape, double scale) {
  return scale * std::pow(-std::log1p(-uniform()), 1.0 / shape);
}

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

std::int64_t Rng::integer(std::int64_t lo, std::int64_t hi) {
  const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span == ~0ULL) return static_cast<std::int64_t>(engine_());
  const std::uint64_t n = span + 1;
  // Largest multiple of n that fits: draws at or above it are rejected so every value is equally likely.
  const std::uint64_t limit = (~0ULL / n) * n;
  std::uint64_t x = engine_();
  while (x >= limit) x = engine_();
  return lo + static_cast<std::int64_t>(x % n);
}

}  // namespace frugal::platforms

// Portable seeded randomness for availability models: the same seed gives the same numbers with
// every compiler and standard library. std::mt19937_64 is fully specified by the standard, the
// std:: distributions are not, so every distribution here is written out from uniform draws.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>

namespace frugal::platforms {

/// SplitMix64 finalizer (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014): a bijection on 64-bit words that spreads every input bit over the output.
std::uint64_t mix64(std::uint64_t z);

/// FNV-1a 64-bit hash of a name (stable across platforms, unlike std::hash).
std::uint64_t fnv1a64(std::string_view text);

/// Seed of one random stream: `mix64(mix64(mix64(study_seed) ^ fnv1a64(stream)) ^ key)`, where
/// `stream` names the model (impl name, "/label" when labelled, plus a suffix for a second
/// stream of the same model) and `key` is the node id (or group index) as a 64-bit word.
/// Streams of different nodes are independent, so a node's events do not depend on which
/// other nodes are simulated.
std::uint64_t stream_seed(std::uint64_t study_seed, std::int64_t key, std::string_view stream);

/// A random stream: std::mt19937_64 plus hand-written distributions.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  Rng(std::uint64_t study_seed, std::int64_t key, std::string_view stream)
      : engine_(stream_seed(study_seed, key, stream)) {}

  /// Uniform on [0, 1) with 53 random bits.
  double uniform();
  /// Exponential with the given mean (> 0): −mean·ln(1 − U).
  double exponential(double mean);
  /// Weibull with shape k > 0 and scale λ > 0, by inversion: λ·(−ln(1 − U))^(1/k).
  double weibull(double shape, double scale);
  /// Uniform on [lo, hi] (lo ≤ hi): lo + (hi − lo)·U.
  double uniform(double lo, double hi);
  /// Uniform integer in [lo, hi] (inclusive, lo ≤ hi), unbiased (rejection on 64-bit words).
  std::int64_t integer(std::int64_t lo, std::int64_t hi);

 private:
  std::mt19937_64 engine_;
};

}  // namespace frugal::platforms

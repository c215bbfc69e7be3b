// Splitting a global batch over data-parallel replicas: equally, or proportionally to each
// replica's speed so that fast GPUs do not wait for slow ones. Pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace frugal::policies {

/// Samples per replica proportional to `speeds` (largest-remainder rounding, ties to the lower
/// index), each at least `min_samples`. Sum is exactly `total`.
/// Throws std::invalid_argument if total < min_samples × replicas or a speed is not positive.
std::vector<std::int64_t> split_proportional(std::int64_t total, const std::vector<double>& speeds,
                                             std::int64_t min_samples = 1);

/// `samples` cut into micro-batches of `micro_batch_size`, the last one possibly smaller.
std::vector<std::int64_t> micro_batches_of(std::int64_t samples, std::int64_t micro_batch_size);

}  // namespace frugal::policies

// Splitting a global batch over data-parallel replicas: equally, or proportionally to each
// replica's speed so that fast GPUs do not wait for slow ones, then into micro-batches. Pure
// functions of plain numbers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace frugal::policies {

/// Samples per replica proportional to `speeds` (largest-remainder rounding, ties to the lower
/// index), each at least `min_samples`. Sum is exactly `total`.
/// Throws std::invalid_argument if total < min_samples × replicas or a speed is not positive.
std::vector<std::int64_t> split_proportional(std::int64_t total, const std::vector<double>& speeds,
                                             std::int64_t min_samples = 1);

/// `samples` cut into micro-batches of `micro_batch_size`, the last one possibly smaller:
/// floor(samples / micro_batch_size) full micro-batches, then one of the remainder if any.
std::vector<std::int64_t> micro_batches_of(std::int64_t samples, std::int64_t micro_batch_size);

/// Samples per data-parallel replica for a split by replica speed that honours the micro-batch
/// size: split_proportional with at least one full micro-batch (`micro_batch_size` samples) per
/// replica, so micro_batches_of() then gives each replica its share / micro_batch_size
/// micro-batches of micro_batch_size (plus one remainder micro-batch where the share is not a
/// multiple). Throws core::ConfigError at /training/micro_batch_size when global_batch_size <
/// micro_batch_size × replicas, with the arithmetic; `replicas_note` (e.g. " (d = GPUs 32 / (t 2
/// × p 2))") says where the replica count comes from. Throws std::invalid_argument for a speed
/// that is not positive.
std::vector<std::int64_t> split_by_speed(std::int64_t global_batch_size, std::int64_t micro_batch_size,
                                         const std::vector<double>& speeds, const std::string& replicas_note = "");

/// Bounds on what one simulation process lowers: at most kMaxLayerPasses micro-batch × layer
/// passes per replica (the lowered program grows with them) and kMaxPlannedMicroBatches
/// micro-batches listed over all ranks (the plan's lists).
inline constexpr std::int64_t kMaxLayerPasses = std::int64_t{1} << 24;
inline constexpr std::int64_t kMaxPlannedMicroBatches = std::int64_t{1} << 26;

/// Checked before a policy lists any rank's micro-batches: `samples` per data-parallel replica,
/// each replica spanning `ranks_per_replica` ranks, through a chain of `chain_layers` layers.
/// Throws core::ConfigError at /training/global_batch_size with the counts and what lowers them
/// (larger micro-batches, more replicas) beyond either bound: the study is infeasible to
/// simulate, a result rather than a process that swaps to death.
void check_schedule_size(const std::vector<std::int64_t>& samples, std::int64_t micro_batch_size,
                         std::int64_t ranks_per_replica, std::int64_t chain_layers);

}  // namespace frugal::policies

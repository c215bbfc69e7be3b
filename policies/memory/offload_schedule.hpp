// Combined rematerialization and offloading of a chain's activations: which stages keep
// everything their backward needs in host memory (copied out after the forward, prefetched back
// before the backward, remat_schedule.hpp's kHost) and the optimal rematerialization schedule of
// the others around them. Plain data, no SimGrid.
//
// The heuristic (remat_offload_schedule): for every count k of offloaded stages, two sets — the
// k spread evenly over the chain's offloadable stages and the first k — each within the host
// capacity; for each set, the optimal
// rematerialization schedule of the remaining memory (optimal_schedule with the set offloaded);
// each schedule timed with its copies (evaluate at the link's bandwidth); the fastest kept; on
// chains of up to 32 stages, then a local search (one stage in or out of the set, or swapped with
// a candidate one or two places on, while the time drops, at most 4 passes).
// Its gap to the best offload set (best_offload_set_schedule, every subset) is measured by
// tests/unit/offload_schedule_test.cpp and tests/benchmarks/remat_bench.cpp. Both answer within
// the class "a set of stages offloaded whole, the rest rematerialized optimally for memory"; a
// schedule that also offloads checkpoints or chooses replays for the copies' timing (Beaumont,
// Eyraud-Dubois, Shilova 2021) can be faster still.
#pragma once

#include <vector>

#include "policies/memory/remat_schedule.hpp"

namespace frugal::policies {

/// The heuristic above: time_s is evaluate()'s (compute and copy waits). Infeasible when no
/// schedule fits the budget even with offloading. Long chains (over 32 stages) try at most 17
/// counts and rank the sets at 100 slots, the best solved again at `slots`, without local search.
/// Contract: optimal_schedule's, and host.bandwidth_Bps > 0.
OptimalSchedule remat_offload_schedule(const std::vector<ChainStage>& stages, double budget_bytes, int slots,
                                       const HostLink& host);

/// The best of every set of offloaded stages (2^n dynamic programs), by evaluate()'s time:
/// the optimum of the class the heuristic searches. Contract: as above, at most 16 stages.
OptimalSchedule best_offload_set_schedule(const std::vector<ChainStage>& stages, double budget_bytes, int slots,
                                          const HostLink& host);

}  // namespace frugal::policies

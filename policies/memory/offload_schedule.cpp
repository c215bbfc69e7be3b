// Combined rematerialization and offloading: the candidate offload sets, each set's optimal
// rematerialization schedule, and the exhaustive search the heuristic is measured against.
#include "policies/memory/offload_schedule.hpp"

#include <algorithm>
#include <stdexcept>

namespace frugal::policies {
namespace {

constexpr int kExactStages = 32;   ///< up to here every count is tried at the full granularity
constexpr int kCounts = 17;        ///< counts tried on longer chains
constexpr int kRankingSlots = 100;  ///< their granularity while ranking
constexpr int kLocalPasses = 4;     ///< passes of the local search (short chains)

/// The set's optimal schedule timed with its copies; infeasible when it does not fit (or the
/// set overfills the host).
OptimalSchedule with_offloaded(const std::vector<ChainStage>& stages, double budget_bytes, int slots, const HostLink& host,
                               const std::vector<bool>& offloaded) {
  double host_bytes = 0;
  for (std::size_t i = 0; i < stages.size(); ++i)
    if (offloaded[i]) host_bytes += stages[i].all_bytes;
  OptimalSchedule s;
  s.min_budget_bytes = least_memory_bytes(stages);
  if (host_bytes > host.capacity_bytes) return s;
  s = optimal_schedule(stages, budget_bytes, slots, offloaded);
  if (s.feasible) s.time_s = evaluate(stages, s.ops, host).time_s;
  return s;
}

/// Keeps `candidate` when it is feasible and faster than `best`; returns whether it did.
bool keep_faster(OptimalSchedule& best, OptimalSchedule candidate) {
  if (!candidate.feasible || (best.feasible && !(candidate.time_s < best.time_s))) return false;
  best = std::move(candidate);
  return true;
}

void check(const std::vector<ChainStage>& stages, const HostLink& host) {
  if (stages.empty() || !(host.bandwidth_Bps > 0))
    throw std::invalid_argument("remat_offload_schedule: needs stages and a positive host bandwidth");
}

/// The stages a set may offload (the last one too: its copies are exposed, but with the others
/// offloaded the device may then hold only the copies' buffers).
std::vector<std::size_t> offload_candidates(const std::vector<ChainStage>& stages) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < stages.size(); ++i)
    if (stages[i].offloadable) out.push_back(i);
  return out;
}

}  // namespace

OptimalSchedule remat_offload_schedule(const std::vector<ChainStage>& stages, double budget_bytes, int slots,
                                       const HostLink& host) {
  check(stages, host);
  const int n = static_cast<int>(stages.size());
  const std::vector<std::size_t> candidates = offload_candidates(stages);
  const long c = static_cast<long>(candidates.size());
  std::vector<long> counts;
  if (n <= kExactStages) {
    for (long k = 0; k <= c; ++k) counts.push_back(k);
  } else {
    for (long j = 0; j < kCounts; ++j) counts.push_back(c * j / (kCounts - 1));
  }
  const int ranking_slots = n <= kExactStages ? slots : std::min(slots, kRankingSlots);
  OptimalSchedule best;
  std::vector<bool> best_set;
  for (const long k : counts) {
    std::vector<bool> spread(static_cast<std::size_t>(n), false), first(static_cast<std::size_t>(n), false);
    for (long j = 0; j < k; ++j) {
      spread[candidates[static_cast<std::size_t>((2 * j + 1) * c / (2 * k))]] = true;
      first[candidates[static_cast<std::size_t>(j)]] = true;
    }
    for (const auto* set : {&spread, &first}) {
      if (keep_faster(best, with_offloaded(stages, budget_bytes, ranking_slots, host, *set))) best_set = *set;
      if (k == 0) break;  // both sets are empty
    }
  }
  // Local search on short chains: one stage in or out of the set at a time while it gains.
  for (int pass = 0; n <= kExactStages && best.feasible && pass < kLocalPasses; ++pass) {
    bool improved = false;
    auto attempt = [&](std::vector<bool> set) {
      OptimalSchedule s = with_offloaded(stages, budget_bytes, slots, host, set);
      if (s.feasible && s.time_s < best.time_s * (1 - 1e-12)) best = std::move(s), best_set = std::move(set), improved = true;
    };
    for (std::size_t j = 0; j < candidates.size(); ++j) {
      std::vector<bool> set = best_set;
      set[candidates[j]] = !set[candidates[j]];
      attempt(std::move(set));
      // Or the stage's place taken by a neighbouring candidate (a move the toggles cannot make
      // when the memory allows no more and the time no fewer).
      for (const std::size_t d : {1u, 2u}) {
        if (j + d >= candidates.size() || best_set[candidates[j]] == best_set[candidates[j + d]]) continue;
        set = best_set;
        set[candidates[j]] = !set[candidates[j]];
        set[candidates[j + d]] = !set[candidates[j + d]];
        attempt(std::move(set));
      }
    }
    if (!improved) break;
  }
  if (ranking_slots != slots && best.feasible) {
    OptimalSchedule fine = with_offloaded(stages, budget_bytes, slots, host, best_set);
    if (fine.feasible) best = std::move(fine);
  }
  best.min_budget_bytes = least_memory_bytes(stages);
  return best;
}

OptimalSchedule best_offload_set_schedule(const std::vector<ChainStage>& stages, double budget_bytes, int slots,
                                          const HostLink& host) {
  check(stages, host);
  const int n = static_cast<int>(stages.size());
  if (n > 16) throw std::invalid_argument("best_offload_set_schedule: at most 16 stages");
  const std::vector<std::size_t> candidates = offload_candidates(stages);
  OptimalSchedule best;
  for (unsigned mask = 0; mask < (1u << candidates.size()); ++mask) {
    std::vector<bool> set(static_cast<std::size_t>(n), false);
    for (std::size_t j = 0; j < candidates.size(); ++j) set[candidates[j]] = (mask >> j) & 1u;
    keep_faster(best, with_offloaded(stages, budget_bytes, slots, host, set));
  }
  best.min_budget_bytes = least_memory_bytes(stages);
  return best;
}

}  // namespace frugal::policies

// Rematerialization schedules: the dynamic program against exhaustive search over every op
// sequence on small chains, the closed forms of the uniform schedules, and the replay's rules.
#include "policies/memory/remat_schedule.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <queue>
#include <random>
#include <unordered_map>

namespace frugal::policies {
namespace {

/// Exhaustive search: Dijkstra over every state the replay model allows (what each stage keeps,
/// which x is transient, which backward is next), every forward (any keep) and backward from
/// each, stored bytes ≤ budget after every op. Returns the least time, or -1 when none fits.
double exhaustive_time(const std::vector<ChainStage>& stages, double budget) {
  const int n = static_cast<int>(stages.size());
  // A state packed in an integer: 2 bits of kept level per stage, then transient + 1, next + 1.
  auto level = [](std::uint64_t s, int i) { return static_cast<int>((s >> (2 * i)) & 3u); };
  auto with_level = [](std::uint64_t s, int i, int l) { return (s & ~(std::uint64_t{3} << (2 * i))) | (std::uint64_t(l) << (2 * i)); };
  auto pack = [&](std::uint64_t kept, int transient, int next) {
    return kept | (std::uint64_t(transient + 1) << 40) | (std::uint64_t(next + 1) << 50);
  };
  auto bytes = [&](std::uint64_t kept) {
    double b = 0;
    for (int i = 0; i < n; ++i) b += level(kept, i) == 2 ? stages[i].all_bytes : level(kept, i) == 1 ? stages[i].input_bytes : 0.0;
    return b;
  };
  std::unordered_map<std::uint64_t, double> best;
  using Item = std::pair<double, std::uint64_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
  const std::uint64_t start = pack(0, 0, n - 1);
  best[start] = 0;
  queue.push({0.0, start});
  auto relax = [&](std::uint64_t s, double t) {
    auto it = best.find(s);
    if (it == best.end() || t < it->second) {
      best[s] = t;
      queue.push({t, s});
    }
  };
  while (!queue.empty()) {
    const auto [time, state] = queue.top();
    queue.pop();
    if (best[state] < time) continue;
    const std::uint64_t kept = state & ((std::uint64_t{1} << 40) - 1);
    const int transient = static_cast<int>((state >> 40) & 1023u) - 1, next = static_cast<int>(state >> 50) - 1;
    if (next < 0) return time;
    for (int i = 0; i <= next; ++i) {
      if (transient != i && level(kept, i) == 0) continue;
      for (int l = level(kept, i); l <= 2; ++l) {
        const std::uint64_t k = with_level(kept, i, l);
        if (bytes(k) > budget) continue;
        relax(pack(k, i + 1, next), time + stages[i].forward_s);
      }
    }
    if (level(kept, next) == 2) relax(pack(with_level(kept, next, 0), -1, next - 1), time + stages[next].backward_s);
  }
  return -1;
}

std::vector<ChainStage> random_chain(std::mt19937& rng, int n) {
  std::uniform_int_distribution<int> small(1, 3), extra(0, 4), f(1, 5), b(1, 9);
  std::vector<ChainStage> stages;
  for (int i = 0; i < n; ++i) {
    const double in = small(rng);
    stages.push_back({static_cast<double>(f(rng)), static_cast<double>(b(rng)), in, in + extra(rng)});
  }
  return stages;
}

double total_bytes(const std::vector<ChainStage>& stages) {
  double all = 0;
  for (const auto& s : stages) all += s.all_bytes;
  return all;
}

TEST(RematSchedule, OptimalEqualsExhaustiveSearchOnChainsUpToEightStages) {
  // Integer sizes with one slot per byte: the program is exact, so times agree exactly.
  std::mt19937 rng(20241);
  int compared = 0, recomputing = 0;
  for (int n = 1; n <= 8; ++n) {
    for (int chain = 0; chain < (n <= 4 ? 6 : n <= 7 ? 2 : 1); ++chain) {
      const auto stages = random_chain(rng, n);
      for (int budget = 1; budget <= static_cast<int>(total_bytes(stages)) + 1; ++budget) {
        const double exhaustive = exhaustive_time(stages, budget);
        const OptimalSchedule opt = optimal_schedule(stages, budget, budget);
        ASSERT_EQ(opt.feasible, exhaustive >= 0) << "n " << n << " budget " << budget;
        EXPECT_EQ(opt.min_budget_bytes <= budget, exhaustive >= 0) << "n " << n << " budget " << budget;
        if (!opt.feasible) continue;
        EXPECT_DOUBLE_EQ(opt.time_s, exhaustive) << "n " << n << " budget " << budget;
        const ScheduleCost c = evaluate(stages, opt.ops);
        ASSERT_TRUE(c.valid) << c.error;
        EXPECT_DOUBLE_EQ(c.time_s, opt.time_s);
        EXPECT_LE(c.peak_bytes, budget);
        ++compared;
        if (c.recompute_s > 0) ++recomputing;
      }
    }
  }
  EXPECT_GT(compared, 150);
  EXPECT_GT(recomputing, 50);  // the budgets exercise recomputation, not only keep-all
}

TEST(RematSchedule, AmpleBudgetKeepsEverythingAndTightBudgetsNeverExceedIt) {
  std::mt19937 rng(7);
  const auto stages = random_chain(rng, 40);
  double f = 0, b = 0;
  for (const auto& s : stages) f += s.forward_s, b += s.backward_s;
  const OptimalSchedule ample = optimal_schedule(stages, total_bytes(stages) * 1.1, 4000);  // sizes rounded up to slots
  ASSERT_TRUE(ample.feasible);
  EXPECT_DOUBLE_EQ(ample.time_s, f + b);
  EXPECT_EQ(evaluate(stages, ample.ops).recompute_s, 0.0);
  // Coarse granularity on real-valued sizes: the schedule still fits the exact budget, and is
  // never slower than checkpointing every stage when that fits too.
  const ScheduleCost every = evaluate(stages, every_k_schedule(40, 1));
  for (double budget : {every.peak_bytes * 1.05, every.peak_bytes * 1.5, every.peak_bytes * 2.5}) {
    const OptimalSchedule opt = optimal_schedule(stages, budget, 2000);
    ASSERT_TRUE(opt.feasible) << budget;
    const ScheduleCost c = evaluate(stages, opt.ops);
    ASSERT_TRUE(c.valid) << c.error;
    EXPECT_LE(c.peak_bytes, budget);
    EXPECT_LE(c.time_s, every.time_s + 1e-9);
  }
}

TEST(RematSchedule, UniformSchedulesHaveTheirClosedForms) {
  const std::vector<ChainStage> stages(6, ChainStage{1.0, 2.0, 2.0, 34.0});
  const ScheduleCost all = evaluate(stages, keep_all_schedule(6));
  ASSERT_TRUE(all.valid) << all.error;
  EXPECT_DOUBLE_EQ(all.time_s, 18.0);
  EXPECT_DOUBLE_EQ(all.peak_bytes, 6 * 34.0);
  // Every stage keeps its input and replays itself: one extra forward each; the peak is the
  // inputs plus one stage's activations during the last backward's replay.
  const ScheduleCost full = evaluate(stages, every_k_schedule(6, 1));
  ASSERT_TRUE(full.valid) << full.error;
  EXPECT_DOUBLE_EQ(full.recompute_s, 6.0);
  EXPECT_DOUBLE_EQ(full.peak_bytes, 6 * 2.0 + 32.0);
  // Segments of 3: two checkpoints, a segment's activations at once.
  const ScheduleCost k3 = evaluate(stages, every_k_schedule(6, 3));
  ASSERT_TRUE(k3.valid) << k3.error;
  EXPECT_DOUBLE_EQ(k3.recompute_s, 6.0);
  EXPECT_DOUBLE_EQ(k3.peak_bytes, 2.0 + 3 * 34.0);
  // The least any schedule stores: the chain's input and the largest stage's activations.
  const OptimalSchedule least = optimal_schedule(stages, 36.0, 18);
  ASSERT_TRUE(least.feasible);
  EXPECT_DOUBLE_EQ(least.min_budget_bytes, 36.0);
  EXPECT_LE(evaluate(stages, least.ops).peak_bytes, 36.0);
  EXPECT_FALSE(optimal_schedule(stages, 35.0, 35).feasible);
  const ScheduleCost least_memory = evaluate(stages, least_memory_schedule(6));
  ASSERT_TRUE(least_memory.valid) << least_memory.error;
  EXPECT_DOUBLE_EQ(least_memory.peak_bytes, 36.0);
  EXPECT_DOUBLE_EQ(least_memory.recompute_s, 5 + 4 + 3 + 2 + 1.0);  // the pass ending at stage i < 5 replays 0 … i
}

TEST(RematSchedule, StepsSplitTheForwardPassFromTheReplays) {
  const ScheduleSteps steps = schedule_steps(every_k_schedule(6, 3), 6);
  EXPECT_EQ(steps.first_forward, (std::vector<Keep>{Keep::kInput, Keep::kNothing, Keep::kNothing, Keep::kInput,
                                                    Keep::kNothing, Keep::kNothing}));
  EXPECT_EQ(steps.before_backward[5], (std::vector<RematOp>{{3, false, Keep::kAll}, {4, false, Keep::kAll}, {5, false, Keep::kAll}}));
  EXPECT_EQ(steps.before_backward[2], (std::vector<RematOp>{{0, false, Keep::kAll}, {1, false, Keep::kAll}, {2, false, Keep::kAll}}));
  for (int i : {0, 1, 3, 4}) EXPECT_TRUE(steps.before_backward[static_cast<std::size_t>(i)].empty()) << i;
  EXPECT_THROW(schedule_steps({{1, false, Keep::kAll}, {0, false, Keep::kAll}, {1, true}, {0, true}}, 2), std::invalid_argument);
}

TEST(RematSchedule, DeferringAKeepAllTradesAReplayForLessHeldWhileWaiting) {
  const std::vector<ChainStage> stages(3, ChainStage{1.0, 2.0, 2.0, 10.0});
  const ScheduleCost all = evaluate(stages, keep_all_schedule(3));
  const ScheduleCost deferred = evaluate(stages, defer_keep_all(keep_all_schedule(3), 2));
  ASSERT_TRUE(deferred.valid) << deferred.error;
  EXPECT_DOUBLE_EQ(all.forward_bytes, 30.0);
  EXPECT_DOUBLE_EQ(deferred.forward_bytes, 22.0);
  EXPECT_DOUBLE_EQ(deferred.peak_bytes, all.peak_bytes);
  EXPECT_DOUBLE_EQ(deferred.recompute_s, 1.0);
  EXPECT_THROW(defer_keep_all(every_k_schedule(3, 1), 1), std::invalid_argument);
}

TEST(RematSchedule, ReplayRejectsBrokenSchedules) {
  const std::vector<ChainStage> stages(2, ChainStage{1.0, 2.0, 1.0, 3.0});
  EXPECT_NE(evaluate(stages, {{0, false, Keep::kNothing}, {1, false, Keep::kAll}, {1, true}, {0, true}}).error.find("without its activations"),
            std::string::npos);
  EXPECT_NE(evaluate(stages, {{0, false, Keep::kAll}, {0, true}}).error.find("out of order"), std::string::npos);
  EXPECT_NE(evaluate(stages, {{0, false, Keep::kNothing}, {1, false, Keep::kAll}, {1, true}, {0, false, Keep::kAll}}).error.find(
                "without its input"),
            std::string::npos);
  EXPECT_NE(evaluate(stages, {{0, false, Keep::kAll}, {1, false, Keep::kAll}, {1, true}}).error.find("no backward"), std::string::npos);
}

}  // namespace
}  // namespace frugal::policies

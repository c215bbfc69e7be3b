// Rematerialization schedules: the dynamic program against exhaustive search over every op
// sequence on small chains, the closed forms of the uniform schedules, and the replay's rules.
#include "policies/memory/remat_schedule.hpp"

#include "policies/memory/offload_schedule.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <set>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <queue>
#include <random>
#include <unordered_map>

namespace frugal::policies {
namespace {

/// Exhaustive search: Dijkstra over every state the replay model allows (what each stage keeps,
/// which x is transient, which backward is next), every forward (any keep) and backward from
/// each, stored bytes ≤ budget after every op. The `offloaded` stages keep kHost (level 3: no
/// device bytes, never forwarded again). Returns the least time, or -1 when none fits.
double exhaustive_time(const std::vector<ChainStage>& stages, double budget, const std::vector<bool>& offloaded = {}) {
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
      const bool host = static_cast<std::size_t>(i) < offloaded.size() && offloaded[static_cast<std::size_t>(i)];
      if (level(kept, i) == 3) continue;  // in host memory: forwarded once
      for (int l = host ? 3 : level(kept, i); l <= (host ? 3 : 2); ++l) {
        const std::uint64_t k = with_level(kept, i, l);
        if (bytes(k) > budget) continue;
        relax(pack(k, i + 1, next), time + stages[i].forward_s);
      }
    }
    if (level(kept, next) >= 2) relax(pack(with_level(kept, next, 0), -1, next - 1), time + stages[next].backward_s);
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

/// The combined optimum: depth-first search over every op sequence of the replay model with host
/// keeps (any forward keeps nothing, its input, all, or — its stage's first forward — everything
/// in host memory), each complete schedule timed by evaluate() with its copies over `host` and
/// kept when its peak (offload reserve included) fits `budget`. Branch and bound on the compute
/// time from `bound` (a known schedule's time: only faster ones are looked for); a state seen on
/// the current path is not entered again. Returns the least time found, `bound` when none is faster.
double combined_optimum_time(const std::vector<ChainStage>& stages, double budget, const HostLink& host, double bound) {
  const int n = static_cast<int>(stages.size());
  double best = bound * (1 + 1e-12);
  std::vector<RematOp> ops;
  std::vector<int> level(static_cast<std::size_t>(n), 0);  // 0 nothing, 1 input, 2 all, 3 host
  std::vector<bool> forwarded(static_cast<std::size_t>(n), false);
  std::set<std::vector<int>> on_path;
  auto device_bytes = [&] {
    double b = 0;
    for (int i = 0; i < n; ++i)
      b += level[i] == 2 ? stages[i].all_bytes : level[i] == 1 ? stages[i].input_bytes : 0.0;
    return b;
  };
  std::function<void(int, int, double)> search = [&](int transient, int next, double compute_s) {
    if (compute_s >= best) return;
    if (next < 0) {
      const ScheduleCost c = evaluate(stages, ops, host);
      if (c.valid && c.peak_bytes <= budget * (1 + 1e-12)) best = std::min(best, c.time_s);
      return;
    }
    std::vector<int> state(level);
    state.push_back(transient);
    state.push_back(next);
    for (int i = 0; i < n; ++i) state.push_back(forwarded[i] ? 1 : 0);
    if (!on_path.insert(state).second) return;
    if (level[next] >= 2) {  // the backward
      const int saved = level[next];
      level[next] = 0;
      ops.push_back({next, true, Keep::kNothing});
      search(-1, next - 1, compute_s + stages[next].backward_s);
      ops.pop_back();
      level[next] = saved;
    }
    for (int i = 0; i <= next; ++i) {
      if (level[i] == 3 || (transient != i && level[i] == 0)) continue;
      const bool first = !forwarded[i];
      for (int l = level[i]; l <= 3; ++l) {
        if (l == 3 && (!first || !stages[i].offloadable)) continue;
        const int saved = level[i];
        level[i] = std::max(level[i], l);
        if (l == 3) level[i] = 3;
        if (device_bytes() <= budget) {
          forwarded[i] = true;
          ops.push_back({i, false, l == 0 ? Keep::kNothing : l == 1 ? Keep::kInput : l == 2 ? Keep::kAll : Keep::kHost});
          search(i + 1, next, compute_s + stages[i].forward_s);
          ops.pop_back();
          forwarded[i] = !first;
        }
        level[i] = saved;
      }
    }
    on_path.erase(state);
  };
  search(0, n - 1, 0.0);
  return std::min(best, bound);
}

/// Replays the program's schedule into `c`: valid, the program's time, within the budget.
void replay(const std::vector<ChainStage>& stages, const OptimalSchedule& opt, double budget, ScheduleCost& c) {
  c = evaluate(stages, opt.ops);
  ASSERT_TRUE(c.valid) << c.error;
  EXPECT_DOUBLE_EQ(c.time_s, opt.time_s);
  EXPECT_LE(c.peak_bytes, budget);
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
        ScheduleCost c;
        ASSERT_NO_FATAL_FAILURE(replay(stages, opt, budget, c));
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

TEST(RematSchedule, OffloadedStagesKeepEverythingOnTheHostAndTheRestIsOptimal) {
  // Given which stages are offloaded, the program equals exhaustive search over the schedules
  // that forward each of them once, keeping kHost, with the reserve taken off the budget.
  std::mt19937 rng(909);
  int compared = 0, recomputing = 0;
  for (int n = 2; n <= 7; ++n) {
    for (int chain = 0; chain < 3; ++chain) {
      const auto stages = random_chain(rng, n);
      std::vector<bool> offloaded(static_cast<std::size_t>(n), false);
      for (auto&& o : offloaded) o = std::bernoulli_distribution(0.35)(rng);
      const double reserve = offload_reserve_bytes(stages, offloaded);
      for (int budget = static_cast<int>(reserve) + 1; budget <= static_cast<int>(total_bytes(stages) + reserve) + 1; ++budget) {
        const double exhaustive = exhaustive_time(stages, budget - reserve, offloaded);
        const OptimalSchedule opt = optimal_schedule(stages, budget, budget - static_cast<int>(reserve), offloaded);
        ASSERT_EQ(opt.feasible, exhaustive >= 0) << "n " << n << " budget " << budget;
        if (!opt.feasible) continue;
        EXPECT_DOUBLE_EQ(opt.time_s, exhaustive) << "n " << n << " budget " << budget;
        ScheduleCost c;
        ASSERT_NO_FATAL_FAILURE(replay(stages, opt, budget, c));
        for (int i = 0; i < n; ++i) {
          const auto forwards = std::count_if(opt.ops.begin(), opt.ops.end(), [&](const RematOp& op) { return !op.backward && op.stage == i; });
          if (offloaded[static_cast<std::size_t>(i)]) {
            EXPECT_EQ(forwards, 1) << "stage " << i;
            EXPECT_EQ(opt.ops[static_cast<std::size_t>(i)].keep, Keep::kHost);
          } else {
            EXPECT_NE(opt.ops[static_cast<std::size_t>(i)].keep, Keep::kHost);
          }
        }
        ++compared;
        if (c.recompute_s > 0) ++recomputing;
      }
    }
  }
  EXPECT_GT(compared, 100);
  EXPECT_GT(recomputing, 30);
}

TEST(RematSchedule, OffloadCopiesWaitAsTheLoweringPostsThem) {
  // Three stages (forward 1, backward 2, 10 bytes each), the first offloaded: its copy out runs
  // under the second forward, the third waits for it; its copy back is posted after the third
  // backward and runs under the second: exposed max(0, c − f) + max(0, c − b), c = 10 / β.
  const std::vector<ChainStage> stages(3, ChainStage{1.0, 2.0, 10.0, 10.0});
  const std::vector<RematOp> ops{{0, false, Keep::kHost}, {1, false, Keep::kAll}, {2, false, Keep::kAll},
                                 {2, true},                {1, true},                {0, true}};
  for (const double bandwidth : {100.0, 10.0, 5.0, 2.0}) {
    const ScheduleCost c = evaluate(stages, ops, {bandwidth});
    ASSERT_TRUE(c.valid) << c.error;
    const double copy = 10.0 / bandwidth;
    EXPECT_NEAR(c.exposed_copy_s, std::max(0.0, copy - 1.0) + std::max(0.0, copy - 2.0), 1e-12) << bandwidth;
    EXPECT_NEAR(c.time_s, 9.0 + c.exposed_copy_s, 1e-12);
    EXPECT_DOUBLE_EQ(c.offloaded_bytes, 10.0);
    EXPECT_DOUBLE_EQ(c.forward_bytes, 20.0);       // the offloaded stage holds nothing on the device
    EXPECT_DOUBLE_EQ(c.peak_bytes, 20.0 + 10.0);  // its copies' buffer beside
    // A device that runs one op at a time: both copies hold the compute.
    EXPECT_NEAR(evaluate(stages, ops, {bandwidth, 1e9, true}).exposed_copy_s, 2 * copy, 1e-12) << bandwidth;
  }
  EXPECT_NE(evaluate(stages, {{0, false, Keep::kHost}, {1, false, Keep::kAll}, {2, false, Keep::kAll}, {2, true}, {1, true},
                              {0, false, Keep::kHost}, {0, true}})
                .error.find("forwarded once"),
            std::string::npos);
  std::vector<ChainStage> pinned = stages;
  pinned[0].offloadable = false;
  EXPECT_NE(evaluate(pinned, ops).error.find("cannot keep"), std::string::npos);
}

TEST(RematSchedule, OffloadHeuristicIsWithinItsMeasuredGapOfTheBestOffloadSet) {
  // Random chains of 3–9 stages, budgets from the least memory to keeping everything, copies from
  // much faster to much slower than the compute: the heuristic is never better than the best set
  // (it is one of them), never slower than rematerialization alone, and close to the best.
  std::mt19937 rng(31);
  int compared = 0, exact = 0, offloading = 0;
  double worst = 0;
  for (int n = 3; n <= 9; ++n) {
    for (int chain = 0; chain < 4; ++chain) {
      const auto stages = random_chain(rng, n);
      const double least = least_memory_bytes(stages), all = total_bytes(stages);
      for (const double bandwidth : {0.5, 2.0, 8.0, 1e3}) {
        for (const double share : {0.2, 0.5, 0.8}) {
          const double budget = least + share * (all - least);
          const HostLink host{bandwidth, 1e9};
          const OptimalSchedule h = remat_offload_schedule(stages, budget, 400, host);
          const OptimalSchedule best = best_offload_set_schedule(stages, budget, 400, host);
          const OptimalSchedule remat = optimal_schedule(stages, budget, 400);
          ASSERT_EQ(h.feasible, best.feasible);
          if (!h.feasible) continue;
          const ScheduleCost c = evaluate(stages, h.ops, host);
          ASSERT_TRUE(c.valid) << c.error;
          EXPECT_DOUBLE_EQ(c.time_s, h.time_s);
          EXPECT_LE(c.peak_bytes, budget * (1 + 1e-12));
          EXPECT_GE(h.time_s, best.time_s - 1e-9);
          if (remat.feasible) EXPECT_LE(h.time_s, remat.time_s + 1e-9);
          worst = std::max(worst, h.time_s / best.time_s - 1);
          ++compared;
          if (h.time_s <= best.time_s + 1e-9) ++exact;
          if (c.offloaded_bytes > 0) ++offloading;
        }
      }
    }
  }
  EXPECT_GT(compared, 200);
  EXPECT_GT(offloading, compared / 4);
  EXPECT_GT(exact, compared * 9 / 10) << "of " << compared;  // measured: 324 of 336
  EXPECT_LT(worst, 0.08);                                    // measured: 4.65 %
  std::printf("offload heuristic: %d cases, %d at the best set, worst gap %.2f %%\n", compared, exact, 100 * worst);
}

TEST(RematSchedule, OffloadHeuristicAgainstTheCombinedOptimumOnShortChains) {
  // Against every schedule of the replay model with host keeps (not only whole-stage offload sets
  // with rematerialization around them): chains of 2–3 stages (4 take minutes), budgets from the
  // least memory to keeping everything, copies at 0.5 to 8 bytes per second. Measured: 108 cases,
  // every one at the optimum.
  std::mt19937 rng(77);
  int compared = 0, exact = 0;
  double worst = 0, sum = 0;
  for (int n = 2; n <= 3; ++n) {
    for (int chain = 0; chain < 6; ++chain) {
      const auto stages = random_chain(rng, n);
      const double least = least_memory_bytes(stages), all = total_bytes(stages);
      for (const double bandwidth : {0.5, 2.0, 8.0})
        for (const double share : {0.0, 0.3, 0.6}) {
          // Whole bytes and one slot per quarter byte: the dynamic program is exact.
          const double budget = std::round(least + share * (all - least));
          const HostLink host{bandwidth, 1e9};
          const OptimalSchedule h = remat_offload_schedule(stages, budget, static_cast<int>(4 * budget), host);
          if (!h.feasible) continue;
          const double optimum = combined_optimum_time(stages, budget, host, h.time_s);
          const double gap = h.time_s / optimum - 1;

          worst = std::max(worst, gap), sum += gap, ++compared;
          if (gap <= 1e-9) ++exact;
        }
    }
  }
  std::printf("offload heuristic vs combined optimum: %d cases, %d at the optimum, mean gap %.2f %%, worst %.2f %%\n",
              compared, exact, 100 * sum / std::max(compared, 1), 100 * worst);
  EXPECT_GT(compared, 100);
  EXPECT_GE(exact, compared * 95 / 100);
  EXPECT_LT(worst, 0.05);
}

TEST(RematSchedule, OffloadWithAmpleLinkKeepsTheIterationOfKeepingEverything) {
  // A budget that keeps a third of the chain: rematerialization alone replays; with a link far
  // faster than the compute, offloading everything but the last stage costs no time; without
  // host memory nothing is offloaded.
  const std::vector<ChainStage> stages(8, ChainStage{1.0, 2.0, 2.0, 30.0});
  const double budget = 90.0;
  const OptimalSchedule remat = optimal_schedule(stages, budget, 450);
  ASSERT_TRUE(remat.feasible);
  EXPECT_GT(remat.time_s, 24.0 + 1);
  const OptimalSchedule off = remat_offload_schedule(stages, budget, 450, HostLink{1e6, 1e9});
  ASSERT_TRUE(off.feasible);
  EXPECT_NEAR(off.time_s, 24.0, 1e-3);
  const OptimalSchedule no_host = remat_offload_schedule(stages, budget, 450, HostLink{1e6, 0.0});
  EXPECT_DOUBLE_EQ(no_host.time_s, remat.time_s);
}

}  // namespace
}  // namespace frugal::policies

// Checkpoint policies driven by a hand-advanced clock (gem5 replacement-policy test style): the
// test plays the engine, advancing Progress iteration by iteration and recording checkpoints.
#include <gtest/gtest.h>

#include <cmath>

#include "platforms/availability/random.hpp"
#include "policies/resilience/checkpoint_math.hpp"
#include "policies/resilience/resilience_policy.hpp"

namespace frugal::policies {
namespace {

using core::Json;

std::unique_ptr<CheckpointPolicy> make(const std::string& json) {
  return read_checkpoint_policy(Json::parse(json), "study.json", "/resilience/checkpoint");
}

/// The engine, by hand: iterations of `iteration_s`, checkpoints completing instantly (their
/// cost is what Progress says, not simulated here).
struct Clock {
  Progress p;
  ClusterView c;
  std::vector<std::pair<std::int64_t, CheckpointAction>> writes;

  explicit Clock(double iteration_s, double checkpoint_s = 60, double mtbf_s = 86400) {
    p.iteration_time_s = iteration_s;
    p.checkpoint_s = checkpoint_s;
    c.job_mtbf_s = mtbf_s;
  }
  CheckpointAction step(CheckpointPolicy& policy) {
    p.time_s += p.iteration_time_s;
    p.exposure_s += p.iteration_time_s;
    ++p.iteration;
    CheckpointAction a = policy.on_iteration_end(p, c);
    if (a.write) {
      CheckpointRecord& r = a.level == StorageLevel::kPeer ? p.peer : a.level == StorageLevel::kHostMemory ? p.host_memory
                                                                                                         : p.persistent;
      r = {p.iteration, p.time_s};
      writes.emplace_back(p.iteration, a);
    }
    return a;
  }
  std::vector<std::int64_t> iterations(CheckpointPolicy& policy, int n) {
    for (int i = 0; i < n; ++i) step(policy);
    std::vector<std::int64_t> out;
    for (const auto& [it, a] : writes) out.push_back(it);
    return out;
  }
};

TEST(CheckpointPolicies, RegistryAndErrors) {
  EXPECT_EQ(checkpoint_policies().names(), (std::vector<std::string>{"adaptive", "async", "daly", "fixed", "none",
                                                                     "on_notice", "two_level", "young"}));
  try {
    make(R"({"impl": "fixed", "every_iterations": 10, "interval": "1 h"})");
    ADD_FAILURE() << "no error";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.file(), "study.json");
    EXPECT_EQ(e.pointer(), "/resilience/checkpoint/interval");
  }
  EXPECT_THROW(make(R"({"impl": "young", "mtbf": "-1 h"})"), core::ConfigError);
  EXPECT_THROW(make(R"({"impl": "daly", "varient": "exact"})"), core::ConfigError);
}

TEST(CheckpointPolicies, NoneNeverWrites) {
  auto policy = make(R"({"impl": "none"})");
  Clock run(10);
  EXPECT_TRUE(run.iterations(*policy, 1000).empty());
  EXPECT_FALSE(policy->on_preemption_notice({0, 120, {}, ""}, run.p).write);
}

TEST(CheckpointPolicies, FixedEveryIterationsOrSeconds) {
  auto by_count = make(R"({"impl": "fixed", "every_iterations": 5})");
  EXPECT_EQ(Clock(10).iterations(*by_count, 16), (std::vector<std::int64_t>{5, 10, 15}));
  // Every 100 s with 30 s iterations: the boundary nearest 100 s is 90 s (iteration 3).
  auto by_time = make(R"({"impl": "fixed", "interval": "100 s"})");
  EXPECT_EQ(Clock(30).iterations(*by_time, 7), (std::vector<std::int64_t>{3, 6}));
}

TEST(CheckpointPolicies, YoungAndDalyIntervals) {
  // C = 5 min, M = 1440 min: Young 120 min, Daly 116.69 min; the exact variant at M = 15 min 9.17 min.
  Clock run(60, 300, 86400);
  auto young = make(R"({"impl": "young"})");
  EXPECT_NEAR(run.step(*young).interval_s, 7200, 1e-6);
  auto daly = make(R"({"impl": "daly"})");
  EXPECT_NEAR(run.step(*daly).interval_s / 60, 116.69, 0.005);
  auto exact = make(R"({"impl": "daly", "variant": "exact", "mtbf": "15 min"})");
  EXPECT_NEAR(run.step(*exact).interval_s / 60, 9.17, 0.005);

  // Writes every 120 iterations of 60 s; nothing before.
  Clock young_run(60, 300, 86400);
  EXPECT_EQ(young_run.iterations(*young, 250), (std::vector<std::int64_t>{120, 240}));
  EXPECT_NE(young_run.writes[0].second.reason.find("√(2·C·M)"), std::string::npos) << young_run.writes[0].second.reason;
}

TEST(CheckpointPolicies, PeriodicPoliciesMeasureTheCostFirstAndNeedAnMtbf) {
  auto young = make(R"({"impl": "young"})");
  Clock unmeasured(60, 0);
  const CheckpointAction first = unmeasured.step(*young);
  EXPECT_TRUE(first.write);
  EXPECT_NE(first.reason.find("not measured"), std::string::npos);
  Clock no_failures(60, 300, INFINITY);
  EXPECT_TRUE(no_failures.iterations(*young, 1000).empty());
  Clock unknown(60, 300, std::nan(""));
  const CheckpointAction a = unknown.step(*young);
  EXPECT_FALSE(a.write);
  EXPECT_NE(a.reason.find("unknown"), std::string::npos) << a.reason;
}

TEST(CheckpointPolicies, AdaptiveConvergesToTheTrueMtbf) {
  const double true_mtbf = 20000, c = 120;
  auto policy = make(R"({"impl": "adaptive", "prior_mtbf": "100000 s", "prior_weight": 2})");
  Clock run(10, c, INFINITY);
  EXPECT_NEAR(run.step(*policy).interval_s, daly_interval_s(c, 100000), 1.0);  // the prior alone
  // Feed it the interruptions of an exponential process of the true MTBF.
  platforms::Rng rng(99);
  for (int i = 0; i < 3000; ++i) {
    run.p.exposure_s += rng.exponential(true_mtbf);
    ++run.p.failures;
  }
  const CheckpointAction a = run.step(*policy);
  EXPECT_NEAR(a.interval_s / daly_interval_s(c, true_mtbf), 1.0, 0.03) << a.reason;
}

TEST(CheckpointPolicies, OnNoticeWritesOnlyWhenTheNoticeLeavesTime) {
  auto policy = make(R"({"impl": "on_notice"})");
  Clock run(10, 60);
  EXPECT_TRUE(run.iterations(*policy, 100).empty());
  const Notice aws{run.p.time_s, 120, {core::NodeId(3)}, "spot"}, gcp{run.p.time_s, 30, {core::NodeId(3)}, "spot"};
  const CheckpointAction yes = policy->on_preemption_notice(aws, run.p);
  EXPECT_TRUE(yes.write);
  EXPECT_EQ(yes.level, StorageLevel::kPersistent);
  const CheckpointAction no = policy->on_preemption_notice(gcp, run.p);
  EXPECT_FALSE(no.write);
  EXPECT_NE(no.reason.find("30 s < 1 x write time 60 s"), std::string::npos) << no.reason;
  run.p.persistent = {run.p.iteration, run.p.time_s};  // nothing new since
  EXPECT_FALSE(policy->on_preemption_notice(aws, run.p).write);
  // Periodic policies ignore notices unless asked.
  EXPECT_FALSE(make(R"({"impl": "young"})")->on_preemption_notice(aws, Clock(10, 60).p).write);
  Clock fresh(10, 60);
  fresh.step(*policy);
  EXPECT_TRUE(make(R"({"impl": "young", "write_on_notice": true})")->on_preemption_notice(aws, fresh.p).write);
}

TEST(CheckpointPolicies, AsyncFollowsCheckFreqsRule) {
  // Snapshot 0.2 s, budget 5 % of 1 s iterations → every 4; persist 10 s → every 10: k = 10.
  auto policy = make(R"({"impl": "async"})");
  Clock run(1, 30);
  run.p.snapshot_s = 0.2;
  run.p.persist_s = 10;
  EXPECT_EQ(run.iterations(*policy, 25), (std::vector<std::int64_t>{10, 20}));
  EXPECT_TRUE(run.writes[0].second.async);
  run.p.persist_in_flight = true;
  EXPECT_EQ(run.iterations(*policy, 20), (std::vector<std::int64_t>{10, 20}));  // none while in flight
}

TEST(CheckpointPolicies, TwoLevelAlternatesPeerAndPersistent) {
  auto policy = make(R"({"impl": "two_level", "peer_every_iterations": 2, "persistent_every_iterations": 6})");
  Clock run(1);
  run.iterations(*policy, 13);
  std::vector<std::pair<std::int64_t, StorageLevel>> got;
  for (const auto& [it, a] : run.writes) got.emplace_back(it, a.level);
  using L = StorageLevel;
  EXPECT_EQ(got, (std::vector<std::pair<std::int64_t, StorageLevel>>{
                     {2, L::kPeer}, {4, L::kPeer}, {6, L::kPersistent}, {8, L::kPeer}, {10, L::kPeer}, {12, L::kPersistent}}));
}

}  // namespace
}  // namespace frugal::policies

// The campaign controller's state machine without SimGrid, on a hand-advanced clock (gem5
// replacement-policy test style): the test plays the driver, reporting segments, writes,
// failures and persists at chosen times, and checks the decisions and the accounting.
#include <gtest/gtest.h>

#include "sim/engine/control/campaign_state.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal::engine {
namespace {

using core::Json;
using policies::ClusterView;
using policies::RecoveryAction;
using policies::RecoveryKind;
using policies::StorageLevel;

constexpr double kInf = std::numeric_limits<double>::infinity();

/// 4 one-GPU nodes (NIC 25 GB/s, no shared storage: a checkpoint of 100 GB costs 25 GB per node
/// over its NIC, 1 s), one node per replica group; layouts of 4 (10 s per iteration, 100 J) and
/// 2 groups (20 s) are allowed, 3 and 1 are not.
struct Fixture {
  platforms::Cluster cluster = testing::one_gpu_per_node_cluster(4, {25e9, 5e-6});
  policies::ResiliencePolicy policy;
  CampaignSetup setup;

  explicit Fixture(const std::string& resilience, std::int64_t goal_iterations = 0)
      : policy(policies::read_resilience_policy(Json::parse(resilience), "study.json", "/campaign/resilience")) {
    setup.cluster = &cluster;
    setup.initial_nodes = {0, 1, 2, 3};
    setup.unit_nodes = 1;
    setup.layouts.assign(5, CampaignLayout{});
    for (int u : {2, 4}) {
      setup.layouts[u].units = u;
      setup.layouts[u].data_parallel = u;
      setup.layouts[u].iteration_s = 40.0 / u;
      setup.layouts[u].energy_j_per_iteration = 100;
      setup.layouts[u].allowed = true;
    }
    setup.checkpoint_bytes = 100e9;
    setup.goal_iterations = goal_iterations;
    setup.horizon_s = 1e6;
    setup.policy = &policy;
  }
};

CampaignState started(const Fixture& f) {
  CampaignState s(f.setup);
  s.start(f.setup.initial_nodes);
  s.set_job(f.setup.initial_nodes);
  return s;
}

ClusterView view(const CampaignState& s, int nodes_up = 4) {
  ClusterView v;
  v.nodes_total = 4;
  v.nodes_up = nodes_up;
  v.nodes_in_job = static_cast<int>(s.job().size());
  v.data_parallel = s.units();
  v.max_data_parallel = s.max_units();
  return v;
}

TEST(CampaignState, SegmentsEndAtTheIterationWhereThePolicyWrites) {
  Fixture f(R"({"checkpoint": {"impl": "fixed", "every_iterations": 5}})");
  CampaignState s = started(f);
  EXPECT_DOUBLE_EQ(s.iteration_seconds(), 10);
  // Before any write, the policies see the uncontended estimate: 25 GB per node over 25 GB/s.
  EXPECT_DOUBLE_EQ(s.progress(0).checkpoint_s, 1.0);
  Segment seg = s.plan_segment(0, kInf, view(s));
  EXPECT_TRUE(seg.decided);
  EXPECT_EQ(seg.iterations, 5);
  EXPECT_DOUBLE_EQ(seg.end_s, 50);
  EXPECT_TRUE(seg.action.write);
  s.account_training(0, 50, seg.iterations, true);
  EXPECT_EQ(s.iteration(), 5);
  EXPECT_DOUBLE_EQ(s.work_s(), 50);
  EXPECT_DOUBLE_EQ(s.result().training_energy_j, 500);
  EXPECT_DOUBLE_EQ(s.result().training_gpu_s_by_type[0], 4 * 50);
  // The write takes 1.5 s (measured by the driver); the record holds iteration 5.
  s.add_checkpoint_time(1.5);
  s.costs().checkpoint_s = 1.5;
  EXPECT_FALSE(s.checkpoint_written(StorageLevel::kPersistent, 51.5));
  EXPECT_EQ(s.persistent().iteration, 5);
  EXPECT_DOUBLE_EQ(s.persistent().time_s, 51.5);
  EXPECT_DOUBLE_EQ(s.persistent().work_s, 50);
  EXPECT_EQ(s.result().checkpoints, 1);
  EXPECT_DOUBLE_EQ(s.result().checkpoint_s, 1.5);
  EXPECT_DOUBLE_EQ(s.progress(51.5).checkpoint_s, 1.5);  // measured now
  EXPECT_DOUBLE_EQ(s.progress(51.5).exposure_s, 51.5);
  // The next segment: five more iterations after the write.
  seg = s.plan_segment(51.5, kInf, view(s));
  EXPECT_EQ(seg.iterations, 5);
  EXPECT_DOUBLE_EQ(seg.end_s, 101.5);
}

TEST(CampaignState, AnEventCutsASegmentAndThePartialIterationCarriesOn) {
  Fixture f(R"({"checkpoint": {"impl": "fixed", "every_iterations": 5}})");
  CampaignState s = started(f);
  Segment seg = s.plan_segment(0, 25, view(s));  // a notice at t = 25
  EXPECT_FALSE(seg.decided);
  EXPECT_EQ(seg.iterations, 2);
  EXPECT_DOUBLE_EQ(seg.end_s, 25);
  s.account_training(0, 25, seg.iterations, false);
  EXPECT_EQ(s.iteration(), 2);
  EXPECT_DOUBLE_EQ(s.partial_iteration(), 0.5);
  // Iteration 3 ends at 30, iteration 5 (the write) at 50.
  seg = s.plan_segment(25, kInf, view(s));
  EXPECT_EQ(seg.iterations, 3);
  EXPECT_DOUBLE_EQ(seg.end_s, 50);
  // Cut again at 27: 0.7 of iteration 3 done; a checkpoint now discards those 7 s.
  s.account_training(25, 27, seg.iterations, false);
  EXPECT_NEAR(s.partial_iteration(), 0.7, 1e-12);
  s.discard_partial(27, "checkpoint of the last completed iteration");
  EXPECT_DOUBLE_EQ(s.partial_iteration(), 0);
  EXPECT_NEAR(s.work_s(), 20, 1e-9);
  EXPECT_NEAR(s.result().lost_work_s, 7, 1e-9);
  const Json& last = s.result().events.back();
  EXPECT_EQ(last.at("event"), "partial_iteration_discarded");
  EXPECT_DOUBLE_EQ(last.at("time_s").get<double>(), 27);
}

TEST(CampaignState, AFailureRollsBackToTheNewestCheckpoint) {
  Fixture f(R"({"checkpoint": {"impl": "fixed", "every_iterations": 5},
                "recovery": {"impl": "restart", "detection": "10 s", "restart": "1 min"}})");
  CampaignState s = started(f);
  s.account_training(0, 50, 5, true);
  s.checkpoint_written(StorageLevel::kPersistent, 51);
  s.checkpoint_written(StorageLevel::kHostMemory, 51);
  s.account_training(51, 86, 5, false);  // 3.5 iterations
  EXPECT_EQ(s.iteration(), 8);
  policies::Failure lost;
  lost.time_s = 86;
  lost.nodes = {core::NodeId(2)};
  const RecoveryAction a = s.on_failure(86, lost, view(s, 3));
  // No spares: provision new nodes, restart from the persistent checkpoint of iteration 5.
  EXPECT_EQ(a.kind, RecoveryKind::kRestartAfterProvisioning);
  EXPECT_TRUE(a.rollback);
  EXPECT_EQ(a.restore_from, StorageLevel::kPersistent);
  EXPECT_EQ(a.restore_iteration, 5);
  EXPECT_DOUBLE_EQ(a.detection_s, 10);
  EXPECT_EQ(s.result().failures, 1);
  EXPECT_EQ(s.progress(86).failures, 1);
  EXPECT_FALSE(s.host_memory().exists());  // died with the node
  const RecoveryPlan plan = s.plan_recovery(a);
  EXPECT_EQ(plan.kind, RecoveryKind::kRestartAfterProvisioning);
  EXPECT_EQ(plan.units, 4);
  s.rollback(86, a);
  EXPECT_EQ(s.iteration(), 5);
  EXPECT_DOUBLE_EQ(s.work_s(), 50);
  EXPECT_DOUBLE_EQ(s.partial_iteration(), 0);
  EXPECT_DOUBLE_EQ(s.result().lost_work_s, 85 - 50);
  EXPECT_EQ(s.result().events.back().at("lost_iterations"), 3);
  // A policy restoring a checkpoint that does not exist is the simulator's fault.
  RecoveryAction bad = a;
  bad.restore_iteration = 7;
  EXPECT_THROW(s.rollback(90, bad), core::InternalError);
}

TEST(CampaignState, ShrinkRunsOnTheLargestAllowedLayoutOrWaits) {
  Fixture f(R"({"recovery": {"impl": "shrink"}})");
  CampaignState s = started(f);
  RecoveryAction a;
  a.kind = RecoveryKind::kShrink;
  a.data_parallel = 3;  // not allowed: 2 is
  RecoveryPlan plan = s.plan_recovery(a);
  EXPECT_EQ(plan.kind, RecoveryKind::kShrink);
  EXPECT_EQ(plan.units, 2);
  EXPECT_FALSE(plan.shrink_refused);
  a.data_parallel = 1;  // nothing allowed at or below 1: wait for repairs on the running layout
  plan = s.plan_recovery(a);
  EXPECT_EQ(plan.kind, RecoveryKind::kWaitForRepair);
  EXPECT_EQ(plan.units, 4);
  EXPECT_TRUE(plan.shrink_refused);
  // The nodes are gone: neither continuing nor growing is possible.
  a.kind = RecoveryKind::kGrow;
  a.data_parallel = 4;
  EXPECT_EQ(s.plan_recovery(a).kind, RecoveryKind::kWaitForRepair);
  a.kind = RecoveryKind::kContinue;
  EXPECT_EQ(s.plan_recovery(a).kind, RecoveryKind::kWaitForRepair);
  // Shrinking to 2 replica groups: a re-plan, iterations of 20 s.
  s.apply_layout(100, 2, {0, 1}, "shrink");
  s.set_job({0, 1});
  EXPECT_EQ(s.result().replans, 1);
  EXPECT_DOUBLE_EQ(s.iteration_seconds(), 20);
  EXPECT_EQ(s.job_gpus(), 2);
  EXPECT_EQ(s.result().events.back().at("event"), "replan");
  EXPECT_EQ(s.result().events.back().at("to_units"), 2);
  // A live grow asks for 3 groups: 3 is not allowed, 2 is the running layout; for 4, 4.
  a.kind = RecoveryKind::kGrow;
  a.data_parallel = 3;
  EXPECT_EQ(s.live_change_units(a), 2);
  a.data_parallel = 8;
  EXPECT_EQ(s.live_change_units(a), 4);
  a.kind = RecoveryKind::kRestartFromSpares;
  EXPECT_EQ(s.live_change_units(a), 2);
}

TEST(CampaignState, AnAsyncPersistCompletesIntoThePersistentRecord) {
  Fixture f(R"({"checkpoint": {"impl": "fixed", "every_iterations": 5, "async": true}})");
  CampaignState s = started(f);
  s.account_training(0, 50, 5, true);
  s.checkpoint_written(StorageLevel::kHostMemory, 50.2);  // the snapshot
  s.begin_persist(50.2, 80.2, false);
  EXPECT_TRUE(s.persist_active());
  EXPECT_DOUBLE_EQ(s.persist_end_s(), 80.2);
  EXPECT_TRUE(s.progress(60).persist_in_flight);
  // While it is in flight the policy does not ask for another one.
  const Segment seg = s.plan_segment(50.2, 75.2, view(s));
  EXPECT_FALSE(seg.decided);
  s.account_training(50.2, 80.2, seg.iterations, false);
  s.complete_persist(80.2);
  EXPECT_FALSE(s.persist_active());
  EXPECT_EQ(s.persistent().iteration, 5);
  EXPECT_DOUBLE_EQ(s.persistent().time_s, 50.2);
  EXPECT_EQ(s.result().checkpoints, 1);
  EXPECT_NEAR(s.costs().persist_s, 30, 1e-12);  // the first persist measures the layout's cost
  // A newer snapshot's persist, aborted: nothing counts, the record stays.
  s.checkpoint_written(StorageLevel::kHostMemory, 81);
  s.begin_persist(81, kInf, true);
  s.abort_persist(85, "failure of 1 job node(s)");
  EXPECT_FALSE(s.persist_active());
  EXPECT_EQ(s.result().checkpoints_aborted, 1);
  EXPECT_EQ(s.persistent().iteration, 5);
  // A synchronous checkpoint supersedes a persist of an older state in flight.
  s.begin_persist(86, kInf, true);
  EXPECT_TRUE(s.checkpoint_written(StorageLevel::kPersistent, 90));
}

TEST(CampaignState, APreemptionNoticeWritesWhenTheWriteFitsInIt) {
  // on_notice with safety 2: write when notice_s >= 2 × the write time (1 s estimated, then measured).
  Fixture f(R"({"checkpoint": {"impl": "on_notice", "notice_safety": 2}})");
  CampaignState s = started(f);
  s.account_training(0, 30, 3, true);
  policies::Notice notice{30, 120, {core::NodeId(1)}, "spot"};
  policies::CheckpointAction a = s.on_preemption_notice(notice);
  EXPECT_TRUE(a.write);
  EXPECT_EQ(a.level, StorageLevel::kPersistent);
  EXPECT_NE(a.reason.find("3 iterations (30 s)"), std::string::npos) << a.reason;
  notice.notice_s = 1.9;  // < 2 × 1 s
  EXPECT_FALSE(s.on_preemption_notice(notice).write);
  s.costs().checkpoint_s = 0.5;  // measured: 2 × 0.5 s fits in 1.9 s
  EXPECT_TRUE(s.on_preemption_notice(notice).write);
  // Nothing new since the checkpoint: nothing to save.
  s.checkpoint_written(StorageLevel::kPersistent, 30.5);
  EXPECT_FALSE(s.on_preemption_notice(notice).write);
}

TEST(CampaignState, WaitRecoveryKeepsTheLayoutAndShrinkGrowsBack) {
  Fixture wait(R"({"recovery": {"impl": "wait"}})");
  CampaignState s = started(wait);
  policies::Failure lost;
  lost.nodes = {core::NodeId(0)};
  RecoveryAction a = s.on_failure(10, lost, view(s, 3));
  EXPECT_EQ(a.kind, RecoveryKind::kWaitForRepair);
  EXPECT_EQ(a.restore_iteration, -1);  // no checkpoint yet: start over
  RecoveryPlan plan = s.plan_recovery(a);
  EXPECT_EQ(plan.kind, RecoveryKind::kWaitForRepair);
  EXPECT_EQ(plan.units, 4);
  // shrink: running on 2 groups, 4 nodes up again: grow to the full layout.
  Fixture shrink(R"({"recovery": {"impl": "shrink"}})");
  CampaignState g = started(shrink);
  g.apply_layout(100, 2, {0, 1}, "shrink");
  g.set_job({0, 1});
  a = g.on_nodes_returned(200, {core::NodeId(2), core::NodeId(3)}, view(g, 4));
  EXPECT_EQ(a.kind, RecoveryKind::kGrow);
  EXPECT_EQ(a.data_parallel, 4);
  EXPECT_TRUE(a.checkpoint_first);
  EXPECT_EQ(g.live_change_units(a), 4);
}

TEST(CampaignState, TheGoalEndsTheSegmentAndTheCampaign) {
  Fixture f(R"({"checkpoint": {"impl": "fixed", "every_iterations": 100}})", 7);
  CampaignState s = started(f);
  const Segment seg = s.plan_segment(0, kInf, view(s));
  EXPECT_TRUE(seg.decided);
  EXPECT_FALSE(seg.action.write);
  EXPECT_EQ(seg.iterations, 7);
  EXPECT_DOUBLE_EQ(seg.end_s, 70);
  EXPECT_FALSE(s.finished(70));
  s.account_training(0, 70, seg.iterations, true);
  EXPECT_TRUE(s.finished(70));
  EXPECT_EQ(s.status(70), "ok");
  s.finish(70);
  EXPECT_EQ(s.result().iterations, 7);
  EXPECT_DOUBLE_EQ(s.result().useful_s, 70);
  EXPECT_DOUBLE_EQ(s.result().wall_clock_s, 70);
  // Without a goal met, the horizon stops it.
  Fixture g(R"({})");
  CampaignState h = started(g);
  EXPECT_FALSE(h.finished(1e6 - 1));
  EXPECT_TRUE(h.finished(1e6));
  EXPECT_EQ(h.status(1e6), "horizon_reached");
}

}  // namespace
}  // namespace frugal::engine

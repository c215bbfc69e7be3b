// Recovery policies on hand-made snapshots: replacement from spares or after provisioning,
// shrink and grow of data-parallel replicas, waiting, stragglers, and the rollback point.
#include <gtest/gtest.h>

#include "policies/resilience/resilience_policy.hpp"

namespace frugal::policies {
namespace {

using core::Json;
using core::NodeId;
using Kind = platforms::AvailabilityKind;

std::unique_ptr<RecoveryPolicy> make(const std::string& json) {
  return read_recovery_policy(Json::parse(json), "study.json", "/resilience/recovery");
}

/// 16 nodes, 2 per data-parallel replica (8 replicas), `spares` more; iteration 500, persistent
/// checkpoint at 400, peer replica at 480.
struct Snapshot {
  Progress p;
  ClusterView c;
  explicit Snapshot(int spares, int lost = 1) {
    p.iteration = 500;
    p.persistent = {400, 4000};
    p.peer = {480, 4800};
    c.nodes_total = 16 + spares;
    c.nodes_in_job = 16;
    c.nodes_up = 16 + spares - lost;
    c.spare_nodes = spares;
    c.data_parallel = c.max_data_parallel = 8;
    c.nodes_per_replica = 2;
  }
};

Failure lost(int n, bool peer_lost = false) {
  Failure f;
  f.kind = Kind::kFail;
  for (int i = 0; i < n; ++i) f.nodes.push_back(NodeId(i));
  f.peer_copy_lost = peer_lost;
  return f;
}

TEST(RecoveryPolicies, Registry) {
  EXPECT_EQ(recovery_policies().names(), (std::vector<std::string>{"restart", "shrink", "wait"}));
}

TEST(RecoveryPolicies, RestartFromSparesRollsBackToTheNewestSurvivingCheckpoint) {
  auto policy = make(R"({"impl": "restart", "detection": "10 s", "restart": "2 min"})");
  Snapshot s(2);
  RecoveryAction a = policy->on_failure(lost(1), s.p, s.c);
  EXPECT_EQ(a.kind, RecoveryKind::kRestartFromSpares);
  EXPECT_EQ(a.spares_used, 1);
  EXPECT_EQ(a.data_parallel, 8);
  EXPECT_TRUE(a.rollback);
  EXPECT_EQ(a.restore_from, StorageLevel::kPeer);
  EXPECT_EQ(a.restore_iteration, 480);
  EXPECT_DOUBLE_EQ(a.detection_s, 10);
  EXPECT_DOUBLE_EQ(a.restart_s, 120);
  EXPECT_NE(a.reason.find("(20 iterations lost)"), std::string::npos) << a.reason;
  // The node holding the replica died too: back to the persistent checkpoint.
  a = policy->on_failure(lost(1, true), s.p, s.c);
  EXPECT_EQ(a.restore_from, StorageLevel::kPersistent);
  EXPECT_EQ(a.restore_iteration, 400);
  // No checkpoint at all: start over.
  Snapshot bare(2);
  bare.p.persistent = {};
  bare.p.peer = {};
  EXPECT_EQ(policy->on_failure(lost(1), bare.p, bare.c).restore_iteration, -1);
}

TEST(RecoveryPolicies, RestartWithoutSparesProvisionsOrWaits) {
  Snapshot s(1, 3);
  RecoveryAction a = make(R"({"impl": "restart", "provisioning_delay": "10 min"})")->on_failure(lost(3), s.p, s.c);
  EXPECT_EQ(a.kind, RecoveryKind::kRestartAfterProvisioning);
  EXPECT_DOUBLE_EQ(a.wait_s, 600);
  EXPECT_EQ(a.spares_used, 1);
  EXPECT_NE(a.reason.find("provision 2 new nodes"), std::string::npos) << a.reason;
  a = make(R"({"impl": "restart", "without_spares": "wait_for_repair"})")->on_failure(lost(3), s.p, s.c);
  EXPECT_EQ(a.kind, RecoveryKind::kWaitForRepair);
  EXPECT_TRUE(a.rollback);
  EXPECT_EQ(make(R"({"impl": "restart"})")->on_nodes_returned({NodeId(0)}, s.p, s.c).kind, RecoveryKind::kContinue);
}

TEST(RecoveryPolicies, ShrinkDropsReplicasThenGrowsBack) {
  auto policy = make(R"({"impl": "shrink", "min_data_parallel": 4})");
  Snapshot s(0, 3);  // 13 nodes up / 2 per replica → 6 replicas
  RecoveryAction a = policy->on_failure(lost(3), s.p, s.c);
  EXPECT_EQ(a.kind, RecoveryKind::kShrink);
  EXPECT_EQ(a.data_parallel, 6);
  EXPECT_TRUE(a.rollback);
  EXPECT_EQ(a.restore_iteration, 480);
  EXPECT_NE(a.reason.find("13 usable nodes / 2 per replica = 6"), std::string::npos) << a.reason;
  // With enough spares it replaces instead (prefer_spares).
  Snapshot spare(3, 3);
  EXPECT_EQ(policy->on_failure(lost(3), spare.p, spare.c).kind, RecoveryKind::kRestartFromSpares);
  // Below min_data_parallel: provision.
  Snapshot few(0, 9);  // 7 up → 3 replicas < 4
  EXPECT_EQ(policy->on_failure(lost(9), few.p, few.c).kind, RecoveryKind::kRestartAfterProvisioning);
  // Nodes back: grow from 6 to 8 replicas, checkpointing the live state first.
  Snapshot back(0, 0);
  back.c.data_parallel = 6;
  a = policy->on_nodes_returned({NodeId(0), NodeId(1), NodeId(2)}, back.p, back.c);
  EXPECT_EQ(a.kind, RecoveryKind::kGrow);
  EXPECT_EQ(a.data_parallel, 8);
  EXPECT_TRUE(a.checkpoint_first);
  EXPECT_FALSE(a.rollback);
  EXPECT_EQ(make(R"({"impl": "shrink", "grow_back": false})")->on_nodes_returned({NodeId(0)}, back.p, back.c).kind,
            RecoveryKind::kContinue);
}

TEST(RecoveryPolicies, WaitToleratesSlowdownsAndWaitsForLostNodes) {
  auto policy = make(R"({"impl": "wait"})");
  Snapshot s(4, 0);
  Failure slow;
  slow.kind = Kind::kSpeedChange;
  slow.nodes = {NodeId(5)};
  slow.speed_ratio = 0.4;
  RecoveryAction a = policy->on_failure(slow, s.p, s.c);
  EXPECT_EQ(a.kind, RecoveryKind::kContinue);
  EXPECT_FALSE(a.rollback);
  a = policy->on_failure(lost(1), s.p, s.c);
  EXPECT_EQ(a.kind, RecoveryKind::kWaitForRepair);  // even with spares
  EXPECT_TRUE(a.rollback);
}

TEST(RecoveryPolicies, StragglersBelowTheThresholdAreSwappedOut) {
  auto policy = make(R"({"impl": "restart", "straggler_threshold": 0.6})");
  Snapshot s(1, 0);
  Failure slow;
  slow.kind = Kind::kSpeedChange;
  slow.nodes = {NodeId(5)};
  slow.speed_ratio = 0.5;
  RecoveryAction a = policy->on_failure(slow, s.p, s.c);
  EXPECT_EQ(a.kind, RecoveryKind::kRestartFromSpares);
  EXPECT_EQ(a.exclude, std::vector<NodeId>{NodeId(5)});
  EXPECT_TRUE(a.checkpoint_first);
  EXPECT_FALSE(a.rollback);
  slow.speed_ratio = 0.7;
  EXPECT_EQ(policy->on_failure(slow, s.p, s.c).kind, RecoveryKind::kContinue);
}

TEST(RecoveryPolicies, SmallestLayoutEachPolicyMayAskFor) {
  // Only shrink re-plans below the full layout: down to min_data_parallel, clamped to [1, max].
  EXPECT_EQ(make(R"({"impl": "shrink", "min_data_parallel": 3})")->min_data_parallel(8), 3);
  EXPECT_EQ(make(R"({"impl": "shrink", "min_data_parallel": 3})")->min_data_parallel(2), 2);
  EXPECT_EQ(make(R"({"impl": "shrink"})")->min_data_parallel(8), 1);
  EXPECT_EQ(make(R"({"impl": "restart"})")->min_data_parallel(8), 8);
  EXPECT_EQ(make(R"({"impl": "wait"})")->min_data_parallel(8), 8);
  // The pair forwards to its recovery policy.
  ResiliencePolicy pair = read_resilience_policy(
      Json::parse(R"({"recovery": {"impl": "shrink", "min_data_parallel": 5}})"), "study.json", "/resilience");
  EXPECT_EQ(pair.min_data_parallel(16), 5);
  EXPECT_EQ(read_resilience_policy(Json::object(), "study.json", "/resilience").min_data_parallel(16), 16);
}

TEST(RecoveryPolicies, ResilienceConfigDefaultsAndResolvedForm) {
  Json resolved;
  ResiliencePolicy policy = read_resilience_policy(Json::parse(R"({"checkpoint": {"impl": "young", "mtbf": "1 day"}})"),
                                                   "study.json", "/resilience", &resolved);
  const auto si = [](const Json& j, const std::string& key) { return j.value(key + "_s", j.value(key, 0.0)); };
  EXPECT_EQ(si(resolved["checkpoint"], "mtbf"), 86400.0);
  EXPECT_EQ(resolved["recovery"]["impl"], "restart");
  EXPECT_EQ(si(resolved["recovery"], "restart"), 120.0);
  Snapshot s(1);
  EXPECT_EQ(policy.on_failure(lost(1), s.p, s.c).kind, RecoveryKind::kRestartFromSpares);
  try {
    read_resilience_policy(Json::parse(R"({"recovery": {"impl": "shrink", "min_dp": 2}})"), "study.json", "/resilience");
    ADD_FAILURE() << "no error";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/resilience/recovery/min_dp");
  }
}

}  // namespace
}  // namespace frugal::policies

// The engine's collectives (step by step and aggregate), generated from sim/cost's phases,
// against sim/cost's closed form with the paths of sim/cost/path: the same description gives the
// same time on a contention-free platform. One simulation per TEST.
#include <gtest/gtest.h>

#include <cstdio>

#include "sim/cost/collective_algorithms.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using program::CollectiveAlgorithm;
using program::CollectiveKind;

constexpr double kBytes = 48 * testing::kMiB;

/// 2 nodes × 4 GPUs, one NIC per GPU (the cross-node rings of the hierarchical all-reduce do
/// not share a NIC, so the platform is contention-free for every algorithm below).
platforms::Cluster cluster() {
  testing::ClusterShape s;
  s.nodes = 2;
  s.gpus_per_node = 4;
  s.gpu_link = {200e9, 1.5e-6};
  s.nic = {25e9, 4e-6};
  s.nics_per_node = 4;
  s.switch_latency_s = 2e-6;
  return testing::make_cluster(s);
}

/// Simulates `kind` with `algorithm` over `ranks` (rank i on GPU i) and compares it with
/// cost::collective_time_s on the intra- and inter-node paths of cost::gpu_path.
void expect_closed_form(CollectiveKind kind, CollectiveAlgorithm algorithm, const std::vector<int>& ranks,
                        engine::CollectiveModel model = engine::CollectiveModel::kStepByStep) {
  const platforms::Cluster c = cluster();
  program::Program p = testing::make_program(8);
  const int g = testing::add_group(p, "g", ranks);
  testing::add_collective_to_members(p, testing::collective(kind, g, 0, kBytes, algorithm, ranks.front()));
  engine::EngineOptions options;
  options.collective_model = model;
  const engine::SimulationResult r = engine::simulate(c, p, options);
  const double expected = cost::collective_time_s(kind, algorithm, kBytes, cost::group_shape(c, ranks),
                                                  cost::gpu_path(c, 0, 1), cost::gpu_path(c, 0, 4));
  std::printf("%s/%s over %zu ranks: simulated %.12g s, closed form %.12g s\n", program::to_string(kind).c_str(),
              program::to_string(algorithm).c_str(), ranks.size(), r.makespan_s, expected);
  EXPECT_NEAR(r.makespan_s, expected, 1e-6 * expected);
}

const std::vector<int> kOneNode = {0, 1, 2, 3};
const std::vector<int> kTwoNodes = {0, 1, 2, 3, 4, 5, 6, 7};

TEST(CostCollectivesEngine, RingAllReduce) { expect_closed_form(CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, kOneNode); }
TEST(CostCollectivesEngine, ReduceScatter) { expect_closed_form(CollectiveKind::kReduceScatter, CollectiveAlgorithm::kRing, kOneNode); }
TEST(CostCollectivesEngine, AllGather) { expect_closed_form(CollectiveKind::kAllGather, CollectiveAlgorithm::kRing, kOneNode); }
TEST(CostCollectivesEngine, Broadcast) { expect_closed_form(CollectiveKind::kBroadcast, CollectiveAlgorithm::kRing, kOneNode); }
TEST(CostCollectivesEngine, AllToAll) { expect_closed_form(CollectiveKind::kAllToAll, CollectiveAlgorithm::kRing, kOneNode); }
TEST(CostCollectivesEngine, Hierarchical) {
  expect_closed_form(CollectiveKind::kAllReduce, CollectiveAlgorithm::kHierarchical, kTwoNodes);
}
TEST(CostCollectivesEngine, HierarchicalAggregate) {
  expect_closed_form(CollectiveKind::kAllReduce, CollectiveAlgorithm::kHierarchical, kTwoNodes,
                     engine::CollectiveModel::kAggregate);
}
// Rings over both nodes run as 4 rail channels (4 members and 4 NICs per node): each step sends
// 3 chunks over the GPU link and one through the member's own NIC.
TEST(CostCollectivesEngine, RailRingAllReduce) { expect_closed_form(CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, kTwoNodes); }
TEST(CostCollectivesEngine, RailAllGather) { expect_closed_form(CollectiveKind::kAllGather, CollectiveAlgorithm::kRing, kTwoNodes); }
TEST(CostCollectivesEngine, RailReduceScatterAggregate) {
  expect_closed_form(CollectiveKind::kReduceScatter, CollectiveAlgorithm::kRing, kTwoNodes, engine::CollectiveModel::kAggregate);
}
TEST(CostCollectivesEngine, RingAcrossNodesOnePerNode) {
  expect_closed_form(CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, {0, 4});
}

}  // namespace
}  // namespace frugal

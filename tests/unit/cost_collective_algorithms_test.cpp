// sim/cost/collective_algorithms: each algorithm's phases, their closed forms (Thakur et al.
// 2005 for rings, the pipelined chain for broadcast) and the one algorithm selection rule.
#include <gtest/gtest.h>

#include <algorithm>

#include "sim/cost/collective_algorithms.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using program::CollectiveAlgorithm;
using program::CollectiveKind;

cost::GroupShape flat(int n, int nodes = 1) {
  cost::GroupShape s;
  s.members = n;
  s.nodes = nodes;
  return s;
}

cost::GroupShape two_level(int nodes, int per_node) {
  cost::GroupShape s{nodes * per_node, nodes, per_node, true};
  return s;
}

TEST(CostCollectives, RingPhases) {
  const auto ar = cost::phases(CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, 8e6, flat(4));
  ASSERT_EQ(ar.size(), 1u);
  EXPECT_EQ(ar[0].name, "ar");
  EXPECT_EQ(ar[0].pattern, cost::Pattern::kRing);
  EXPECT_EQ(ar[0].rings, cost::Rings::kMembers);
  EXPECT_EQ(ar[0].steps, 6);
  EXPECT_DOUBLE_EQ(ar[0].step_bytes, 2e6);
  for (auto kind : {CollectiveKind::kReduceScatter, CollectiveKind::kAllGather, CollectiveKind::kAllToAll}) {
    const auto p = cost::phases(kind, CollectiveAlgorithm::kHierarchical, 8e6, two_level(2, 2));
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].steps, 3);
    EXPECT_DOUBLE_EQ(p[0].step_bytes, 2e6);
    EXPECT_EQ(p[0].pattern, kind == CollectiveKind::kAllToAll ? cost::Pattern::kPairwise : cost::Pattern::kRing);
  }
  EXPECT_TRUE(cost::phases(CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, 8e6, flat(1)).empty());
  EXPECT_TRUE(cost::phases(CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, 0, flat(4)).empty());
}

TEST(CostCollectives, HierarchicalPhasesAndFallback) {
  const auto h = cost::phases(CollectiveKind::kAllReduce, CollectiveAlgorithm::kHierarchical, 24e6, two_level(3, 4));
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].name, "hrs");
  EXPECT_EQ(h[0].rings, cost::Rings::kNodeLocal);
  EXPECT_EQ(h[0].steps, 3);
  EXPECT_DOUBLE_EQ(h[0].step_bytes, 6e6);
  EXPECT_EQ(h[1].rings, cost::Rings::kCrossNode);
  EXPECT_EQ(h[1].steps, 4);
  EXPECT_DOUBLE_EQ(h[1].step_bytes, 2e6);
  EXPECT_EQ(h[2].name, "hag");
  // Not two-level: the ring.
  const auto r = cost::phases(CollectiveKind::kAllReduce, CollectiveAlgorithm::kHierarchical, 24e6, flat(12, 3));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].steps, 22);
}

TEST(CostCollectives, BroadcastChainPipelinesChunks) {
  EXPECT_EQ(cost::broadcast_chunks(1), 1);
  EXPECT_EQ(cost::broadcast_chunks(10 * cost::kBroadcastChunkBytes), 10);
  EXPECT_EQ(cost::broadcast_chunks(1000 * cost::kBroadcastChunkBytes), cost::kMaxBroadcastChunks);
  const double bytes = 10 * cost::kBroadcastChunkBytes;
  const auto b = cost::phases(CollectiveKind::kBroadcast, CollectiveAlgorithm::kRing, bytes, flat(5));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].pattern, cost::Pattern::kChain);
  EXPECT_EQ(b[0].pieces, 10);
  EXPECT_EQ(b[0].steps, 5 - 2 + 10);
  EXPECT_DOUBLE_EQ(b[0].step_bytes, cost::kBroadcastChunkBytes);
}

TEST(CostCollectives, ClosedFormsOnAUniformPath) {
  const cost::Path path{5e-6, 10e9};
  const double s = 64e6, a = path.latency_s, beta = path.bandwidth_bytes_per_s;
  const int n = 8;
  const auto t = [&](CollectiveKind kind, const cost::GroupShape& shape, CollectiveAlgorithm alg = CollectiveAlgorithm::kRing) {
    return cost::collective_time_s(kind, alg, s, shape, path, path);
  };
  const double ar = 2 * (n - 1) * a + 2.0 * (n - 1) / n * s / beta;
  EXPECT_NEAR(t(CollectiveKind::kAllReduce, flat(n)), ar, 1e-12 * ar);
  const double rs = (n - 1) * a + (n - 1.0) / n * s / beta;
  EXPECT_NEAR(t(CollectiveKind::kReduceScatter, flat(n)), rs, 1e-12 * rs);
  EXPECT_NEAR(t(CollectiveKind::kAllGather, flat(n)), rs, 1e-12 * rs);
  EXPECT_NEAR(t(CollectiveKind::kAllToAll, flat(n)), rs, 1e-12 * rs);
  const double k = cost::broadcast_chunks(s);
  const double bc = (n - 2 + k) * (a + s / (k * beta));
  EXPECT_NEAR(t(CollectiveKind::kBroadcast, flat(n)), bc, 1e-12 * bc);
  // Hierarchical, L = 4 per node on M = 2 nodes, node-local edges faster than the network.
  const cost::Path intra{2e-6, 300e9};
  const double L = 4, M = 2;
  const double h = 2 * (L - 1) * (intra.latency_s + s / L / intra.bandwidth_bytes_per_s) +
                   2 * (M - 1) * (a + s / (L * M) / beta);
  const double got = cost::collective_time_s(CollectiveKind::kAllReduce, CollectiveAlgorithm::kHierarchical, s,
                                             two_level(2, 4), intra, path, 1e-5);
  EXPECT_NEAR(got, h + 1e-5, 1e-12 * h);
  // The flat ring over the same group runs on the network path.
  EXPECT_NEAR(cost::collective_time_s(CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, s, two_level(2, 4), intra, path),
              ar, 1e-12 * ar);
  EXPECT_LT(got, ar);
}

TEST(CostCollectives, RailChannelsSplitMemberRingsAcrossNodes) {
  EXPECT_EQ(cost::rail_channels(true, 8, 8), 8);
  EXPECT_EQ(cost::rail_channels(true, 8, 4), 4);
  EXPECT_EQ(cost::rail_channels(true, 2, 8), 2);
  EXPECT_EQ(cost::rail_channels(false, 0, 8), 1);
  cost::GroupShape shape = two_level(2, 4);
  shape.channels = 4;
  for (auto kind : {CollectiveKind::kAllReduce, CollectiveKind::kReduceScatter, CollectiveKind::kAllGather}) {
    const auto p = cost::phases(kind, CollectiveAlgorithm::kRing, 64e6, shape);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].rings, cost::Rings::kRails);
    EXPECT_EQ(p[0].steps, kind == CollectiveKind::kAllReduce ? 14 : 7);
    EXPECT_DOUBLE_EQ(p[0].step_bytes, 64e6 / (8 * 4));
  }
  // Hierarchical keeps its phases; all-to-all and broadcast keep the member list.
  EXPECT_EQ(cost::phases(CollectiveKind::kAllReduce, CollectiveAlgorithm::kHierarchical, 64e6, shape).size(), 3u);
  EXPECT_EQ(cost::phases(CollectiveKind::kAllToAll, CollectiveAlgorithm::kRing, 64e6, shape)[0].rings, cost::Rings::kMembers);
  EXPECT_EQ(cost::phases(CollectiveKind::kBroadcast, CollectiveAlgorithm::kRing, 64e6, shape)[0].rings, cost::Rings::kMembers);
  // A step: C − 1 chunks share the GPU link, one crosses the NIC; the slower side sets the pace.
  const cost::Path intra{2e-6, 300e9}, inter{5e-6, 25e9};
  const double b = 64e6 / 32;
  const double step = std::max(intra.latency_s + 3 * b / intra.bandwidth_bytes_per_s, inter.latency_s + b / inter.bandwidth_bytes_per_s);
  EXPECT_NEAR(cost::collective_time_s(CollectiveKind::kAllGather, CollectiveAlgorithm::kRing, 64e6, shape, intra, inter),
              7 * step, 1e-12 * step);
  // One channel per NIC: the ring over the same group through one NIC is C times slower on the wire.
  shape.channels = 1;
  const double one_nic = 7 * (inter.latency_s + 64e6 / 8 / inter.bandwidth_bytes_per_s);
  EXPECT_NEAR(cost::collective_time_s(CollectiveKind::kAllGather, CollectiveAlgorithm::kRing, 64e6, shape, intra, inter),
              one_nic, 1e-12 * one_nic);
  // From the cluster: channels = min(members per node, NICs per node), 1 on one node or one per node.
  testing::ClusterShape cs;
  cs.nodes = 2;
  cs.gpus_per_node = 4;
  cs.nics_per_node = 2;
  const platforms::Cluster c = testing::make_cluster(cs);
  EXPECT_EQ(cost::group_shape(c, {0, 1, 2, 3, 4, 5, 6, 7}).channels, 2);
  EXPECT_EQ(cost::group_shape(c, {0, 1, 2, 3}).channels, 1);
  EXPECT_EQ(cost::group_shape(c, {0, 4}).channels, 1);
  EXPECT_EQ(cost::group_shape(c, {0, 1, 2, 4}).channels, 1);
}

TEST(CostCollectives, PhasesTimeWithPerMessageStepCost) {
  // A step cost that depends on the message: calibration's size factors.
  const auto step = [](double bytes) { return bytes < 1e6 ? 1e-5 : 2e-5 + bytes / 1e10; };
  const auto ph = cost::phases(CollectiveKind::kAllReduce, CollectiveAlgorithm::kRing, 4e6, flat(2));
  EXPECT_DOUBLE_EQ(cost::phases_time_s(ph, step), 2 * (2e-5 + 2e6 / 1e10));
  const auto small = cost::phases(CollectiveKind::kAllGather, CollectiveAlgorithm::kRing, 4e5, flat(4));
  EXPECT_DOUBLE_EQ(cost::phases_time_s(small, step), 3 * 1e-5);
}

TEST(CostCollectives, OneSelectionRule) {
  EXPECT_TRUE(cost::two_level({2, 2}));
  EXPECT_FALSE(cost::two_level({4}));
  EXPECT_FALSE(cost::two_level({1, 1, 1}));
  EXPECT_FALSE(cost::two_level({2, 3}));
  testing::ClusterShape shape;
  shape.nodes = 2;
  shape.gpus_per_node = 4;
  const platforms::Cluster c = testing::make_cluster(shape);
  using A = CollectiveAlgorithm;
  const auto eligible = [&](std::vector<int> gpus, CollectiveKind kind = CollectiveKind::kAllReduce) {
    return cost::eligible_algorithms(kind, cost::group_shape(c, gpus));
  };
  using List = std::vector<A>;
  EXPECT_EQ(eligible({0, 1, 2, 3, 4, 5, 6, 7}), (List{A::kRing, A::kHierarchical, A::kTree}));
  EXPECT_EQ(eligible({0, 4}), (List{A::kRing, A::kTree}));  // one per node: balanced, not two-level
  EXPECT_EQ(eligible({0, 1, 2, 3}), List{A::kRing});         // one node without NVLS
  EXPECT_EQ(eligible({0, 1, 2, 4}), List{A::kRing});         // unequal
  EXPECT_EQ(eligible({0, 1, 4, 5}), (List{A::kRing, A::kHierarchical, A::kTree}));
  EXPECT_EQ(eligible({0, 1, 4, 5}, CollectiveKind::kAllGather), List{A::kRing});
  const cost::GroupShape g = cost::group_shape(c, {0, 4, 1, 5});
  EXPECT_EQ(g.members, 4);
  EXPECT_EQ(g.nodes, 2);
  EXPECT_EQ(g.per_node, 2);
  EXPECT_TRUE(g.two_level);
}

}  // namespace
}  // namespace frugal

// sim/cost/collective_algorithms: NCCL's double binary trees, the tree and NVLS all-reduce's
// phases and closed forms, and the selection by size and scale (NCCL's tuning).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sim/cost/collective_algorithms.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using program::CollectiveAlgorithm;
using program::CollectiveKind;
using A = program::CollectiveAlgorithm;

/// Depth of node m in a tree given by parents; −1 when the walk does not reach a root within n steps.
int depth_of(const std::vector<int>& parent, int m) {
  int d = 0;
  for (int u = m; parent[static_cast<std::size_t>(u)] >= 0; u = parent[static_cast<std::size_t>(u)])
    if (++d > static_cast<int>(parent.size())) return -1;
  return d;
}

TEST(CostTrees, BinaryTreeOfEightAndItsMirror) {
  EXPECT_EQ(cost::binary_tree_parents(8, 0), (std::vector<int>{-1, 2, 4, 2, 0, 6, 4, 6}));
  EXPECT_EQ(cost::binary_tree_parents(8, 1), (std::vector<int>{1, 3, 1, 7, 5, 3, 5, -1}));
  EXPECT_EQ(cost::binary_tree_parents(1, 0), (std::vector<int>{-1}));
  EXPECT_EQ(cost::binary_tree_parents(2, 1), (std::vector<int>{1, -1}));
}

TEST(CostTrees, EveryCountGivesTwoTreesOfLogarithmicHeight) {
  for (int nodes = 1; nodes <= 70; ++nodes) {
    std::vector<int> children_in(static_cast<std::size_t>(nodes), 0);  // trees in which a node has children
    for (int t = 0; t < 2; ++t) {
      const std::vector<int> up = cost::binary_tree_parents(nodes, t);
      ASSERT_EQ(static_cast<int>(up.size()), nodes);
      EXPECT_EQ(std::count(up.begin(), up.end(), -1), 1) << nodes << " nodes, tree " << t;
      int height = 0;
      std::vector<int> children(static_cast<std::size_t>(nodes), 0);
      for (int m = 0; m < nodes; ++m) {
        const int d = depth_of(up, m);
        ASSERT_GE(d, 0) << nodes << " nodes, tree " << t << ": node " << m << " reaches no root";
        height = std::max(height, d);
        if (up[static_cast<std::size_t>(m)] >= 0) ++children[static_cast<std::size_t>(up[static_cast<std::size_t>(m)])];
      }
      for (int m = 0; m < nodes; ++m) {
        EXPECT_LE(children[static_cast<std::size_t>(m)], 2);
        if (children[static_cast<std::size_t>(m)] > 0) ++children_in[static_cast<std::size_t>(m)];
      }
      EXPECT_LE(height, static_cast<int>(std::ceil(std::log2(std::max(nodes, 1)))) + 1) << nodes;
    }
    // The double binary tree's point: with an even count no node forwards in both trees.
    if (nodes % 2 == 0)
      for (int m = 0; m < nodes; ++m) EXPECT_LE(children_in[static_cast<std::size_t>(m)], 1) << nodes << " nodes, node " << m;
  }
}

cost::GroupShape balanced(int nodes, int per_node, int channels = 1) {
  cost::GroupShape s;
  s.members = nodes * per_node;
  s.nodes = nodes;
  s.two_level = per_node >= 2;
  s.per_node = s.two_level ? per_node : 0;
  s.balanced = true;
  s.channels = channels;
  return s;
}

TEST(CostTrees, ChainsHangBelowTheHeadOfEachChannel) {
  const auto trees = cost::all_reduce_trees(balanced(2, 3, 2));
  ASSERT_EQ(trees.size(), 4u);  // two channels, two trees each
  // Channel 0, tree 0: node 0's head (member 0) is the root; node 1's head (3) hangs under it;
  // each node's chain runs 0 → 1 → 2 below its head.
  EXPECT_EQ(trees[0].parent, (std::vector<int>{-1, 0, 1, 0, 3, 4}));
  EXPECT_EQ(trees[0].depth, (std::vector<int>{0, 1, 2, 1, 2, 3}));
  EXPECT_EQ(trees[0].height, 3);
  EXPECT_EQ(trees[0].children[0], (std::vector<int>{1, 3}));
  // Channel 1, tree 1 (mirrored: node 1 is the root): heads are the members of local index 1.
  EXPECT_EQ(trees[3].parent, (std::vector<int>{2, 4, 1, 5, -1, 4}));
  EXPECT_TRUE(cost::all_reduce_trees(cost::GroupShape{4, 1, 0, false, 1}).empty());  // one node: no tree
}

TEST(CostTrees, TreePhaseSteps) {
  // 4 nodes × 1: both node trees have height 2; S/2 = 4 MiB per tree is one piece.
  const auto ph = cost::phases(CollectiveKind::kAllReduce, A::kTree, 8 * testing::kMiB, balanced(4, 1));
  ASSERT_EQ(ph.size(), 1u);
  EXPECT_EQ(ph[0].pattern, cost::Pattern::kTree);
  EXPECT_EQ(ph[0].height, 2);
  EXPECT_EQ(ph[0].pieces, 1);
  EXPECT_EQ(ph[0].steps, 4);  // 2D + k − 1
  EXPECT_DOUBLE_EQ(ph[0].step_bytes, 4 * testing::kMiB);
  // 64 MiB over 2 channels: 16 MiB per tree in 4 pieces; the chain of 2 adds one level.
  const auto big = cost::phases(CollectiveKind::kAllReduce, A::kTree, 64 * testing::kMiB, balanced(4, 2, 2));
  EXPECT_EQ(big[0].pieces, 4);
  EXPECT_EQ(big[0].height, 3);
  EXPECT_EQ(big[0].steps, 2 * 3 + 4 - 1);
  EXPECT_DOUBLE_EQ(big[0].step_bytes, 4 * testing::kMiB);
  // Not balanced, or not an all-reduce: ring.
  EXPECT_EQ(cost::phases(CollectiveKind::kAllReduce, A::kTree, 8e6, cost::GroupShape{4, 1, 0, false, 1})[0].name, "ar");
  EXPECT_EQ(cost::phases(CollectiveKind::kAllGather, A::kTree, 8e6, balanced(4, 1))[0].name, "ag");
}

TEST(CostTrees, TwoNodeTreeClosedForm) {
  // Two nodes, one member each: tree 0 is 1 → 0, tree 1 is 0 → 1. Step 0 sends piece 0 up
  // both trees (one transfer each way per NIC), steps 1..k−1 send a piece up one tree and one
  // down the other (two per NIC direction), step k the last piece down: with b = S/(2k),
  // T = 2(α + b/β) + (k − 1)(α + 2b/β) = (k + 1)·α + S/β.
  const cost::Path inter{7e-6, 25e9};
  for (const double s : {8 * testing::kMiB, 64 * testing::kMiB, 1024 * testing::kMiB}) {
    const int k = cost::broadcast_chunks(s / 2);
    const double expected = (k + 1) * inter.latency_s + s / inter.bandwidth_bytes_per_s;
    const double got = cost::collective_time_s(CollectiveKind::kAllReduce, A::kTree, s, balanced(2, 1), inter, inter);
    EXPECT_NEAR(got, expected, 1e-9 * expected) << s;
  }
}

TEST(CostNvls, SwitchPhaseAndItsClosedForm) {
  cost::GroupShape one_node{8, 1, 0, false, 1};
  EXPECT_EQ(cost::phases(CollectiveKind::kAllReduce, A::kNvls, 8e6, one_node)[0].name, "ar");  // no NVLS: ring
  one_node.nvls = cost::Path{2e-6, 275e9};
  const auto ph = cost::phases(CollectiveKind::kAllReduce, A::kNvls, 8e6, one_node);
  ASSERT_EQ(ph.size(), 1u);
  EXPECT_EQ(ph[0].pattern, cost::Pattern::kSwitch);
  EXPECT_EQ(ph[0].steps, 1);
  EXPECT_DOUBLE_EQ(ph[0].step_bytes, 8e6);
  const cost::Path intra{2e-6, 450e9};
  EXPECT_DOUBLE_EQ(cost::collective_time_s(CollectiveKind::kAllReduce, A::kNvls, 8e6, one_node, intra, intra),
                   2e-6 + 8e6 / 275e9);
  EXPECT_EQ(cost::phases(CollectiveKind::kReduceScatter, A::kNvls, 8e6, one_node)[0].name, "rs");
}

TEST(CostSelection, ByScaleAndSize) {
  // 16 nodes of one GPU: the tree's 2D + k − 1 steps beat the ring's 30 while latency dominates;
  // the ring's 2(n−1)/n·S beats the tree's pipeline once bandwidth does.
  const platforms::Cluster many = testing::one_gpu_per_node_cluster(16, {25e9, 5e-6}, 1e-6);
  std::vector<int> all(16);
  for (int g = 0; g < 16; ++g) all[static_cast<std::size_t>(g)] = g;
  const cost::GroupShape shape = cost::group_shape(many, all);
  EXPECT_TRUE(shape.balanced);
  EXPECT_EQ(cost::select_algorithm(CollectiveKind::kAllReduce, 1024, shape), A::kTree);
  EXPECT_EQ(cost::select_algorithm(CollectiveKind::kAllReduce, 1024 * testing::kMiB, shape), A::kRing);
  EXPECT_EQ(cost::select_algorithm(CollectiveKind::kAllGather, 1024, shape), A::kRing);
  // The choice is the fastest closed form at every size.
  for (double s = 8; s <= 4 * testing::kGiB; s *= 4) {
    const A chosen = cost::select_algorithm(CollectiveKind::kAllReduce, s, shape);
    for (const A a : cost::eligible_algorithms(CollectiveKind::kAllReduce, shape))
      EXPECT_LE(cost::collective_time_s(CollectiveKind::kAllReduce, chosen, s, shape, shape.intra, shape.inter),
                cost::collective_time_s(CollectiveKind::kAllReduce, a, s, shape, shape.intra, shape.inter))
          << s << " B: " << program::to_string(chosen) << " vs " << program::to_string(a);
  }
  // kAuto prices as the chosen algorithm.
  EXPECT_DOUBLE_EQ(cost::collective_time_s(CollectiveKind::kAllReduce, A::kAuto, 1024, shape, shape.intra, shape.inter),
                   cost::collective_time_s(CollectiveKind::kAllReduce, A::kTree, 1024, shape, shape.intra, shape.inter));
}

TEST(CostSelection, NvlsOnEightGpusNotOnTwo) {
  // 8 GPUs: NVLS (S/275 GB/s, one latency) beats the ring (1.75·S/450 GB/s, 14 latencies) at
  // every size; 2 GPUs: the ring's S/450 GB/s wins once bandwidth dominates (as measured: NVLS
  // helps all-reduces of 5 or more GPUs).
  const platforms::Cluster eight = testing::nvls_node_cluster(8);
  const cost::GroupShape g8 = cost::group_shape(eight, {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_DOUBLE_EQ(g8.nvls.bandwidth_bytes_per_s, 275e9);
  EXPECT_DOUBLE_EQ(g8.nvls.latency_s, 2e-6);
  EXPECT_EQ(cost::select_algorithm(CollectiveKind::kAllReduce, 1024, g8), A::kNvls);
  EXPECT_EQ(cost::select_algorithm(CollectiveKind::kAllReduce, testing::kGiB, g8), A::kNvls);
  const cost::GroupShape g2 = cost::group_shape(eight, {0, 1});
  EXPECT_EQ(cost::select_algorithm(CollectiveKind::kAllReduce, 1024, g2), A::kNvls);
  EXPECT_EQ(cost::select_algorithm(CollectiveKind::kAllReduce, testing::kGiB, g2), A::kRing);
  EXPECT_EQ(cost::effective_algorithm(CollectiveKind::kAllReduce, A::kAuto, testing::kGiB, g2), A::kRing);
  EXPECT_EQ(cost::effective_algorithm(CollectiveKind::kAllReduce, A::kTree, testing::kGiB, g2), A::kRing);  // one node
  EXPECT_EQ(cost::effective_algorithm(CollectiveKind::kAllGather, A::kNvls, testing::kGiB, g8), A::kRing);
  EXPECT_EQ(cost::effective_algorithm(CollectiveKind::kAllReduce, A::kNvls, testing::kGiB, g2), A::kNvls);
  EXPECT_EQ(cost::parse_algorithm("auto"), A::kAuto);
  EXPECT_EQ(cost::parse_algorithm("nvls"), A::kNvls);
  EXPECT_THROW(cost::parse_algorithm("butterfly"), std::invalid_argument);
}

}  // namespace
}  // namespace frugal

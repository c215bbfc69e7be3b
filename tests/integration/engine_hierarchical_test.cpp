// Hierarchical all-reduce across 2 nodes × 4 GPUs with slow inter-node links: its closed form,
// the flat ring's, and hierarchical beating flat (measured in one run, one after the other).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using program::CollectiveAlgorithm;
using program::CollectiveKind;
using testing::kMiB;

constexpr platforms::LinkSpec kGpuLink{300e9, 1e-6};
constexpr platforms::LinkSpec kNic{12.5e9, 5e-6};
constexpr double kSwitchLatencyS = 2e-6;
constexpr double kBytes = 256 * kMiB;
constexpr double kAlphaIntra = 2 * kGpuLink.latency_s;
constexpr double kBetaIntra = kGpuLink.bandwidth_bytes_per_s;
constexpr double kAlphaInter = 2 * kNic.latency_s + kSwitchLatencyS;
constexpr double kBetaNic = kNic.bandwidth_bytes_per_s;

platforms::Cluster two_nodes(int nics_per_node) {
  testing::ClusterShape s;
  s.nodes = 2;
  s.gpus_per_node = 4;
  s.gpu_link = kGpuLink;
  s.nic = kNic;
  s.nics_per_node = nics_per_node;
  s.switch_latency_s = kSwitchLatencyS;
  return testing::make_cluster(s);
}

// L = 4 members per node, M = 2 nodes. Intra-node reduce-scatter and all-gather: 3 steps of S/4
// each. Inter-node all-reduce on S/4 bytes: 2 steps of S/8, the 4 rings of a node sharing
// `nics` NICs (uplink = nics × NIC), so each flow gets β_nic·nics/4.
double hierarchical_closed_form(int nics) {
  const double intra = 2 * 3 * (kAlphaIntra + kBytes / 4 / kBetaIntra);
  const double inter = 2 * (kAlphaInter + kBytes / 8 / (kBetaNic * nics / 4));
  return intra + inter;
}

// Flat ring 0..7: two of its edges (3→4, 7→0) cross the network; every step waits for them.
double flat_closed_form() { return 14 * (kAlphaInter + kBytes / 8 / kBetaNic); }

program::Program all_reduce(CollectiveAlgorithm algorithm) {
  program::Program p = testing::make_program(8);
  const int world = testing::add_world_group(p);
  testing::add_collective_to_members(p, testing::collective(CollectiveKind::kAllReduce, world, 0, kBytes, algorithm));
  return p;
}

TEST(Hierarchical, MatchesClosedFormAndBeatsFlat) {
  const engine::SimulationResult r = engine::simulate(two_nodes(1), all_reduce(CollectiveAlgorithm::kHierarchical), {});
  const double expected = hierarchical_closed_form(1);
  std::printf("hierarchical: simulated %.9g s, closed form %.9g s; flat closed form %.9g s\n", r.makespan_s, expected,
              flat_closed_form());
  EXPECT_NEAR(r.makespan_s, expected, 0.02 * expected);
  EXPECT_LT(r.makespan_s, 0.8 * flat_closed_form());
  // 8 ranks × (3 + 2 + 3) steps.
  EXPECT_EQ(r.activities, 64u);
}

TEST(Hierarchical, OneNicPerGpuRemovesSharing) {
  const engine::SimulationResult r = engine::simulate(two_nodes(4), all_reduce(CollectiveAlgorithm::kHierarchical), {});
  const double expected = hierarchical_closed_form(4);
  std::printf("hierarchical, 4 NICs: simulated %.9g s, closed form %.9g s\n", r.makespan_s, expected);
  EXPECT_NEAR(r.makespan_s, expected, 0.02 * expected);
}

TEST(Hierarchical, FlatRingClosedForm) {
  const engine::SimulationResult r = engine::simulate(two_nodes(1), all_reduce(CollectiveAlgorithm::kRing), {});
  std::printf("flat ring: simulated %.9g s, closed form %.9g s\n", r.makespan_s, flat_closed_form());
  EXPECT_NEAR(r.makespan_s, flat_closed_form(), 0.02 * flat_closed_form());
  EXPECT_EQ(r.activities, 8u * 14u);
}

TEST(Hierarchical, FasterThanFlatInOneRun) {
  program::Program p = testing::make_program(8);
  const int world = testing::add_world_group(p);
  for (auto& rp : p.ranks) {
    program::RankBuilder b(rp);
    const auto flat = b.collective("flat", testing::collective(CollectiveKind::kAllReduce, world, 0, kBytes));
    b.collective("hier", testing::collective(CollectiveKind::kAllReduce, world, 1, kBytes,
                                             CollectiveAlgorithm::kHierarchical),
                 {flat});
  }
  const engine::SimulationResult r = engine::simulate(two_nodes(1), p, {});
  double flat_end = 0, flat_shortest = 1e30, hier_longest = 0;
  for (const auto& e : r.timeline) {
    if (e.name == "flat") {
      flat_end = std::max(flat_end, e.end_s);
      flat_shortest = std::min(flat_shortest, e.end_s - e.start_s);
    }
    if (e.name == "hier") hier_longest = std::max(hier_longest, e.end_s - e.start_s);
  }
  EXPECT_LT(hier_longest, flat_shortest);
  EXPECT_NEAR(r.makespan_s - flat_end, hierarchical_closed_form(1), 0.02 * hierarchical_closed_form(1));
}

TEST(Hierarchical, UnevenGroupFallsBackToRing) {
  // Ranks 0, 1, 2 on node 0 and rank 4 on node 1: no equal split, so a ring 0→1→2→4→0 whose
  // edges 2→4 and 4→0 cross the network: 6 steps of S/4 at NIC speed.
  program::Program p = testing::make_program(8);
  const int g = testing::add_group(p, "uneven", {0, 1, 2, 4});
  testing::add_collective_to_members(
      p, testing::collective(CollectiveKind::kAllReduce, g, 0, kBytes, CollectiveAlgorithm::kHierarchical));
  const engine::SimulationResult r = engine::simulate(two_nodes(1), p, {});
  const double expected = 6 * (kAlphaInter + kBytes / 4 / kBetaNic);
  EXPECT_NEAR(r.makespan_s, expected, 0.02 * expected);
  EXPECT_DOUBLE_EQ(r.ranks[3].finish_s, 0);  // not a member: never ran anything
}

}  // namespace
}  // namespace frugal

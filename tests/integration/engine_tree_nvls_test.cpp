// The tree and NVLS all-reduces in the engine, step by step and aggregated, against their closed
// forms (sim/cost/collective_algorithms.hpp), and kAuto picking per size as NCCL's tuning does.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "sim/cost/collective_algorithms.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using program::CollectiveAlgorithm;
using program::CollectiveKind;
using testing::kMiB;

constexpr platforms::LinkSpec kNic{25e9, 5e-6};
constexpr double kSwitchLatencyS = 1e-6;
constexpr double kAlphaInter = 2 * kNic.latency_s + kSwitchLatencyS;

engine::EngineOptions with_model(engine::CollectiveModel model) {
  engine::EngineOptions o;
  o.collective_model = model;
  return o;
}

/// One all-reduce of each of `sizes` by every rank of a world group, one after the other.
program::Program all_reduces(int ranks, const std::vector<double>& sizes, CollectiveAlgorithm algorithm) {
  program::Program p = testing::make_program(ranks);
  const int world = testing::add_world_group(p);
  for (std::size_t k = 0; k < sizes.size(); ++k)
    testing::add_collective_to_members(
        p, testing::collective(CollectiveKind::kAllReduce, world, static_cast<std::int64_t>(k), sizes[k], algorithm));
  return p;
}

/// Time of each collective of `all_reduces`: from the end of the previous one on its last rank to
/// the end of its own on its last rank (as `frugalsim collective` measures).
std::vector<double> durations(const engine::SimulationResult& r, std::size_t count) {
  std::vector<double> end(count, 0.0);
  std::vector<std::vector<double>> by_rank;  // each rank's collectives end in program order
  for (const engine::TimelineEvent& e : r.timeline) {
    if (e.category != "collective") continue;
    const std::size_t rank = static_cast<std::size_t>(e.rank);
    if (by_rank.size() <= rank) by_rank.resize(rank + 1);
    by_rank[rank].push_back(e.end_s);
  }
  for (const auto& ends : by_rank)
    for (std::size_t k = 0; k < ends.size() && k < count; ++k) end[k] = std::max(end[k], ends[k]);
  std::vector<double> out(count);
  for (std::size_t k = 0; k < count; ++k) out[k] = end[k] - (k == 0 ? 0.0 : end[k - 1]);
  return out;
}

double closed_form(const platforms::Cluster& cluster, double bytes, CollectiveAlgorithm algorithm) {
  std::vector<int> gpus(static_cast<std::size_t>(cluster.gpu_count()));
  for (int g = 0; g < cluster.gpu_count(); ++g) gpus[static_cast<std::size_t>(g)] = g;
  const cost::GroupShape shape = cost::group_shape(cluster, gpus);
  return cost::collective_time_s(CollectiveKind::kAllReduce, algorithm, bytes, shape, shape.intra, shape.inter);
}

TEST(TreeAllReduce, TwoNodesMatchTheClosedForm) {
  // (k + 1)·α + S/β (cost test TwoNodeTreeClosedForm), here k = 4 pieces of 4 MiB per tree.
  const platforms::Cluster cluster = testing::one_gpu_per_node_cluster(2, kNic, kSwitchLatencyS);
  const double bytes = 32 * kMiB;
  const double expected = 5 * kAlphaInter + bytes / kNic.bandwidth_bytes_per_s;
  EXPECT_NEAR(closed_form(cluster, bytes, CollectiveAlgorithm::kTree), expected, 1e-9 * expected);
  const engine::SimulationResult r = engine::simulate(cluster, all_reduces(2, {bytes}, CollectiveAlgorithm::kTree),
                                                      with_model(engine::CollectiveModel::kStepByStep));
  EXPECT_NEAR(r.makespan_s, expected, 1e-9 * expected);
}

/// 8 nodes of 2 GPUs and 2 NICs: 2 channels, 4 trees of height 3 + 1.
platforms::Cluster eight_nodes_of_two() {
  testing::ClusterShape shape;
  shape.nodes = 8;
  shape.gpus_per_node = 2;
  shape.nic = kNic;
  shape.nics_per_node = 2;
  shape.switch_latency_s = kSwitchLatencyS;
  return testing::make_cluster(shape);
}

const std::vector<double> kTreeSizes = {64.0 * 1024, 64 * kMiB};

/// Each size's simulated time against the closed form, which paces every step by its most loaded
/// link direction: on these uniform routes with nothing else running, the engine gives it
/// exactly (the aggregate model runs trees step by step too).
void expect_tree_times(engine::CollectiveModel model) {
  const platforms::Cluster cluster = eight_nodes_of_two();
  const engine::SimulationResult r =
      engine::simulate(cluster, all_reduces(16, kTreeSizes, CollectiveAlgorithm::kTree), with_model(model));
  const std::vector<double> got = durations(r, kTreeSizes.size());
  for (std::size_t k = 0; k < kTreeSizes.size(); ++k) {
    const double expected = closed_form(cluster, kTreeSizes[k], CollectiveAlgorithm::kTree);
    std::printf("tree, 8 nodes x 2, %s, %.0f B: simulated %.9g s, closed form %.9g s (%+.2f %%)\n",
                engine::to_string(model).c_str(), kTreeSizes[k], got[k], expected, 100 * (got[k] / expected - 1));
    EXPECT_NEAR(got[k], expected, 1e-9 * expected) << kTreeSizes[k];
  }
}

TEST(TreeAllReduce, EightNodesOfTwoStepByStep) { expect_tree_times(engine::CollectiveModel::kStepByStep); }

TEST(TreeAllReduce, EightNodesOfTwoAggregated) { expect_tree_times(engine::CollectiveModel::kAggregate); }

/// 2·α_link + S/min(β_link, nvls_bandwidth): every member's S to the switch and back at once.
void expect_nvls_closed_form(engine::CollectiveModel model) {
  const platforms::Cluster cluster = testing::nvls_node_cluster(8);
  const double bytes = 256 * kMiB;
  const double expected = 2e-6 + bytes / 275e9;
  EXPECT_NEAR(closed_form(cluster, bytes, CollectiveAlgorithm::kNvls), expected, 1e-12);
  const engine::SimulationResult r =
      engine::simulate(cluster, all_reduces(8, {bytes}, CollectiveAlgorithm::kNvls), with_model(model));
  EXPECT_NEAR(r.makespan_s, expected, 1e-9 * expected);
}

TEST(NvlsAllReduce, StepByStepMatchesTheSwitchClosedForm) { expect_nvls_closed_form(engine::CollectiveModel::kStepByStep); }

TEST(NvlsAllReduce, AggregatedMatchesTheSwitchClosedForm) { expect_nvls_closed_form(engine::CollectiveModel::kAggregate); }

TEST(NvlsAllReduce, WaitsForTheLastMember) {
  // Rank 3 computes for 1 ms first: the switch cannot sum before its contribution arrives.
  const platforms::Cluster cluster = testing::nvls_node_cluster(4);
  program::Program p = all_reduces(4, {64 * kMiB}, CollectiveAlgorithm::kNvls);
  program::RankProgram& late = p.ranks[3];
  program::RankProgram delayed;
  delayed.rank = late.rank;
  delayed.gpu = late.gpu;
  program::RankBuilder b(delayed);
  const program::OpId work = b.compute("work", testing::compute_op(100e12 * 1e-3));
  b.collective("ar", late.ops.front().collective(), {work});
  late = delayed;
  const engine::SimulationResult r = engine::simulate(cluster, p, with_model(engine::CollectiveModel::kStepByStep));
  const double transfer = 2e-6 + 64 * kMiB / 275e9;
  for (int rank = 0; rank < 4; ++rank) EXPECT_NEAR(r.ranks[rank].finish_s, 1e-3 + transfer, 1e-9) << rank;
}

TEST(AutoAllReduce, PicksTheTreeForSmallAndTheRingForLargeSizes) {
  // 16 nodes of one GPU: kAuto runs each size as cost::select_algorithm picks it, and the ring's
  // time on these uniform routes is its closed form 2(n−1)·(α + S/(nβ)).
  const platforms::Cluster cluster = testing::one_gpu_per_node_cluster(16, kNic, kSwitchLatencyS);
  const std::vector<double> sizes = {4.0 * 1024, 1024 * kMiB};
  std::vector<int> gpus(16);
  for (int g = 0; g < 16; ++g) gpus[static_cast<std::size_t>(g)] = g;
  const cost::GroupShape shape = cost::group_shape(cluster, gpus);
  EXPECT_EQ(cost::select_algorithm(CollectiveKind::kAllReduce, sizes[0], shape), CollectiveAlgorithm::kTree);
  EXPECT_EQ(cost::select_algorithm(CollectiveKind::kAllReduce, sizes[1], shape), CollectiveAlgorithm::kRing);
  const engine::SimulationResult r = engine::simulate(cluster, all_reduces(16, sizes, CollectiveAlgorithm::kAuto),
                                                      with_model(engine::CollectiveModel::kStepByStep));
  const std::vector<double> got = durations(r, sizes.size());
  const double tree = closed_form(cluster, sizes[0], CollectiveAlgorithm::kTree);
  const double ring = 30 * (kAlphaInter + sizes[1] / 16 / kNic.bandwidth_bytes_per_s);
  std::printf("auto, 16 nodes: %.0f B in %.9g s (tree closed form %.9g s), %.0f B in %.9g s (ring %.9g s)\n", sizes[0],
              got[0], tree, sizes[1], got[1], ring);
  EXPECT_NEAR(got[0], tree, 1e-9 * tree);
  EXPECT_NEAR(got[1], ring, 1e-9 * ring);
}

}  // namespace
}  // namespace frugal

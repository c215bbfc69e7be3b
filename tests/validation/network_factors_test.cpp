// The calibrated network against closed forms. Size factors of links (LinkSpec::factors): one
// message of S bytes over a route of latency α and bandwidth β takes
// α·latency_factor + S/(β·bandwidth_factor), with the factor of the highest link class on the
// route (the NIC's between nodes). Collective overheads: a ring all-reduce of n members takes
// overhead + 2(n−1)·(α + S/(n·β)).
#include <gtest/gtest.h>

#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using testing::kKiB;
using testing::kMiB;

constexpr double kSwitchLatencyS = 1e-6;

/// Time of one send of `bytes` from rank 0 to rank 1 (GPU 0 → GPU 1) on `cluster`.
double one_message_s(const platforms::Cluster& cluster, double bytes) {
  program::Program p = testing::make_program(2);
  testing::add_send(p.ranks[0], 1, 7, bytes);
  testing::add_recv(p.ranks[1], 0, 7, bytes);
  engine::EngineOptions options;
  options.record_timeline = false;
  return engine::simulate(cluster, p, options).makespan_s;
}

platforms::LinkSpec nic_with_factors() {
  platforms::LinkSpec nic{50e9, 3e-6};
  nic.factors = {{0, 4.0, 0.25}, {64 * kKiB, 1.5, 0.6}, {4 * kMiB, 1.0, 0.9}};
  return nic;
}

class BetweenNodes : public ::testing::TestWithParam<double> {};

TEST_P(BetweenNodes, FollowTheNicFactorOfTheMessageSize) {
  const double bytes = GetParam();
  const platforms::LinkSpec nic = nic_with_factors();
  const platforms::Cluster cluster = testing::one_gpu_per_node_cluster(2, nic, kSwitchLatencyS);
  const platforms::SizeFactor* f = nic.factor_for(bytes);
  ASSERT_NE(f, nullptr);
  const double alpha = 2 * nic.latency_s + kSwitchLatencyS;
  const double expected = alpha * f->latency + bytes / (nic.bandwidth_bytes_per_s * f->bandwidth);
  EXPECT_NEAR(one_message_s(cluster, bytes), expected, 1e-9 * expected) << bytes << " B";
}

INSTANTIATE_TEST_SUITE_P(Sizes, BetweenNodes, ::testing::Values(1.0, 8 * kKiB, 64 * kKiB, 1 * kMiB, 4 * kMiB, 64 * kMiB));

TEST(NetworkFactors, InsideANodeTheGpuLinkDecides) {
  testing::ClusterShape shape;
  shape.gpus_per_node = 2;
  shape.gpu_link = {200e9, 2e-6};
  shape.gpu_link.factors = {{0, 3.0, 0.5}};
  shape.nic = nic_with_factors();  // not on the route
  const platforms::Cluster cluster = testing::make_cluster(shape);
  const double bytes = 16 * kMiB;
  const double expected = 2 * 2e-6 * 3.0 + bytes / (200e9 * 0.5);
  EXPECT_NEAR(one_message_s(cluster, bytes), expected, 1e-9 * expected);
}

TEST(NetworkFactors, WithoutFactorsTheNominalModelHolds) {
  const platforms::LinkSpec nic{50e9, 3e-6};
  const platforms::Cluster cluster = testing::one_gpu_per_node_cluster(2, nic, kSwitchLatencyS);
  const double bytes = 1 * kMiB;
  const double expected = 2 * 3e-6 + kSwitchLatencyS + bytes / 50e9;
  EXPECT_NEAR(one_message_s(cluster, bytes), expected, 1e-9 * expected);
}

TEST(CollectiveOverhead, EachCollectivePaysItOnce) {
  const platforms::LinkSpec gpu_link{100e9, 1e-6};
  platforms::Cluster cluster = testing::single_node_cluster(4, gpu_link);
  cluster.network.collective_overhead_s = {20e-6};  // all_reduce only
  program::Program p = testing::make_program(4);
  const int world = testing::add_world_group(p);
  const double bytes = 64 * kMiB;
  for (int i = 0; i < 2; ++i)
    testing::add_collective_to_members(p, testing::collective(program::CollectiveKind::kAllReduce, world, i, bytes));
  testing::add_collective_to_members(p, testing::collective(program::CollectiveKind::kAllGather, world, 2, bytes));
  engine::EngineOptions options;
  options.record_timeline = false;
  const double n = 4, alpha = 2 * gpu_link.latency_s, beta = gpu_link.bandwidth_bytes_per_s;
  const double all_reduce = 20e-6 + 2 * (n - 1) * (alpha + bytes / n / beta);
  const double all_gather = (n - 1) * (alpha + bytes / n / beta);
  const double expected = 2 * all_reduce + all_gather;
  EXPECT_NEAR(engine::simulate(cluster, p, options).makespan_s, expected, 1e-9 * expected);
}

}  // namespace
}  // namespace frugal

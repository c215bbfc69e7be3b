// sim/cost/path: α-β of the routes between GPUs and to host memory, from the cluster spec.
#include <gtest/gtest.h>

#include "sim/cost/path.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

platforms::Cluster two_nodes(int nics_per_node, double backbone_bytes_per_s) {
  testing::ClusterShape s;
  s.nodes = 2;
  s.gpus_per_node = 2;
  s.gpu_link = {300e9, 1e-6};
  s.host_link = {25e9, 2e-6};
  s.nic = {25e9, 5e-6};
  s.nics_per_node = nics_per_node;
  s.switch_latency_s = 3e-6;
  s.backbone_bandwidth_bytes_per_s = backbone_bytes_per_s;
  return testing::make_cluster(s);
}

TEST(CostPath, SameNodeCrossesTwoGpuLinks) {
  const cost::Path p = cost::gpu_path(two_nodes(1, 0), 0, 1);
  EXPECT_DOUBLE_EQ(p.latency_s, 2e-6);
  EXPECT_DOUBLE_EQ(p.bandwidth_bytes_per_s, 300e9);
  EXPECT_DOUBLE_EQ(p.seconds(3e9), 2e-6 + 0.01);
  EXPECT_DOUBLE_EQ(p.seconds(0), 2e-6);
}

TEST(CostPath, AcrossNodesThroughNicsSwitchAndBackbone) {
  const cost::Path p = cost::gpu_path(two_nodes(2, 0), 1, 2);
  EXPECT_DOUBLE_EQ(p.latency_s, 5e-6 + 3e-6 + 5e-6);
  EXPECT_DOUBLE_EQ(p.bandwidth_bytes_per_s, 25e9);
  EXPECT_DOUBLE_EQ(cost::gpu_path(two_nodes(1, 10e9), 0, 3).bandwidth_bytes_per_s, 10e9);
  EXPECT_DOUBLE_EQ(cost::gpu_path(two_nodes(1, 100e9), 0, 3).bandwidth_bytes_per_s, 25e9);
}

TEST(CostPath, GpuToHostOverPcie) {
  const cost::Path p = cost::host_path(two_nodes(1, 0), 3);
  EXPECT_DOUBLE_EQ(p.latency_s, 2e-6);
  EXPECT_DOUBLE_EQ(p.bandwidth_bytes_per_s, 25e9);
}

}  // namespace
}  // namespace frugal

// Pins the routes build_platform() gives SimGrid on a small multi-node platform (3 nodes of 4
// GPUs, 2 NICs each, a backbone, shared storage): the links of each route in order, its latency
// and its bandwidth, so a change in how zones and routes are built cannot change them silently.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include <simgrid/s4u.hpp>

#include "sim/engine/platform_builder.hpp"
#include "tests/support/small_cluster.hpp"

namespace {

namespace sg4 = simgrid::s4u;
using frugal::engine::BuiltPlatform;
using frugal::engine::PlatformExtras;
using Links = std::vector<std::string>;

constexpr double kGpuLinkLatencyS = 1e-6, kPcieLatencyS = 2e-6, kNicLatencyS = 5e-6, kSwitchLatencyS = 3e-6,
                 kStorageLatencyS = 7e-6;

frugal::platforms::Cluster cluster(double backbone_bytes_per_s) {
  frugal::testing::ClusterShape s;
  s.nodes = 3;
  s.gpus_per_node = 4;
  s.nics_per_node = 2;
  s.gpu_link = {300e9, kGpuLinkLatencyS};
  s.host_link = {25e9, kPcieLatencyS};
  s.nic = {50e9, kNicLatencyS};
  s.switch_latency_s = kSwitchLatencyS;
  s.backbone_bandwidth_bytes_per_s = backbone_bytes_per_s;
  frugal::platforms::Cluster c = frugal::testing::make_cluster(s);
  c.storage.has_shared = true;
  c.storage.shared = {20e9, kStorageLatencyS};
  return c;
}

/// Builds `c` in this process's engine (one per TEST: each runs in its own process).
BuiltPlatform build(const frugal::platforms::Cluster& c) {
  static std::vector<std::string> args = {"platform_routes_test", "--log=root.thres:critical"};
  static std::vector<char*> argv = {args[0].data(), args[1].data(), nullptr};
  static int argc = 2;
  static sg4::Engine engine(&argc, argv.data());
  frugal::engine::configure_network_model();
  PlatformExtras extras;
  extras.storage = true;
  extras.controller = true;
  return frugal::engine::build_platform(c, frugal::core::Precision::kBf16, extras);
}

struct Route {
  Links links;
  double latency_s = 0;
  double bandwidth_bytes_per_s = 0;
};

Route route(const sg4::Host* from, const sg4::Host* to) {
  std::vector<sg4::Link*> links;
  Route r;
  from->route_to(to, links, &r.latency_s);
  r.bandwidth_bytes_per_s = std::numeric_limits<double>::infinity();
  for (const sg4::Link* l : links) {
    r.links.push_back(l->get_name());
    r.bandwidth_bytes_per_s = std::min(r.bandwidth_bytes_per_s, l->get_bandwidth());
  }
  return r;
}

}  // namespace

TEST(PlatformRoutes, GpuToGpuOfTheSameNodeUsesBothNvlinks) {
  const BuiltPlatform p = build(cluster(120e9));
  const Route r = route(p.gpu_hosts[1], p.gpu_hosts[3]);
  EXPECT_EQ(r.links, (Links{"node0-gpu1-link_UP", "node0-gpu3-link_DOWN"}));
  EXPECT_EQ(r.latency_s, kGpuLinkLatencyS + kGpuLinkLatencyS);
  EXPECT_EQ(r.bandwidth_bytes_per_s, 300e9);
  EXPECT_EQ(route(p.gpu_hosts[3], p.gpu_hosts[1]).links, (Links{"node0-gpu3-link_UP", "node0-gpu1-link_DOWN"}));
  EXPECT_EQ(route(p.gpu_hosts[9], p.gpu_hosts[8]).links, (Links{"node2-gpu1-link_UP", "node2-gpu0-link_DOWN"}));
}

TEST(PlatformRoutes, GpuToGpuAcrossNodesCrossesNicsUplinksAndTheBackboneOnce) {
  const BuiltPlatform p = build(cluster(120e9));
  // GPU 1 of node 0 uses NIC 1 (1 mod 2); GPU 2 of node 2 uses NIC 0.
  const Route r = route(p.gpu_hosts[1], p.gpu_hosts[10]);
  EXPECT_EQ(r.links, (Links{"node0-nic1_UP", "node0-uplink_UP", "backbone", "node2-uplink_DOWN", "node2-nic0_DOWN"}));
  EXPECT_EQ(r.latency_s, kNicLatencyS + kSwitchLatencyS / 2 + 0.0 + kSwitchLatencyS / 2 + kNicLatencyS);
  EXPECT_EQ(r.bandwidth_bytes_per_s, 50e9);
  EXPECT_EQ(route(p.gpu_hosts[10], p.gpu_hosts[1]).links,
            (Links{"node2-nic0_UP", "node2-uplink_UP", "backbone", "node0-uplink_DOWN", "node0-nic1_DOWN"}));
  EXPECT_EQ(route(p.gpu_hosts[7], p.gpu_hosts[4]).links, (Links{"node1-gpu3-link_UP", "node1-gpu0-link_DOWN"}));
}

TEST(PlatformRoutes, WithoutBackboneNodesMeetAtTheStar) {
  const BuiltPlatform p = build(cluster(0));
  const Route r = route(p.gpu_hosts[5], p.gpu_hosts[3]);
  EXPECT_EQ(r.links, (Links{"node1-nic1_UP", "node1-uplink_UP", "node0-uplink_DOWN", "node0-nic1_DOWN"}));
  EXPECT_EQ(r.latency_s, kNicLatencyS + kSwitchLatencyS / 2 + kSwitchLatencyS / 2 + kNicLatencyS);
  EXPECT_EQ(r.bandwidth_bytes_per_s, 50e9);
}

TEST(PlatformRoutes, GpuAndCpuOfANodeShareThatGpusPcieLinkAndTheNodesHostSide) {
  const BuiltPlatform p = build(cluster(120e9));
  const Route up = route(p.gpu_hosts[6], p.cpu_hosts[1]);
  // The host side has no latency and, undeclared, GPUs × PCIe bandwidth: it never binds alone.
  EXPECT_EQ(up.links, (Links{"node1-gpu2-pcie_UP", "node1-host_UP"}));
  EXPECT_EQ(up.latency_s, kPcieLatencyS);
  EXPECT_EQ(up.bandwidth_bytes_per_s, 25e9);
  EXPECT_EQ(route(p.cpu_hosts[1], p.gpu_hosts[6]).links, (Links{"node1-host_DOWN", "node1-gpu2-pcie_DOWN"}));
  // Another node's CPU: through the GPU's NIC there and NIC 0 of the CPU's node.
  EXPECT_EQ(route(p.gpu_hosts[6], p.cpu_hosts[2]).links,
            (Links{"node1-nic0_UP", "node1-uplink_UP", "backbone", "node2-uplink_DOWN", "node2-nic0_DOWN"}));
  EXPECT_EQ(route(p.cpu_hosts[0], p.cpu_hosts[2]).links,
            (Links{"node0-nic0_UP", "node0-uplink_UP", "backbone", "node2-uplink_DOWN", "node2-nic0_DOWN"}));
}

TEST(PlatformRoutes, GpuAndCpuReachStorageThroughTheirUplinkAndTheStorageLink) {
  const BuiltPlatform p = build(cluster(120e9));
  ASSERT_NE(p.storage_host, nullptr);
  const Route w = route(p.gpu_hosts[11], p.storage_host);
  EXPECT_EQ(w.links, (Links{"node2-nic1_UP", "node2-uplink_UP", "backbone", "storage-link_DOWN"}));
  EXPECT_EQ(w.latency_s, kNicLatencyS + kSwitchLatencyS / 2 + 0.0 + kStorageLatencyS);
  EXPECT_EQ(w.bandwidth_bytes_per_s, 20e9);
  const Route r = route(p.storage_host, p.gpu_hosts[11]);
  EXPECT_EQ(r.links, (Links{"storage-link_UP", "backbone", "node2-uplink_DOWN", "node2-nic1_DOWN"}));
  EXPECT_EQ(r.latency_s, kStorageLatencyS + 0.0 + kSwitchLatencyS / 2 + kNicLatencyS);
  EXPECT_EQ(route(p.cpu_hosts[0], p.storage_host).links,
            (Links{"node0-nic0_UP", "node0-uplink_UP", "backbone", "storage-link_DOWN"}));
  EXPECT_EQ(route(p.storage_host, p.cpu_hosts[0]).links,
            (Links{"storage-link_UP", "backbone", "node0-uplink_DOWN", "node0-nic0_DOWN"}));
}

TEST(PlatformRoutes, EveryGpuPairMatchesTheStatedPathCost) {
  const frugal::platforms::Cluster c = cluster(120e9);
  const BuiltPlatform p = build(c);
  for (int a = 0; a < c.gpu_count(); ++a)
    for (int b = 0; b < c.gpu_count(); ++b) {
      if (a == b) continue;
      const Route r = route(p.gpu_hosts[a], p.gpu_hosts[b]);
      const frugal::engine::PathCost cost = frugal::engine::gpu_path(c, a, b);
      EXPECT_NEAR(r.latency_s, cost.latency_s, 1e-18) << a << " -> " << b;
      EXPECT_EQ(r.bandwidth_bytes_per_s, cost.bandwidth_bytes_per_s) << a << " -> " << b;
      EXPECT_EQ(r.links.size(), p.node_of_gpu[a] == p.node_of_gpu[b] ? 2u : 5u) << a << " -> " << b;
    }
}

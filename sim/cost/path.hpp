// α-β of the routes between two GPUs of a cluster (same node, different nodes) and between a GPU
// and its node's host memory, from the cluster spec alone: the closed forms of the routes the
// SimGrid platform builder builds. Pure functions; no SimGrid.
#pragma once

#include "platforms/cluster_spec.hpp"

namespace frugal::cost {

/// Uncontended cost of one route: time(S bytes) = latency_s + S / bandwidth_bytes_per_s.
struct Path {
  double latency_s = 0;
  double bandwidth_bytes_per_s = 0;

  /// latency_s + bytes / bandwidth_bytes_per_s (latency_s alone for 0 bytes or no bandwidth).
  double seconds(double bytes) const;
};

/// α and β of the route from GPU `from` to GPU `to` (global indices, from != to):
/// - same node: two GPU links (up to the node's switch and down): α = 2·gpu_link.latency,
///   β = gpu_link.bandwidth;
/// - different nodes: through each node's NIC and the switch: α = nic_a.latency + switch latency
///   + nic_b.latency, β = min(both NICs' bandwidth, each node's NICs in total, the backbone when
///   there is one).
Path gpu_path(const platforms::Cluster& cluster, int from, int to);

/// α and β of GPU `gpu`'s route to its node's NVSwitch and back when the switch reduces
/// (NVLink SHARP): α = 2·gpu_link.latency (to the switch and back), β = min(gpu_link,
/// nvls_bandwidth); bandwidth 0 when the node type declares no nvls_bandwidth.
Path nvls_path(const platforms::Cluster& cluster, int gpu);

/// α and β of the PCIe route between GPU `gpu` and its node's CPU host (copies, checkpoints):
/// host_link's latency and bandwidth.
Path host_path(const platforms::Cluster& cluster, int gpu);

}  // namespace frugal::cost

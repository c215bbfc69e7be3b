// Cluster (plain data) → SimGrid platform: one star zone joining one full zone per node. Keeps
// its own GPU → Host* and node → CPU Host* vectors so nothing is ever looked up by name later.
// Also states, as plain functions, the latency α and bandwidth β of every path it builds, so
// tests and analytic models can use the same numbers without SimGrid.
#pragma once

#include <string>
#include <vector>

#include "platforms/cluster_spec.hpp"
#include "sim/cost/path.hpp"
#include "sim/core/precision.hpp"

namespace simgrid::s4u {
class Disk;
class Host;
}

namespace frugal::engine {

/// A GPU host's power state while a collective of its runs on a communication stream (present
/// when its GpuSpec::overlap_slowdown > 0): speed / (1 + overlap_slowdown), same power range.
inline constexpr int kOverlappedPstate = 1;

/// Platform built by build_platform(). Pointers are owned by the SimGrid Engine.
struct BuiltPlatform {
  std::vector<simgrid::s4u::Host*> gpu_hosts;  ///< global GPU index (Cluster::gpus order) → host
  std::vector<simgrid::s4u::Host*> cpu_hosts;  ///< node id → the node's CPU host
  /// node id → its NVSwitch host when the node type declares nvls_bandwidth, else nullptr
  std::vector<simgrid::s4u::Host*> nvswitch_hosts;
  std::vector<int> node_of_gpu;                ///< global GPU index → node id
  simgrid::s4u::Host* storage_host = nullptr;     ///< PlatformExtras::storage: the shared file system
  simgrid::s4u::Host* controller_host = nullptr;  ///< PlatformExtras::controller
  std::vector<simgrid::s4u::Disk*> node_disks;    ///< PlatformExtras::local_disks: node id → disk
  std::vector<simgrid::s4u::Disk*> nvme_disks;    ///< node id → its NVMe disk (nullptr: none declared)
};

/// What a campaign adds to the platform of a training step (see build_platform).
struct PlatformExtras {
  /// By node id ("" or missing: none): SimGrid speed profile text ("date ratio" lines, as
  /// platforms::speed_profile writes it), attached to the node's GPU hosts before they are
  /// sealed, through ProfileBuilder::from_string (SimGrid 3.32 aborts on profile files given by
  /// absolute path). Node failures are not profiles: the campaign controller turns hosts off
  /// and on (AvailabilityTimeline), since a replacement machine draws new failures mid-run.
  std::vector<std::string> node_speed_profiles;
  /// Host "storage" in the top-level star zone behind the split-duplex link "storage-link"
  /// (cluster.storage.shared: aggregate bandwidth per direction, latency); requires it.
  bool storage = false;
  /// Disk "node<i>-disk" on each node's CPU host (read = write = local_disk bandwidth); requires it.
  bool local_disks = false;
  /// Host "controller" in the star zone (no profile, so it never fails; no route: it never
  /// communicates). It runs the campaign controller actor.
  bool controller = false;
};

/// Builds the platform of `cluster` in the current simgrid::s4u::Engine, which must exist, be
/// configured (network model) and hold no platform yet. Layout:
///
///   zone "platform" (the root; its only child is the star)
///   zone "cluster" (star) ── per node: uplink "node<i>-uplink" (split duplex, bandwidth =
///   │                        nics_per_node × nic bandwidth, latency = switch_latency_s / 2),
///   │                        then, when backbone_bandwidth_bytes_per_s > 0, the one shared
///   │                        link "backbone" (latency 0, both directions share it)
///   └─ zone "node<i>" (full), gateway router "node<i>-router"
///        hosts "node<i>-gpu<j>" (speed = effective FLOP/s of `precision`, wattage idle:max),
///        host "node<i>-cpu" (cpu_flops_per_s, wattage cpu idle:max), with disk "node<i>-nvme"
///        (read = write = nvme bandwidth) when the node type declares an NVMe
///        per GPU j: "node<i>-gpu<j>-link" (gpu_link, split duplex) and "node<i>-gpu<j>-pcie"
///        (host_link, split duplex); per NIC k: "node<i>-nic<k>" (nic, split duplex); one
///        "node<i>-host" (split duplex, latency 0, host_side_bandwidth per direction) that
///        the node's GPU↔CPU transfers share; with nvls_bandwidth, host "node<i>-nvswitch" and
///        per GPU "node<i>-gpu<j>-nvls" (split duplex, nvls_bandwidth, gpu_link's latency): the
///        switch's reduction for that GPU's NVLS traffic
///        routes: gpu_j → gpu_m = [link_j UP, link_m DOWN]; gpu_j ↔ cpu = [pcie_j, host];
///                gpu_j ↔ router = nic (j mod nics_per_node); cpu ↔ router = nic 0;
///                gpu_j ↔ nvswitch = [link_j, nvls_j] (NVLS only).
///
/// Path costs (α = sum of one-way link latencies, β = smallest bandwidth on the path):
///   same node, GPU → GPU:   α = 2·gpu_link.latency,             β = gpu_link.bandwidth
///   GPU ↔ its node's CPU:   α = host_link.latency,              β = host_link.bandwidth
///                           (k GPUs at once in one direction share host_side_bandwidth)
///   GPU → GPU, two nodes:   α = nic_a.latency + switch_latency + nic_b.latency,
///                           β = min(nic_a, nic_b, uplinks, backbone) bandwidths
/// Split-duplex links give each direction its full bandwidth; flows in one direction of one
/// link share it (max-min), e.g. the GPUs of a node that use the same NIC.
/// Throws std::invalid_argument for an inconsistent cluster (a GPU slot outside its node type)
/// or a precision a GPU can neither run nor fall back from.
BuiltPlatform build_platform(const platforms::Cluster& cluster, core::Precision precision);

/// Same, plus the campaign additions of `extras`: per-node state and speed profiles, the
/// storage host (route storage ↔ GPU/CPU of node i = [node route to its router, node<i>-uplink,
/// (backbone), storage-link]), per-node disks and the controller host. Throws
/// std::invalid_argument when extras ask for storage the cluster does not describe, or when a
/// profile vector is longer than the node count.
BuiltPlatform build_platform(const platforms::Cluster& cluster, core::Precision precision,
                             const PlatformExtras& extras);

/// Configures the current engine's network model (before build_platform) so that a transfer of
/// S bytes over a path takes exactly α + S/β, shared max-min: CM02 without the TCP corrections
/// of the default model (bandwidth ×0.97, latency ×13.01, weight-S), without cross traffic (5 %
/// of each flow charged to the reverse route), and with an unbounded TCP window (CM02 bounds a
/// flow by TCP-gamma / (2·latency): the default 4 MiB window at 10 µs would cap it at 210 GB/s,
/// below NVLink).
void configure_network_model();

/// The command line an Engine is created with: `program`, SimGrid's logs down to critical and,
/// in a build with AddressSanitizer, thread contexts (ASan cannot follow the stack switches of
/// SimGrid's default contexts and reports false positives).
std::vector<std::string> simgrid_arguments(const std::string& program);

/// Uncontended cost of one path and the α-β of the routes built above: the closed forms live
/// in sim/cost/path.hpp (SimGrid-free, shared with the policies and calibration).
using PathCost = cost::Path;
using cost::gpu_path;
using cost::host_path;

}  // namespace frugal::engine

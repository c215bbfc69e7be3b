// Cluster description: node types (GPUs, links inside a node, host memory and PCIe, NICs,
// prices), node counts per type, the network between nodes and the checkpoint storage. Pure
// data; the SimGrid platform is built from it in sim/engine/platform_builder.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "platforms/gpu_catalogue.hpp"
#include "sim/core/ids.hpp"

namespace frugal::platforms {

/// How a message of at least `from_bytes` deviates from a link's nominal α-β model: the route's
/// latency is multiplied by `latency`, the bandwidth available to the message by `bandwidth`
/// (SimGrid's network factors; `frugalsim calibrate` fits them from point-to-point benchmarks).
struct SizeFactor {
  double from_bytes = 0;
  double latency = 1;
  double bandwidth = 1;

  bool operator==(const SizeFactor&) const = default;
};

/// A point-to-point link: bandwidth per direction and one-way latency, optionally corrected by
/// message size.
struct LinkSpec {
  double bandwidth_bytes_per_s = 0;
  double latency_s = 0;
  /// By strictly increasing from_bytes, the first at 0 B; empty: the nominal model at every size.
  std::vector<SizeFactor> factors{};

  /// The factor of a message of `bytes` (the last entry with from_bytes <= bytes); nullptr
  /// when the link has no factors.
  const SizeFactor* factor_for(double bytes) const;

  bool operator==(const LinkSpec&) const = default;
};

/// A node's NVMe drive(s) for offloaded buffers (ZeRO-Infinity): capacity and read = write
/// bandwidth. capacity_bytes 0: the node has none.
struct NvmeSpec {
  double capacity_bytes = 0;
  double bandwidth_bytes_per_s = 0;

  bool operator==(const NvmeSpec&) const = default;
};

struct NodeType {
  std::string name;
  GpuSpec gpu;
  int gpus_per_node = 1;
  std::string intra_node_kind = "nvlink";  ///< "nvlink" (switched) or "pcie"
  LinkSpec gpu_link;       ///< each GPU's link to the node's switch (NVLink per GPU per direction)
  /// NVLink SHARP (NVLS): what the switch's in-network reduction sustains per GPU and direction
  /// (intra_node "nvls_bandwidth"; an all-reduce's algorithm bandwidth); 0: the switch has none.
  double nvls_bandwidth_bytes_per_s = 0;
  LinkSpec host_link;      ///< each GPU's PCIe link to host memory
  double host_memory_bytes = 0;  ///< shared by the node's ranks (host buffers of the Program)
  /// The host side every GPU↔host transfer of the node crosses (CPU memory / PCIe root
  /// bandwidth): optional "host_memory_bandwidth"; 0 when not declared (see host_side_bandwidth).
  double host_memory_bandwidth_bytes_per_s = 0;
  NvmeSpec nvme;           ///< optional "nvme": {"capacity", "bandwidth"}
  LinkSpec nic;            ///< one NIC; GPU i uses NIC i mod nics_per_node
  int nics_per_node = 1;
  double cpu_flops_per_s = 1e12;
  double cpu_idle_power_w = 0;  ///< not counted in GPU energy; kept for the node total
  double cpu_max_power_w = 0;
  /// Prices in currency units per GPU-hour (a plain number; the shipped clusters use USD).
  /// Optional ("price": {"on_demand": 12.29, "spot": 4.3}); has_price false: cost is unknown.
  bool has_price = false;
  double price_on_demand_per_gpu_hour = 0;
  double price_spot_per_gpu_hour = 0;
  /// Spot (preemptible) instances: billed at the spot price. Whether they are preempted is the
  /// availability model's business (campaign.availability), not this flag's.
  bool spot = false;

  bool has_nvme() const { return nvme.capacity_bytes > 0; }
  /// Bandwidth of the node's shared host side: the declared host_memory_bandwidth, else
  /// gpus_per_node × host_link bandwidth (every GPU's PCIe at full speed: no contention).
  double host_side_bandwidth_bytes_per_s() const {
    return host_memory_bandwidth_bytes_per_s > 0 ? host_memory_bandwidth_bytes_per_s
                                                 : gpus_per_node * host_link.bandwidth_bytes_per_s;
  }

  /// The price this node type is billed at per GPU-hour (spot or on-demand); 0 without a price.
  double billed_price_per_gpu_hour() const {
    return has_price ? (spot ? price_spot_per_gpu_hour : price_on_demand_per_gpu_hour) : 0.0;
  }

  bool operator==(const NodeType&) const = default;
};

/// Checkpoint storage. A shared parallel file system is one storage host behind one link of the
/// aggregate bandwidth (all writers share it) reached through each node's NIC; local disks are
/// one disk per node (no sharing between nodes). Either, both or neither may be given.
struct StorageSpec {
  bool has_shared = false;
  LinkSpec shared;                              ///< aggregate bandwidth per direction, latency
  double local_disk_bandwidth_bytes_per_s = 0;  ///< per node, read and write; 0: no local disk

  bool has_local_disk() const { return local_disk_bandwidth_bytes_per_s > 0; }
  bool operator==(const StorageSpec&) const = default;
};

struct NetworkSpec {
  std::string topology = "star";  ///< nodes joined by one non-blocking switch
  double switch_latency_s = 0;    ///< one-way latency added by the switch
  double backbone_bandwidth_bytes_per_s = 0;  ///< 0: non-blocking; else a shared bisection link
  /// Fixed cost of one collective on each member before its first step (launch, setup and
  /// synchronisation that the α-β steps do not show), by program::CollectiveKind index; shorter
  /// than the kind list: 0 for the rest. `frugalsim calibrate` fits it from collective benchmarks.
  std::vector<double> collective_overhead_s;

  double collective_overhead(int kind) const {
    return kind >= 0 && kind < static_cast<int>(collective_overhead_s.size()) ? collective_overhead_s[kind] : 0.0;
  }
  bool operator==(const NetworkSpec&) const = default;
};

/// One GPU of the cluster, in node-major order (global index = position in Cluster::gpus).
struct GpuSlot {
  core::NodeId node;
  int local_index = 0;     ///< index inside its node
  int node_type = 0;       ///< index into Cluster::node_types

  bool operator==(const GpuSlot&) const = default;
};

struct Cluster {
  std::string name;
  std::string description;
  std::string source;                ///< datasheets and arithmetic behind the numbers
  std::vector<NodeType> node_types;  ///< sorted by name (the order of the JSON object's keys)
  std::vector<int> node_type_of;  ///< node id → node type index, "nodes" entries expanded in file order
  NetworkSpec network;
  StorageSpec storage;            ///< optional "storage" object (checkpoints)
  std::vector<GpuSlot> gpus;      ///< all GPUs, node-major

  int node_count() const { return static_cast<int>(node_type_of.size()); }
  int gpu_count() const { return static_cast<int>(gpus.size()); }
  const NodeType& type_of_node(core::NodeId n) const { return node_types.at(node_type_of.at(n.value)); }
  const NodeType& type_of_gpu(int global_gpu) const { return node_types.at(gpus.at(global_gpu).node_type); }
  const GpuSpec& gpu_spec(int global_gpu) const { return type_of_gpu(global_gpu).gpu; }

  bool operator==(const Cluster&) const = default;
};

/// Reads a cluster object. GPU names are looked up in `catalogue`.
Cluster read_cluster(const core::Json& value, const std::string& file, const std::string& pointer,
                     const GpuCatalogue& catalogue);

/// Resolved form (GPU specs inlined, SI numbers): read_cluster(to_json(c)) reproduces c.
core::Json to_json(const Cluster& cluster);

/// Resolved form of a link's "factors" array.
core::Json to_json(const std::vector<SizeFactor>& factors);

/// Cluster names: stems of platforms/clusters/*.json over the data search path
/// (core::data_search_path()), sorted.
std::vector<std::string> list_clusters();

/// Loads a cluster by name or by path to a JSON file. A value containing '/' or ending in
/// ".json" is a path (a relative one is tried next to `referrer` first, then from the working
/// directory); anything else names the first platforms/clusters/<name>.json of the data search
/// path. Errors:
/// ConfigError(referrer, pointer, "unknown cluster ... (valid: ...)") or a missing file.
Cluster load_cluster(const std::string& name_or_path, const GpuCatalogue& catalogue,
                     const std::string& referrer = "", const std::string& pointer = "");

}  // namespace frugal::platforms

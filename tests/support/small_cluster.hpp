// Test helpers: small homogeneous Clusters built in code (no JSON) with chosen link bandwidths
// and latencies, and Programs built with program::RankBuilder. Header-only; used by the
// integration and validation tests of the engine.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "platforms/cluster_spec.hpp"
#include "sim/program/program.hpp"

namespace frugal::testing {

inline constexpr double kKiB = 1024.0;
inline constexpr double kMiB = 1024.0 * 1024.0;
inline constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

/// A GPU with the same peak for every precision and matmul_efficiency 1 unless told otherwise,
/// so its effective speed is `flops_per_s`.
inline platforms::GpuSpec test_gpu(double flops_per_s = 100e12, double hbm_bytes_per_s = 2e12, double idle_w = 50,
                                   double max_w = 400, double efficiency = 1.0) {
  platforms::GpuSpec g;
  g.name = "test-gpu";
  for (auto p : {core::Precision::kFp32, core::Precision::kTf32, core::Precision::kBf16, core::Precision::kFp16,
                 core::Precision::kFp8})
    g.peak_flops_per_s[p] = flops_per_s;
  g.memory_bytes = 80e9;
  g.hbm_bandwidth_bytes_per_s = hbm_bytes_per_s;
  g.idle_power_w = idle_w;
  g.max_power_w = max_w;
  g.matmul_efficiency = efficiency;
  return g;
}

/// Shape of a homogeneous cluster: `nodes` × `gpus_per_node`, one node type, star network.
struct ClusterShape {
  int nodes = 1;
  int gpus_per_node = 1;
  platforms::LinkSpec gpu_link{300e9, 1e-6};  ///< per GPU, per direction (NVLink-like)
  platforms::LinkSpec host_link{25e9, 2e-6};  ///< per GPU PCIe to host memory
  platforms::LinkSpec nic{25e9, 5e-6};        ///< per NIC
  int nics_per_node = 1;
  double switch_latency_s = 0;
  double backbone_bandwidth_bytes_per_s = 0;
  platforms::GpuSpec gpu = test_gpu();
};

inline platforms::Cluster make_cluster(const ClusterShape& shape) {
  platforms::Cluster c;
  c.name = "test";
  platforms::NodeType t;
  t.name = "node";
  t.gpu = shape.gpu;
  t.gpus_per_node = shape.gpus_per_node;
  t.gpu_link = shape.gpu_link;
  t.host_link = shape.host_link;
  t.host_memory_bytes = 512e9;
  t.nic = shape.nic;
  t.nics_per_node = shape.nics_per_node;
  t.cpu_flops_per_s = 1e12;
  t.cpu_idle_power_w = 100;
  t.cpu_max_power_w = 300;
  c.node_types.push_back(t);
  c.network.switch_latency_s = shape.switch_latency_s;
  c.network.backbone_bandwidth_bytes_per_s = shape.backbone_bandwidth_bytes_per_s;
  for (int n = 0; n < shape.nodes; ++n) {
    c.node_type_of.push_back(0);
    for (int j = 0; j < shape.gpus_per_node; ++j) c.gpus.push_back({core::NodeId(n), j, 0});
  }
  return c;
}

/// `gpus` GPUs in one node, GPU↔GPU over `gpu_link`.
inline platforms::Cluster single_node_cluster(int gpus, platforms::LinkSpec gpu_link) {
  ClusterShape s;
  s.gpus_per_node = gpus;
  s.gpu_link = gpu_link;
  return make_cluster(s);
}

/// One node of `gpus` GPUs on NVLink of 450 GB/s and 1 us whose switch reduces (NVLink SHARP)
/// at 275 GB/s per GPU, as a DGX H100's.
inline platforms::Cluster nvls_node_cluster(int gpus) {
  ClusterShape s;
  s.gpus_per_node = gpus;
  s.gpu_link = {450e9, 1e-6};
  platforms::Cluster c = make_cluster(s);
  c.node_types[0].nvls_bandwidth_bytes_per_s = 275e9;
  return c;
}

/// `nodes` nodes of one GPU each, joined by NICs `nic` and a switch of `switch_latency_s`.
inline platforms::Cluster one_gpu_per_node_cluster(int nodes, platforms::LinkSpec nic, double switch_latency_s = 0) {
  ClusterShape s;
  s.nodes = nodes;
  s.nic = nic;
  s.switch_latency_s = switch_latency_s;
  return make_cluster(s);
}

/// `ranks` empty rank programs, rank i on GPU i.
inline program::Program make_program(int ranks) {
  program::Program p;
  for (int r = 0; r < ranks; ++r) {
    program::RankProgram rp;
    rp.rank = core::RankId(r);
    rp.gpu = r;
    p.ranks.push_back(rp);
  }
  return p;
}

/// Adds a group (ring order = `ranks`) and returns its index.
inline int add_group(program::Program& p, std::string name, const std::vector<int>& ranks) {
  program::Group g;
  g.name = std::move(name);
  for (int r : ranks) g.ranks.push_back(core::RankId(r));
  p.groups.push_back(g);
  return static_cast<int>(p.groups.size()) - 1;
}

/// Group of all ranks 0..n-1 in order.
inline int add_world_group(program::Program& p) {
  std::vector<int> all;
  for (int r = 0; r < static_cast<int>(p.ranks.size()); ++r) all.push_back(r);
  return add_group(p, "world", all);
}

inline program::Collective collective(program::CollectiveKind kind, int group, std::int64_t instance, double bytes,
                                      program::CollectiveAlgorithm algorithm = program::CollectiveAlgorithm::kRing,
                                      int root = 0) {
  program::Collective c;
  c.kind = kind;
  c.algorithm = algorithm;
  c.group = group;
  c.instance = instance;
  c.bytes = bytes;
  c.root = core::RankId(root);
  return c;
}

/// Every member of `group` calls `c` (on its comm stream, no dependencies).
inline void add_collective_to_members(program::Program& p, const program::Collective& c,
                                      const std::string& name = "coll") {
  for (const auto& r : p.groups.at(c.group).ranks) program::RankBuilder(p.ranks.at(r.value)).collective(name, c);
}

inline program::Compute compute_op(double flops, double memory_bytes = 0) {
  program::Compute c;
  c.flops = flops;
  c.memory_bytes = memory_bytes;
  return c;
}

inline program::OpId add_send(program::RankProgram& rp, int peer, std::int64_t tag, double bytes,
                              std::vector<program::OpId> deps = {}) {
  return program::RankBuilder(rp).add(program::OpKind::kSend, program::Stream::kComm, "send", std::move(deps),
                                      program::PointToPoint{core::RankId(peer), tag, bytes});
}

inline program::OpId add_recv(program::RankProgram& rp, int peer, std::int64_t tag, double bytes,
                              std::vector<program::OpId> deps = {}) {
  return program::RankBuilder(rp).add(program::OpKind::kRecv, program::Stream::kComm, "recv", std::move(deps),
                                      program::PointToPoint{core::RankId(peer), tag, bytes});
}

inline program::OpId add_copy(program::RankProgram& rp, program::CopyDirection dir, double bytes,
                              std::vector<program::OpId> deps = {}) {
  return program::RankBuilder(rp).add(program::OpKind::kCopy, program::Stream::kCopy, "copy", std::move(deps),
                                      program::Copy{dir, bytes});
}

inline program::Memory buffer(program::MemoryTag tag, std::string name, double bytes) {
  program::Memory m;
  m.tag = tag;
  m.buffer = std::move(name);
  m.bytes = bytes;
  return m;
}

}  // namespace frugal::testing

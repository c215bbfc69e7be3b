// Static memory check of a program against each GPU's memory and each node's host memory and
// NVMe: the peak of every rank's buffers walked in program order (program::static_memory_profile),
// without simulating. Plain data and no SimGrid, so runs, campaigns (shrunk layouts) and
// summaries share it.
#pragma once

#include <vector>

#include "platforms/cluster_spec.hpp"
#include "sim/core/json_reader.hpp"
#include "sim/program/program.hpp"

namespace frugal::engine {

/// A node's host (NVMe) figure is the sum of its ranks' static peaks there: exact when they
/// peak together, an upper bound otherwise.
struct MemoryCheck {
  std::vector<double> peak_bytes;                 ///< per rank
  std::vector<double> capacity_bytes;             ///< per rank (its GPU's memory)
  std::vector<core::Json> breakdown;              ///< per rank, by tag at the peak
  std::vector<double> host_peak_bytes;            ///< per node id
  std::vector<double> host_capacity_bytes;        ///< per node id (host_memory)
  std::vector<double> nvme_peak_bytes;            ///< per node id
  std::vector<double> nvme_capacity_bytes;        ///< per node id (0: the node has no NVMe)
  bool fits() const;                              ///< no GPU, host memory or NVMe over capacity
  std::vector<int> overflowing_ranks() const;     ///< GPU memory
  std::vector<int> overflowing_host_nodes() const;
  std::vector<int> overflowing_nvme_nodes() const;
};
/// One entry per rank of `program`; the ranks of a compact program share their representative's
/// profile (computed once per class).
MemoryCheck check_memory(const program::Program& program, const platforms::Cluster& cluster);

}  // namespace frugal::engine

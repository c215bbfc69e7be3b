// Static memory check of a program against each GPU's capacity: the peak of every rank's
// buffers walked in program order (program::static_memory_profile), without simulating. Plain
// data and no SimGrid, so runs, campaigns (shrunk layouts) and summaries share it.
#pragma once

#include <vector>

#include "platforms/cluster_spec.hpp"
#include "sim/core/json_reader.hpp"
#include "sim/program/program.hpp"

namespace frugal::engine {

/// Static memory check of a program against each GPU's capacity.
struct MemoryCheck {
  std::vector<double> peak_bytes;                 ///< per rank
  std::vector<double> capacity_bytes;             ///< per rank (its GPU's memory)
  std::vector<core::Json> breakdown;              ///< per rank, by tag at the peak
  bool fits() const;
  std::vector<int> overflowing_ranks() const;
};
/// One entry per rank of `program`; the ranks of a compact program share their representative's
/// profile (computed once per class).
MemoryCheck check_memory(const program::Program& program, const platforms::Cluster& cluster);

}  // namespace frugal::engine

// Turns a simulation into the run's outputs: summary.json (per-iteration metrics, SI units,
// defined in results/README.md) and timeline.json (Chrome trace-event format, one track per GPU
// and stream, opens in Perfetto). Deterministic: same inputs, byte-identical outputs.
#pragma once

#include "sim/engine/simulation.hpp"
#include "sim/study/study.hpp"

namespace frugal::metrics {

/// Static memory check of a program against each GPU's memory and each node's host memory and
/// NVMe. A node's host (NVMe) figure is the sum of its ranks' static peaks there: exact when
/// they peak together, an upper bound otherwise.
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
MemoryCheck check_memory(const program::Program& program, const platforms::Cluster& cluster);

/// summary.json of a run that was simulated (`status: "ok"`).
core::Json make_summary(const study::Study& study, const program::Program& program,
                        const engine::SimulationResult& result);

/// summary.json of a run that does not fit (`status: "out_of_memory"`, the breakdown of the
/// peak of every overflowing GPU; performance metrics are null).
core::Json make_oom_summary(const study::Study& study, const program::Program& program, const MemoryCheck& memory);

/// summary.json of a run whose plan cannot be built (`status: "infeasible"`, `reason`).
core::Json make_infeasible_summary(const study::Study& study, const std::string& reason);

/// Chrome trace-event JSON of the simulated ops.
core::Json make_timeline(const study::Study& study, const program::Program& program,
                         const engine::SimulationResult& result);

}  // namespace frugal::metrics

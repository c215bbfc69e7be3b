// The SimGrid simulation of a Program on a Cluster. This header hides SimGrid: callers pass
// plain data and get plain results. One simulation per process (SimGrid's engine is a
// process singleton): call simulate() at most once per process.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "platforms/cluster_spec.hpp"
#include "sim/core/precision.hpp"
#include "sim/program/program.hpp"

namespace frugal::engine {

struct EngineOptions {
  int iterations = 1;                 ///< the program's iteration is run this many times
  core::Precision precision = core::Precision::kBf16;  ///< selects each GPU's peak FLOP/s
  bool record_timeline = true;        ///< keep one TimelineEvent per executed op
  /// Extra SimGrid configuration items ("key:value"), applied before the platform is built.
  std::vector<std::string> simgrid_config;
};

/// One executed op (or one step of the engine's own bookkeeping) on one rank and stream.
struct TimelineEvent {
  int rank = 0;
  program::Stream stream = program::Stream::kCompute;
  std::string name;
  std::string category;  ///< op kind: "compute", "collective", "send", "recv", "copy", ...
  int iteration = 0;
  double start_s = 0;
  double end_s = 0;
  double bytes = 0;      ///< communication/copy bytes, 0 for compute
  double flops = 0;
};

/// Busy times are measures of unions of op intervals [start, end] over the whole run (all
/// iterations). An op starts when its stream reaches it and its dependencies are done, so a
/// collective's interval includes waiting for its peers. "Compute" means compute ops; the
/// "communication" ops are collectives, send, recv, copy and checkpoint_write, on any stream.
struct RankStats {
  double compute_busy_s = 0;        ///< time with at least one compute op running
  double communication_busy_s = 0;  ///< time with at least one communication op in flight
  double exposed_communication_s = 0;  ///< communication in flight while no compute op runs
  double finish_s = 0;              ///< end of the rank's last op (0 for a rank without ops)
  double peak_memory_bytes = 0;
  std::map<program::MemoryTag, double> peak_breakdown;
  /// GPU host energy from t = 0 to the end of the run (SimGrid energy plugin, linear model):
  /// idle_power·makespan + (max_power − idle_power)·(time the GPU executes compute ops).
  double energy_j = 0;
};

struct SimulationResult {
  double makespan_s = 0;            ///< end of the last op of the last iteration
  int iterations = 1;
  std::vector<RankStats> ranks;     ///< indexed by rank
  std::vector<TimelineEvent> timeline;  ///< empty unless record_timeline
  /// Per collective kind (program::to_string(CollectiveKind)), op durations summed over ranks
  /// and iterations; kinds never called are absent.
  std::map<std::string, double> collective_busy_s;
  std::uint64_t activities = 0;     ///< SimGrid executions and communications started
  std::string simgrid_version;      ///< of the linked library, "major.minor.patch"
};

/// Runs `program` on `cluster`. Ranks run on the GPUs named by RankProgram::gpu. Compute ops
/// take flops / (peak(precision) × matmul_efficiency) + memory_bytes / hbm_bandwidth;
/// collectives run as the point-to-point steps of their algorithm; memory is tracked op by op
/// (the result reports the peak; exceeding capacity is for the caller to judge).
/// Algorithms, byte conventions and the platform layout: sim/engine/collectives.hpp,
/// sim/engine/executor.hpp, sim/engine/platform_builder.hpp.
/// Throws core::InternalError when the program deadlocks (the message names the stuck ranks,
/// streams and ops), when an op fails (e.g. freeing an unknown buffer) or when called a second
/// time in the process; std::invalid_argument for a program that cannot run on `cluster` (a
/// rank on a missing GPU, a dependency on a later op, an unknown group or precision).
SimulationResult simulate(const platforms::Cluster& cluster, const program::Program& program,
                          const EngineOptions& options);

}  // namespace frugal::engine

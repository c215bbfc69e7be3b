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

/// How collectives are simulated (collectives.hpp: step by step; coarse_collectives.hpp: the
/// aggregate model, equal to the α-β closed forms on uniform rings, and its approximations).
enum class CollectiveModel {
  kStepByStep,  ///< every step of the algorithm as point-to-point transfers: the reference
  kAggregate,   ///< per member one transfer of its whole step volume + the missing latencies
  kAuto,        ///< kAggregate when the program has more than EngineOptions::coarse_above_ranks ranks
};

/// Whether ranks that run identical programs are all simulated.
///
/// Representatives. Data-parallel replicas and tensor-parallel peers run the same ops; ranks
/// are grouped into classes of identical programs (same node type and resident memory, and op by
/// op the same kinds, streams, dependencies and sizes, with groups and peers compared by shape
/// and route: coarse_replicas.hpp), and only the lowest rank of each class runs as an actor.
/// Its sends and receives go to the representatives of its peers' classes. A group with a single
/// simulated member (a tensor- or data-parallel group) is "collapsed": its representative
/// injects every member's transfers, host to host, step by step or aggregated, so the group's
/// time includes the contention of all its members. The class's other ranks run the same op on
/// other groups and peers ("copies"); their transfers that cross a link carrying modelled traffic
/// (a simulated rank's GPU link, or a NIC used by a simulated rank or a collapsed group's
/// members: watch_modelled_traffic, coarse_collectives.hpp; every inter-node transfer under a
/// shared backbone) are injected too, by pooled helper actors, at the moment the
/// representative's collective or transfer starts. Those links thus carry their full traffic;
/// other links carry less, which by the symmetry of identical ranks cannot delay the modelled
/// flows. With EngineOptions::closed_form_collectives, a representative whose GPU links are
/// quiet (quiet_links.hpp) prices its collapsed node-local collectives by their closed form. Applied only when this is sound: the
/// representatives must form a closed program (every redirected send has its receive, no class
/// talks to itself, no group is simulated in part); otherwise every rank is simulated and
/// SimulationResult::representatives_note says why.
/// Exact when identical ranks are also identical in time (the same arrivals, and links loaded
/// symmetrically); validated against the op-by-op path within 2 % in
/// tests/integration/coarse_iteration_test.cpp. Per-rank metrics of the ranks a representative
/// stands for are copies of its own; collective_busy_s counts each of its ops once per class
/// member; the timeline holds the representatives' ops only.
enum class IdenticalRanks {
  kSimulateAll,      ///< every rank op by op: the reference
  kRepresentatives,  ///< one representative per class of identical ranks, when the program allows
  kAuto,             ///< kRepresentatives when the program has more than coarse_above_ranks ranks
};

std::string to_string(CollectiveModel model);     ///< "step_by_step", "aggregate", "auto"
std::string to_string(IdenticalRanks mode);       ///< "all", "representatives", "auto"
/// Every name to_string gives, in declaration order (for configuration readers and messages).
std::vector<std::string> collective_model_names();
std::vector<std::string> identical_ranks_names();
/// Inverse of to_string; throws std::invalid_argument listing the valid names.
CollectiveModel collective_model_from_string(const std::string& name);
IdenticalRanks identical_ranks_from_string(const std::string& name);

struct EngineOptions {
  int iterations = 1;                 ///< the program's iteration is run this many times
  core::Precision precision = core::Precision::kBf16;  ///< selects each GPU's peak FLOP/s
  bool record_timeline = true;        ///< keep one TimelineEvent per executed op
  /// Extra SimGrid configuration items ("key:value"), applied before the platform is built.
  std::vector<std::string> simgrid_config;
  CollectiveModel collective_model = CollectiveModel::kAuto;
  IdenticalRanks identical_ranks = IdenticalRanks::kAuto;
  /// Threshold of both kAuto modes: coarse models only for programs with more ranks than this.
  /// At 128 ranks a step-by-step 1 GiB ring all-reduce is ~33 k transfers (~0.1 s here).
  int coarse_above_ranks = 128;
  /// With the aggregate model and representatives, a representative alone on its node whose
  /// GPU links carry only its collapsed collectives (quiet_links.hpp) runs those in closed form,
  /// consecutive ones as one sleep: the same times as their transfers, far fewer activities.
  /// false runs every one as transfers (the reference for that shortcut).
  bool closed_form_collectives = true;
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
  /// The op completed while its stream moved on (a send, a receive posted ahead): the timeline
  /// draws it on a lane of its own.
  bool background = false;
  /// Alloc and free ops: the location they change and the rank's bytes allocated there
  /// afterwards, resident buffers included (timeline memory counters).
  int memory_location = -1;  ///< static_cast<int>(program::Location), -1: not a memory event
  double memory_bytes = 0;
};

/// Busy times are measures of unions of op intervals [start, end] over the whole run (all
/// iterations). An op starts when its stream reaches it and its dependencies are done, so a
/// collective's interval includes waiting for its peers; a send or recv counts only from the
/// moment it matched its peer (waiting for the peer is idle time, e.g. a pipeline bubble; the
/// timeline still shows the whole wait). "Compute" means compute ops on the GPU (host compute,
/// the host stream's compute ops, runs on the node's CPU and counts in neither figure); the
/// "communication" ops are collectives, send, recv, copy and checkpoint_write, on any stream.
struct RankStats {
  double compute_busy_s = 0;        ///< time with at least one compute op running
  double communication_busy_s = 0;  ///< time with at least one communication op in flight
  double exposed_communication_s = 0;  ///< communication in flight while no compute op runs
  double copy_busy_s = 0;           ///< time with at least one copy op (device ↔ host ↔ NVMe) in flight
  double exposed_copy_s = 0;        ///< copies in flight while no compute op runs
  double finish_s = 0;              ///< end of the rank's last op (0 for a rank without ops)
  double peak_memory_bytes = 0;     ///< device (GPU memory) peak
  std::map<program::MemoryTag, double> peak_breakdown;
  double peak_host_bytes = 0;       ///< this rank's own peak in its node's host memory
  std::map<program::MemoryTag, double> peak_host_breakdown;  ///< its host bytes per tag at that peak
  double peak_nvme_bytes = 0;       ///< this rank's own peak on its node's NVMe
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
  std::uint64_t activities = 0;     ///< SimGrid executions, communications and sleeps started
  CollectiveModel collective_model = CollectiveModel::kStepByStep;  ///< the model used (never kAuto)
  /// Ranks simulated op by op (all of them unless representatives stood for identical ranks).
  int simulated_ranks = 0;
  /// Rank → the rank whose simulation stands for it (itself when simulated); its RankStats are
  /// copies of its representative's, with its own GPU's energy model.
  std::vector<int> representative;
  /// With IdenticalRanks::kRepresentatives/kAuto: why the program was simulated in full, or ""
  /// when representatives were used.
  std::string representatives_note;
  std::string simgrid_version;      ///< of the linked library, "major.minor.patch"
};

/// Runs `program` on `cluster`. Ranks run on the GPUs named by RankProgram::gpu. Compute ops
/// take flops / (peak(precision) × matmul_efficiency) + memory_bytes / bandwidth (GEMMs and
/// memory-bound bytes at their calibrated efficiency and bandwidth when the GPU has tables, see
/// sim/cost/compute_cost.hpp); a GPU with serial_streams runs its rank's ops one at a time;
/// collectives run as the point-to-point steps of their algorithm, or aggregated, and identical
/// ranks may be represented by one of them (EngineOptions); memory is tracked op by op
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

// A whole training campaign for a study with a "campaign" section: the plan's iteration (and
// the shrunk layouts' iterations) simulated op by op in forked children, then one SimGrid
// campaign engine (sim/engine/campaign_engine.hpp) with failures, checkpoints and recoveries.
//
// Layouts. A "replica group" (ClusterView::data_parallel, a "unit" here) is the smallest set of
// whole nodes holding whole data-parallel replicas: tp·pp GPUs spanning k nodes (unit = k
// nodes, 1 replica), or one node holding gpus_per_node/(tp·pp) replicas. Shrink recovery may
// run on u' < u units: the parallelism policy re-plans on a reduced Cluster (the job's first
// u'·unit nodes, node-major, so on mixed clusters the node types dropped are the last ones —
// an approximation), the plan is lowered and checked against GPU memory (a layout that does not
// fit, or that the policy cannot build, is not allowed), and its iteration is simulated op by
// op. When more than max_shrink_layouts sizes are possible, a geometric subset from u down to
// the recovery policy's min_data_parallel() is simulated and the others are interpolated
// linearly in 1/u' (compute per replica scales with 1/u' at a fixed global batch); an
// interpolated size is allowed when both simulated neighbours are (memory grows monotonically as
// u' falls).
#pragma once

#include <optional>
#include <vector>

#include "sim/core/progress.hpp"
#include "sim/engine/campaign_engine.hpp"
#include "sim/engine/memory_check.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/study/study.hpp"

namespace frugal::campaign {

struct CampaignOutcome {
  /// The plan's op-by-op iteration (study.iterations iterations, timeline if asked), run in a
  /// child process; empty when campaign.iteration_time gives the iteration time instead.
  std::optional<engine::SimulationResult> iteration;
  engine::CampaignResult result;
  std::vector<engine::CampaignLayout> layouts;  ///< index = units; entry 0 unused
  int unit_nodes = 1;
  int initial_units = 1;
  std::vector<int> initial_nodes;
  std::int64_t goal_iterations = 0;   ///< 0 for a wall-time goal
  double tokens_per_iteration = 0;
  double checkpoint_bytes = 0;
  double horizon_s = 0;
  std::size_t availability_events = 0;
  std::string events_fingerprint;     ///< FNV-1a 64 of the event log's compact JSON, 16 hex digits
  platforms::Cluster cluster;         ///< the study's cluster with the spares appended
};

/// Runs the campaign of `study` (which must have one) whose plan is `plan` and first-iteration
/// program `program` (lowered from it) (already checked to fit in memory). Call at most once per process and before any
/// other SimGrid use in it. `memory`, when given, is engine::check_memory(program, study.cluster)
/// already computed by the caller (it costs seconds on 16k ranks). Throws core::ConfigError for bad availability inputs (trace files
/// naming unknown nodes, malformed lines: file and line) and for a study whose plan leaves no
/// allowed layout; core::InternalError for simulator faults.
/// `progress`, when given, shows the layouts' op-by-op simulations and then the campaign's
/// simulated time (or iterations) against its goal.
CampaignOutcome run_campaign(const study::Study& study, const policies::Plan& plan, const program::Program& program,
                             const engine::MemoryCheck* memory = nullptr, core::Progress* progress = nullptr);

/// FNV-1a 64-bit hash of `events.dump()`, as 16 hex digits (golden-run fingerprint).
std::string fingerprint(const core::Json& events);

}  // namespace frugal::campaign

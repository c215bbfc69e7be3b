// The plain data of a campaign: its setup (cluster, availability events, layouts, goal,
// policy), measured costs per layout, timeline phases and the result. No SimGrid: shared by the
// SimGrid driver (sim/engine/campaign_engine.hpp) and its state machine (campaign_state.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "platforms/availability/availability_model.hpp"
#include "platforms/cluster_spec.hpp"
#include "policies/resilience/resilience_policy.hpp"
#include "sim/core/json_reader.hpp"
#include "sim/core/precision.hpp"

namespace frugal::engine {

/// One layout the job may run with: `units` replica groups of CampaignSetup::unit_nodes nodes.
struct CampaignLayout {
  int units = 0;                        ///< ClusterView::data_parallel (replica groups)
  int data_parallel = 0;                ///< data-parallel replicas of the plan
  double iteration_s = 0;               ///< duration of one iteration at full speed
  double energy_j_per_iteration = 0;    ///< all GPUs of the layout, one iteration
  bool allowed = false;                 ///< a plan exists and fits memory
  /// Static memory check of the layout's program: the GPU closest to its capacity (peak, capacity).
  double peak_memory_bytes = 0;
  double memory_capacity_bytes = 0;
  std::string origin;                   ///< "simulated", "interpolated", "given", "scaled"
  std::string note;                     ///< why not allowed, or how it was obtained
};

/// The events of the `replacement`-th machine (1, 2, ...) a campaign provisions in `node`'s slot
/// at `from_s` (dates from from_s on, each with its model's `source`), and the sources it redrew
/// (whose later events of the old machine are dropped). See AvailabilityTimeline.
struct ReplacementDraw {
  std::vector<platforms::AvailabilityEvent> events;
  std::vector<int> redrawn_sources;
};
using ReplacementDrawer = std::function<ReplacementDraw(int node, double from_s, int replacement)>;

struct CampaignSetup {
  const platforms::Cluster* cluster = nullptr;  ///< the job's cluster with the spare nodes appended
  core::Precision precision = core::Precision::kBf16;
  /// Availability events of every node (merged over node types), sorted by (time, node). Speed
  /// changes become SimGrid speed profiles; down/up events are played by the controller
  /// (AvailabilityTimeline: host turn_off/turn_on at their dates), which also reads them to know
  /// when to look (notices, repairs, speed changes) and why (causes). The state it acts on is
  /// SimGrid's (Host::is_on, Host::get_available_speed, failed activities).
  std::vector<platforms::AvailabilityEvent> events;
  /// Draws a replacement machine's events when the campaign provisions one (empty: replacements
  /// keep the slot's events).
  ReplacementDrawer replacement_draw;
  std::vector<int> initial_nodes;      ///< the job's nodes at t = 0, by id
  int unit_nodes = 1;                  ///< nodes per replica group
  std::vector<CampaignLayout> layouts; ///< index = units (index 0 unused); layouts[initial units] is the plan
  double checkpoint_bytes = 0;         ///< whole checkpoint; each job node writes its share
  bool local_disk = false;             ///< persistent checkpoints on per-node disks, not shared storage
  bool simulate_all_transfers = false; ///< see study::TransferSimulation
  std::int64_t goal_iterations = 0;    ///< > 0: stop when the model state holds this many
  double goal_wall_time_s = 0;         ///< > 0: stop at this simulated time
  double horizon_s = 0;                ///< hard stop ("horizon_reached" unless the goal was met)
  /// Most entries of the event log (failures, restarts, checkpoints, decisions) before
  /// simulate_campaign throws core::ConfigError at /campaign/max_events: a 30-day campaign with
  /// an MTBF of 1 s would otherwise take minutes and gigabytes.
  std::int64_t max_events = 200000;
  /// M of ClusterView for a set of job nodes (1 / Σ interruption rates; ∞ never; NaN unknown).
  std::function<double(const std::vector<int>& job_nodes)> job_mtbf_s;
  policies::ResiliencePolicy* policy = nullptr;
  bool record_phases = true;           ///< keep CampaignResult::phases (timeline tracks)
  /// Called after every segment with the simulated time and the iterations the model state
  /// holds (progress display); may be empty. Must not touch the simulation.
  std::function<void(double now_s, std::int64_t iterations)> on_progress;
};

/// Measured (or estimated) blocking costs of one layout, s; < 0: never happened.
struct LayoutCosts {
  double checkpoint_s = -1;   ///< synchronous persistent write (C)
  double snapshot_s = -1;     ///< GPU → host memory copy (async checkpoints)
  double persist_s = -1;      ///< background persist of a snapshot
  double peer_s = -1;         ///< replica to a peer node's memory
  double reload_s = -1;       ///< read of a persistent checkpoint by all job nodes
  double peer_reload_s = -1;  ///< read of peer replicas by the replacement nodes
};

/// One interval of the campaign for the timeline: track "job" (training, checkpoint, downtime,
/// restart) or "checkpoints" (background persists).
struct CampaignPhase {
  std::string track;
  std::string name;
  double start_s = 0;
  double end_s = 0;
  core::Json args = core::Json::object();
};

struct CampaignResult {
  std::string status;              ///< "ok" (goal met) or "horizon_reached"
  double wall_clock_s = 0;         ///< simulated end of the campaign
  std::int64_t iterations = 0;     ///< iterations in the final model state
  std::int64_t iterations_executed = 0;  ///< completed iterations, including those later rolled back
  double useful_s = 0;             ///< training time of the iterations in the final state
  double lost_work_s = 0;          ///< training time rolled back or discarded
  double checkpoint_s = 0;         ///< blocking checkpoint time (writes, snapshots, peer copies; aborted ones too)
  double restart_s = 0;            ///< restart (rendezvous) + checkpoint reload time
  double downtime_s = 0;           ///< detection + provisioning + waiting for nodes
  int failures = 0;                ///< interruptions of the job (fail or preempt of a job node)
  int restarts = 0;                ///< recoveries that restarted the job (any layout)
  int replans = 0;                 ///< layout changes (shrink, grow)
  int checkpoints = 0;             ///< completed persistent checkpoints (sync or async)
  int peer_checkpoints = 0;
  int checkpoints_aborted = 0;     ///< writes or persists cut by a failure (never counted)
  double training_energy_j = 0;    ///< Σ executed iterations × the layout's energy per iteration
  std::vector<double> node_up_s;   ///< per node id: time up in [0, wall_clock_s] (from SimGrid state changes)
  std::vector<double> training_gpu_s_by_type;  ///< per node type: GPU-seconds spent training
  std::map<int, LayoutCosts> costs;  ///< per layout (units) that ran
  core::Json events = core::Json::array();  ///< the event log (events.json)
  std::vector<CampaignPhase> phases;
  std::uint64_t activities = 0;    ///< SimGrid executions, communications and disk I/O started
  std::string simgrid_version;
};

}  // namespace frugal::engine

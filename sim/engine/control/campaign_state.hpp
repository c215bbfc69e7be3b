// The campaign controller's decisions and bookkeeping without SimGrid: model state, checkpoint
// records, async persist, costs per layout, event log and counters; what happens at an iteration
// end, a notice, a failure or slowdown, nodes back, a write or persist completion, and the layout
// a recovery runs on. Every call takes its time, so tests drive it on a hand-advanced clock; the
// SimGrid driver (sim/engine/campaign_controller.hpp) waits, transfers and watches nodes.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "policies/resilience/resilience_policy.hpp"
#include "sim/core/json_reader.hpp"
#include "sim/engine/control/campaign_types.hpp"

namespace frugal::engine {

/// One checkpoint as the campaign sees it: the policies' record plus the training time the state
/// holds, so that a rollback knows how much work it loses.
struct CheckpointState {
  std::int64_t iteration = -1;
  double time_s = 0;
  double work_s = 0;
  bool exists() const { return iteration >= 0; }
  policies::CheckpointRecord policy_view() const { return {iteration, time_s}; }
};

/// What one fast-forwarded training segment will do (CampaignState::plan_segment).
struct Segment {
  std::int64_t iterations = 0;  ///< iterations that end within the segment
  double end_s = 0;             ///< when it ends: the deciding iteration's end, else t_stop
  bool decided = false;         ///< it ends at an iteration end (checkpoint asked, goal, or cap)
  policies::CheckpointAction action;  ///< the policy's answer at that iteration end
};

/// The layout and kind a recovery from a lost node runs with (CampaignState::plan_recovery).
struct RecoveryPlan {
  policies::RecoveryKind kind = policies::RecoveryKind::kWaitForRepair;
  int units = 0;                ///< replica groups after the recovery
  bool shrink_refused = false;  ///< a shrink no allowed layout satisfies: wait for repairs instead
};

class CampaignState {
 public:
  /// Segments never look further ahead than this many iterations (bounds the policy calls).
  static constexpr std::int64_t kMaxSegmentIterations = 1'000'000;
  static constexpr double kTimeEps = 1e-9;

  /// Contract: setup.policy and setup.cluster are non-null and outlive the state.
  explicit CampaignState(const CampaignSetup& setup);

  // --- time, goal and layout ---------------------------------------------------------------
  double stop_time() const { return stop_s_; }  ///< min(horizon, wall-time goal)
  bool stopped(double now) const { return now >= stop_s_ - kTimeEps; }
  bool finished(double now) const;              ///< goal iterations reached, or stopped
  /// "ok" when the goal was met at `now`, else "horizon_reached".
  std::string status(double now) const;
  /// Starts the job on setup.initial_nodes with every replica group (the full layout).
  void start(const std::vector<int>& nodes);
  /// The job's nodes (rank order) change: GPUs per type and the job MTBF follow.
  void set_job(const std::vector<int>& nodes);
  /// Switches to `units` replica groups on `nodes`; a change of units counts a re-plan and is
  /// logged at `now` with `why`.
  void apply_layout(double now, int units, const std::vector<int>& nodes, const std::string& why);
  const std::vector<int>& job() const { return job_; }
  int units() const { return units_; }
  int max_units() const { return max_units_; }
  const CampaignLayout& layout() const { return setup_.layouts.at(units_); }
  /// The largest allowed layout of at most `units` replica groups (and at most the full one); 0: none.
  int allowed_at_most(int units) const;
  int job_gpus() const;
  double job_mtbf_s() const { return job_mtbf_; }
  /// The slowest job node's speed ratio (≥ 1e-6): iterations take layout().iteration_s / it.
  void set_speed_factor(double factor) { speed_factor_ = factor; }
  double speed_factor() const { return speed_factor_; }
  double iteration_seconds() const { return layout().iteration_s / std::max(speed_factor_, 1e-9); }

  // --- training --------------------------------------------------------------------------------
  /// The policy's view at `now`: model state, records, measured costs of this layout (or the
  /// uncontended estimates before the first measurement), failures and exposure so far.
  policies::Progress progress(double now) const;
  /// Decides ahead, iteration by iteration on a hand-advanced Progress, how far training
  /// started at t0 goes: up to the first iteration end at which the policy asks for a write (or
  /// the goal is reached), else up to t_stop (a known event, the campaign's stop).
  Segment plan_segment(double t0, double t_stop, const policies::ClusterView& view);
  /// Training ran from t0 to t1: `max_iterations` complete exactly when `exact` (the segment
  /// reached its decided end), else as many as fit, the rest kept as a partial iteration.
  /// Counts work, exposure, energy and GPU-seconds; records a "training" phase.
  void account_training(double t0, double t1, std::int64_t max_iterations, bool exact);
  /// A checkpoint captures the last completed iteration: the partial one is lost (logged).
  void discard_partial(double now, const std::string& why);
  std::int64_t iteration() const { return iteration_; }
  double work_s() const { return work_s_; }
  double partial_iteration() const { return frac_; }

  // --- checkpoints -----------------------------------------------------------------------------
  LayoutCosts& costs() { return costs_[units_]; }  ///< measured costs of the running layout
  const LayoutCosts& costs() const;
  double checkpoint_bytes_per_node() const { return setup_.checkpoint_bytes / static_cast<double>(job_.size()); }
  /// A blocking write (or an aborted one) took `duration_s`: checkpoint time and exposure.
  void add_checkpoint_time(double duration_s);
  /// A blocking write of `level` completed at `now`: its record holds the current state.
  /// Persistent counts a checkpoint, peer a replica. Returns true when a persist in flight is
  /// superseded by it (a persistent write of a state at least as new): the driver aborts it.
  bool checkpoint_written(policies::StorageLevel level, double now);
  const CheckpointState& persistent() const { return persistent_; }
  const CheckpointState& peer() const { return peer_; }
  const CheckpointState& host_memory() const { return host_memory_; }
  /// An asynchronous persist of the host-memory snapshot starts at `now`; it completes at
  /// `end_s` (timer mode, a measured duration) or when the driver says (∞: simulated transfers).
  void begin_persist(double now, double end_s, bool simulated);
  bool persist_active() const { return persist_active_; }
  const CheckpointState& persist_snapshot() const { return persist_snapshot_; }
  double persist_end_s() const { return persist_end_s_; }
  /// The persist completed at `now`: its snapshot becomes the persistent record (if newer).
  void complete_persist(double now);
  /// The persist in flight stops at `now` (failure, superseded); no-op when none is.
  void abort_persist(double now, const std::string& why);

  // --- failures and recovery -------------------------------------------------------------------
  /// Job nodes were lost at `now` (failure.nodes, kind, cause, peer_copy_lost filled by the
  /// driver; the driver has already stopped a persist in flight): counts the interruption,
  /// drops the host-memory snapshot (it died with the nodes), asks the recovery policy.
  policies::RecoveryAction on_failure(double now, const policies::Failure& failure, const policies::ClusterView& view);
  /// Job nodes slowed down at `now`: asks the recovery policy (nothing is lost).
  policies::RecoveryAction on_slowdown(double now, const policies::Failure& failure, const policies::ClusterView& view);
  /// A preemption was announced: asks the checkpoint policy whether to write now.
  policies::CheckpointAction on_preemption_notice(const policies::Notice& notice);
  /// Nodes came back at `now`: asks the recovery policy whether to grow.
  policies::RecoveryAction on_nodes_returned(double now, const std::vector<core::NodeId>& nodes,
                                             const policies::ClusterView& view);
  /// The kind and layout a recovery from lost nodes runs with: kContinue and kGrow become
  /// kWaitForRepair (the nodes are gone); kShrink takes the largest allowed layout at or below
  /// the asked size, or, when there is none, waits for repairs on the current layout.
  RecoveryPlan plan_recovery(const policies::RecoveryAction& action) const;
  /// The layout a live change (slowdown swap, grow) asks for: the largest allowed at or below
  /// its size for kGrow/kShrink, else (or when none) the current one.
  int live_change_units(const policies::RecoveryAction& action) const;
  /// Rolls the model state back to the checkpoint the action restores (iteration 0 when none),
  /// counting the lost work; the peer level is incomplete afterwards. Throws
  /// core::InternalError when the action names a checkpoint that does not exist.
  void rollback(double now, const policies::RecoveryAction& action);
  /// The restart (rendezvous and reload) took `duration_s`.
  void add_restart_time(double duration_s);
  void add_downtime(double duration_s) { result_.downtime_s += duration_s; }
  void count_restart() { ++result_.restarts; }
  /// The job runs again from `now` (Progress::resumed_s).
  void resumed(double now) { resumed_s_ = now; }

  // --- outputs ---------------------------------------------------------------------------------
  /// Appends `entry` to the event log with "time_s": now.
  void log(double now, core::Json entry);
  void phase(const std::string& track, const std::string& name, double start_s, double end_s,
             core::Json args = core::Json::object());
  /// The result so far (the driver adds activities, node up times, the SimGrid version).
  CampaignResult& result() { return result_; }
  /// Ends the campaign at `now`: wall clock, final iterations and useful time; costs per layout.
  void finish(double now);

 private:
  double estimate_checkpoint_s() const;
  double estimate_snapshot_s() const;
  double estimate_peer_s() const;

  const CampaignSetup& setup_;
  policies::ResiliencePolicy& policy_;
  double stop_s_ = std::numeric_limits<double>::infinity();

  std::vector<int> job_;  ///< job nodes, in rank order
  std::vector<int> job_gpus_by_type_;
  double job_mtbf_ = std::numeric_limits<double>::infinity();
  int units_ = 0, max_units_ = 0;
  double speed_factor_ = 1;

  std::int64_t iteration_ = 0;
  double frac_ = 0;    ///< fraction of the current iteration already done
  double work_s_ = 0;  ///< training time the model state holds (incl. the partial iteration)
  double last_iteration_s_ = 0;
  double resumed_s_ = 0;
  CheckpointState persistent_, peer_, host_memory_;
  bool persist_active_ = false;
  CheckpointState persist_snapshot_;
  double persist_start_s_ = 0;
  double persist_end_s_ = std::numeric_limits<double>::infinity();
  std::map<int, LayoutCosts> costs_;
  int failures_ = 0;
  double exposure_s_ = 0;
  CampaignResult result_;
};

}  // namespace frugal::engine

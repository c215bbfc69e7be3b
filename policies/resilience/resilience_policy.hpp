// Resilience policies: when to checkpoint, and how to recover from failures, preemptions and
// slowdowns. Batsim style: the campaign engine sends events (iteration end, failure, preemption
// notice, nodes back) with plain snapshots; a policy returns a decision with a human-readable
// reason. Two plug-in families: checkpoint policies and recovery policies. Pure: no SimGrid and
// no clock of their own, so tests drive them with a hand-advanced Progress.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platforms/availability/availability_model.hpp"
#include "sim/core/ids.hpp"
#include "sim/core/plugin.hpp"

namespace frugal::policies {

/// Where a checkpoint goes. Host memory: each rank's own CPU memory (lost with the node);
/// peer: a replica in another node's CPU memory (Gemini, SOSP'23; lost only if the owner and
/// its peer both fail); persistent: the checkpoint storage of the platform (survives all).
enum class StorageLevel { kHostMemory, kPeer, kPersistent };
std::string_view to_string(StorageLevel level);  ///< "host_memory", "peer", "persistent"

/// The newest complete checkpoint of one level.
struct CheckpointRecord {
  std::int64_t iteration = -1;  ///< iterations whose effect it holds; -1: none yet
  double time_s = 0;            ///< simulated time at which that state was captured
  bool exists() const { return iteration >= 0; }
};

/// What the engine knows about the training run when it calls a policy. Filled by the engine,
/// advanced by hand in tests.
struct Progress {
  double time_s = 0;                ///< now
  std::int64_t iteration = 0;       ///< iterations whose effect is in the model state (rolls back)
  double iteration_time_s = 0;      ///< duration of the last iteration; 0 before the first
  double resumed_s = 0;             ///< start of the current uninterrupted run (job start or restart)
  CheckpointRecord persistent;      ///< newest complete (durable) persistent checkpoint
  CheckpointRecord peer;            ///< newest complete replica in peer memory
  CheckpointRecord host_memory;     ///< newest complete snapshot in host memory
  bool persist_in_flight = false;   ///< an asynchronous persist has not completed yet
  /// C: blocking time of a synchronous persistent checkpoint, measured by the simulation (bytes
  /// per rank over the path to storage, with contention), or the engine's estimate before the
  /// first one; ≤ 0: unknown (periodic policies then checkpoint once to measure it).
  double checkpoint_s = 0;
  double snapshot_s = 0;            ///< blocking time of a GPU → host-memory snapshot (async)
  double persist_s = 0;             ///< background time to persist a snapshot; ≤ 0: use checkpoint_s
  double peer_checkpoint_s = 0;     ///< blocking time of a replica to a peer's memory
  int failures = 0;                 ///< interruptions of the job observed so far (fail or preempt)
  double exposure_s = 0;            ///< job time during which those interruptions could happen

  /// Seconds of training since `record` was captured, or since the last resume if later.
  double since_s(const CheckpointRecord& record) const;
  /// Iterations since `record` (since iteration 0 when it does not exist).
  std::int64_t iterations_since(const CheckpointRecord& record) const;
};

/// The job's view of the cluster (nodes assigned to it, spares included).
struct ClusterView {
  int nodes_total = 0;        ///< nodes assigned to the job, spares included
  int nodes_up = 0;           ///< of those, usable now (after the event being reported)
  int nodes_in_job = 0;       ///< nodes the current layout runs on (before the event)
  int spare_nodes = 0;        ///< up nodes outside the layout, ready to replace failed ones
  int data_parallel = 1;      ///< data-parallel replicas of the current layout
  int max_data_parallel = 1;  ///< replicas of the full layout (before any shrink)
  int nodes_per_replica = 1;  ///< nodes one data-parallel replica needs (tensor × pipeline)
  /// M: the job MTBF the availability models imply (1 / Σ interruption rates of its nodes);
  /// +∞ when they never interrupt, NaN/≤ 0 when unknown (e.g. traces).
  double job_mtbf_s = std::numeric_limits<double>::infinity();
};

/// Nodes lost (fail, preempt) or slowed (speed_change) — one event, possibly several nodes.
struct Failure {
  double time_s = 0;
  std::vector<core::NodeId> nodes;  ///< nodes of the job hit by this event
  platforms::AvailabilityKind kind = platforms::AvailabilityKind::kFail;  ///< kFail, kPreempt or kSpeedChange
  double speed_ratio = 1;           ///< kSpeedChange: the slowest affected node's speed ratio now
  bool peer_copy_lost = false;      ///< a node and the peer holding its replica are both gone
  std::string cause;                ///< from the availability event
};

/// A preemption announced for `nodes` at time_s + notice_s.
struct Notice {
  double time_s = 0;
  double notice_s = 0;
  std::vector<core::NodeId> nodes;
  std::string cause;
};

struct CheckpointAction {
  bool write = false;
  StorageLevel level = StorageLevel::kPersistent;
  /// Asynchronous (CheckFreq, FAST'21): a blocking snapshot to host memory, then the persist to
  /// `level` overlaps training; the checkpoint counts only when the persist completes.
  bool async = false;
  /// The policy's current target interval between checkpoints, s (∞: none); for reports.
  double interval_s = std::numeric_limits<double>::infinity();
  std::string reason;

  static CheckpointAction none(std::string reason, double interval_s = std::numeric_limits<double>::infinity());
  static CheckpointAction write_to(StorageLevel level, bool async, std::string reason,
                                   double interval_s = std::numeric_limits<double>::infinity());
};

enum class RecoveryKind {
  kContinue,                  ///< keep running (speed loss tolerated; returned nodes become spares)
  kRestartFromSpares,         ///< replace the lost nodes from the spare pool, same layout
  kRestartAfterProvisioning,  ///< same layout once new nodes are provisioned, wait_s from now
  kWaitForRepair,             ///< same layout once enough of the job's own nodes are back
  kShrink,                    ///< drop data-parallel replicas: re-plan with data_parallel replicas
  kGrow,                      ///< re-plan with more replicas now that nodes are back
};
std::string_view to_string(RecoveryKind kind);  ///< "continue", "restart_from_spares", ...

struct RecoveryAction {
  RecoveryKind kind = RecoveryKind::kContinue;
  int data_parallel = 0;       ///< replicas after recovery
  int spares_used = 0;         ///< nodes taken from the spare pool
  double wait_s = 0;           ///< kRestartAfterProvisioning: provisioning delay before the restart
  double detection_s = 0;      ///< failure detection time to charge (0 for kContinue, kGrow)
  double restart_s = 0;        ///< rendezvous/restart time to charge; the reload time is the engine's
  /// True when the job restarts from a checkpoint: work since restore_iteration is lost. kGrow
  /// from a live job first writes a checkpoint (checkpoint_first) and loses nothing.
  bool rollback = false;
  bool checkpoint_first = false;
  StorageLevel restore_from = StorageLevel::kPersistent;
  std::int64_t restore_iteration = -1;  ///< checkpoint to reload; -1: start over from iteration 0
  std::vector<core::NodeId> exclude;    ///< slowed nodes to take out of the layout (stragglers)
  std::string reason;
};

/// Checkpoint policies. Contract: decisions depend only on the arguments and the policy's
/// parameters (and, for stateful policies, on the calls so far), never on wall time.
class CheckpointPolicy {
 public:
  virtual ~CheckpointPolicy() = default;
  /// Called at the end of every iteration (Progress.iteration already counts it).
  virtual CheckpointAction on_iteration_end(const Progress& progress, const ClusterView& cluster) = 0;
  /// Called when a preemption of the job's nodes is announced. The state of the last completed
  /// iteration can be written at once; the action pays off only if the write completes before
  /// the preemption (the engine checks, and counts nothing that was not written).
  virtual CheckpointAction on_preemption_notice(const Notice& notice, const Progress& progress) = 0;
};

/// Recovery policies.
class RecoveryPolicy {
 public:
  virtual ~RecoveryPolicy() = default;
  /// Called after nodes of the job failed, were preempted or slowed down; `cluster` is the view
  /// after the event. A rollback restores the newest checkpoint that survived the event.
  virtual RecoveryAction on_failure(const Failure& failure, const Progress& progress, const ClusterView& cluster) = 0;
  /// Called when nodes come back (repair, return, speed restored) while the job runs.
  virtual RecoveryAction on_nodes_returned(const std::vector<core::NodeId>& nodes, const Progress& progress,
                                           const ClusterView& cluster) = 0;
  /// The fewest data-parallel replica groups (ClusterView::data_parallel) this policy may ask
  /// the job to run with (kShrink), given the full layout's `max_data_parallel` (≥ 1); the
  /// campaign prepares the layouts from this size up to the full one. Result in [1,
  /// max_data_parallel]. Default: the full layout only (a policy that never shrinks).
  virtual int min_data_parallel(int max_data_parallel) const { return max_data_parallel; }
};

/// The registered policies (explicit lists in registry.cpp).
const core::Registry<CheckpointPolicy>& checkpoint_policies();
const core::Registry<RecoveryPolicy>& recovery_policies();

/// The resilience interface of DESIGN.md §3: one checkpoint and one recovery policy.
class ResiliencePolicy {
 public:
  ResiliencePolicy(std::unique_ptr<CheckpointPolicy> checkpoint, std::unique_ptr<RecoveryPolicy> recovery)
      : checkpoint_(std::move(checkpoint)), recovery_(std::move(recovery)) {}

  CheckpointAction on_iteration_end(const Progress& p, const ClusterView& c) { return checkpoint_->on_iteration_end(p, c); }
  RecoveryAction on_failure(const Failure& f, const Progress& p, const ClusterView& c) {
    return recovery_->on_failure(f, p, c);
  }
  CheckpointAction on_preemption_notice(const Notice& n, const Progress& p) {
    return checkpoint_->on_preemption_notice(n, p);
  }
  RecoveryAction on_nodes_returned(const std::vector<core::NodeId>& nodes, const Progress& p, const ClusterView& c) {
    return recovery_->on_nodes_returned(nodes, p, c);
  }
  int min_data_parallel(int max_data_parallel) const { return recovery_->min_data_parallel(max_data_parallel); }

 private:
  std::unique_ptr<CheckpointPolicy> checkpoint_;
  std::unique_ptr<RecoveryPolicy> recovery_;
};

/// Reads one checkpoint (recovery) policy {"impl": ...}; errors name file and pointer, cross-field
/// errors included. `resolved`, when given, receives {"impl": ..., params in SI}.
std::unique_ptr<CheckpointPolicy> read_checkpoint_policy(const core::Json& value, const std::string& file,
                                                         const std::string& pointer, core::Json* resolved = nullptr);
std::unique_ptr<RecoveryPolicy> read_recovery_policy(const core::Json& value, const std::string& file,
                                                     const std::string& pointer, core::Json* resolved = nullptr);

/// Reads {"checkpoint": {...}, "recovery": {...}}; both optional (defaults {"impl": "none"} and
/// {"impl": "restart"}). `resolved` receives both, parameters in SI.
ResiliencePolicy read_resilience_policy(const core::Json& value, const std::string& file, const std::string& pointer,
                                        core::Json* resolved = nullptr);

/// The newest checkpoint that survives `failure`: persistent, or the peer replica when it is
/// newer and not lost. Host-memory snapshots die with their node. (level, iteration); iteration
/// −1 when there is none (start over).
std::pair<StorageLevel, std::int64_t> newest_restorable(const Progress& progress, const Failure& failure);

/// Shared rule for preemption notices: write a synchronous persistent checkpoint when there is
/// work since the newest durable one and notice_s ≥ safety_factor × estimated write time
/// (progress.checkpoint_s; unknown → try anyway). The reason shows the comparison.
CheckpointAction decide_on_notice(const Notice& notice, const Progress& progress, double safety_factor);

}  // namespace frugal::policies

// The campaign's SimGrid driver (internal to sim/engine): one controller actor, on a host that
// never fails, waits, starts transfers and watches nodes; what to do at each event is
// CampaignState's (sim/engine/control/campaign_state.hpp, no SimGrid). Its code is split by job:
// campaign_watchers.cpp (waits, heartbeats, state changes), campaign_checkpoints.cpp (checkpoint
// I/O), campaign_controller.cpp (training segments, events, recovery).
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <simgrid/s4u.hpp>

#include "sim/core/json_reader.hpp"
#include "sim/engine/campaign_engine.hpp"
#include "sim/engine/control/availability_timeline.hpp"
#include "sim/engine/control/campaign_state.hpp"
#include "sim/engine/platform_builder.hpp"

namespace frugal::engine::campaign_detail {

namespace sg4 = simgrid::s4u;

/// Transfers in flight, watched by one actor that waits for all of them and then wakes the
/// controller (done) — or stops at the first failure (failed; the failed node's heartbeat
/// watcher reports the failure itself).
struct Batch {
  std::vector<sg4::ActivityPtr> activities;
  bool done = false;
  bool failed = false;
};
using BatchPtr = std::shared_ptr<Batch>;

/// What woke the controller, and how a blocking operation ended.
enum class Wake { kTimeout, kFailure, kTransfer };
enum class Op { kDone, kFailure, kStopped };

class Controller {
 public:
  Controller(const CampaignSetup& setup, const BuiltPlatform& platform);
  ~Controller() { *alive_ = nullptr; }
  /// The controller actor's body: the whole campaign (errors kept for collect()).
  void run();
  /// The result; rethrows an error raised while running.
  CampaignResult collect();

 private:
  // --- time and waits (campaign_watchers.cpp) -----------------------------------------------
  double now() const { return sg4::Engine::get_clock(); }
  bool stopped() const { return state_.stopped(now()); }
  /// Blocks until a job node fails, `batch` completes (or fails) or t_end; every wait is one
  /// Semaphore::acquire_timeout, so its cost does not grow with the job's size.
  Wake wait_until(double t_end, const Batch* batch);
  BatchPtr start_batch(const std::vector<sg4::ActivityPtr>& activities);
  void note_failure(int node);
  Op wait_transfers(std::vector<sg4::ActivityPtr>& transfers);
  Op wait_timer(double duration_s);
  void sleep_until(double t);
  void cancel_all(std::vector<sg4::ActivityPtr>& transfers);
  /// Each job node runs one long-lived Exec, waited on by a small watcher actor: a node turning
  /// off fails it (HostFailureException) and the watcher wakes the controller.
  void start_heartbeat(int node);
  void stop_heartbeat(int node);
  void on_state_change(const sg4::Host& host);
  /// Turns hosts off and on for the availability events dated ≤ up_to_s (every wake-up calls it
  /// with now first, so that a node's state at a date is the same whoever looks first).
  void apply_availability(double up_to_s);
  /// Turns every host of `node` on or off; called in kernel context (simcall_answered), so that
  /// no actor runs between the hosts (see apply_availability).
  void power_node(int node, bool on);
  /// The actor that applies availability events at their dates while the controller waits.
  void start_availability_player();

  // --- job and cluster state (campaign_controller.cpp) --------------------------------------
  bool node_up(int node) const { return platform_.cpu_hosts[node]->is_on(); }
  bool usable(int node) const { return node_up(node) && !excluded_[node]; }
  double node_speed(int node) const;
  void refresh_speeds();
  void recompute_speed_factor();
  void set_job(const std::vector<int>& nodes);
  const std::vector<int>& job() const { return state_.job(); }
  std::vector<int> down_job_nodes() const;
  std::vector<int> choose_nodes(int units) const;
  int usable_count() const;
  policies::ClusterView view();

  // --- training ---------------------------------------------------------------------------------
  void run_segment();
  bool process_hints();
  double next_hint_time() const;
  void skip_stale_hints();

  // --- checkpoints (campaign_checkpoints.cpp) -----------------------------------------------
  bool do_checkpoint(const policies::CheckpointAction& action);
  using TransferStarter = std::vector<sg4::ActivityPtr> (Controller::*)();
  /// A blocking write at `level`: logs its start, runs the transfers `start_transfers` makes (or
  /// waits the duration `measured` by the first simulated write of this kind and layout),
  /// accounts the time and logs its end or abort, with a "job" phase.
  Op blocking_write(policies::StorageLevel level, double& measured, const std::string& reason,
                    const std::string& phase_name, TransferStarter start_transfers);
  bool write_persistent(const std::string& reason);
  bool write_async(const std::string& reason);
  bool write_peer(const std::string& reason);
  bool write_host_memory(const std::string& reason);
  void complete_persist();
  void abort_persist(const std::string& why);
  std::vector<sg4::ActivityPtr> start_persistent_writes();
  std::vector<sg4::ActivityPtr> start_snapshots();
  std::vector<sg4::ActivityPtr> start_peer_copies();
  std::vector<sg4::ActivityPtr> start_reloads(policies::StorageLevel level, const std::vector<int>& replaced,
                                             const std::vector<int>& failed);

  // --- recovery (campaign_controller.cpp) ---------------------------------------------------
  void recover_from_failure();
  bool execute_recovery(const policies::RecoveryAction& action, const std::vector<int>& failed);
  bool execute_live_change(const policies::RecoveryAction& action, const std::string& why);
  bool restart(double restart_s, policies::StorageLevel reload_from, bool reload, const std::vector<int>& replaced,
               const std::vector<int>& failed);
  bool wait_for_nodes(int need);
  void provision(int need);
  void apply_layout(int units, const std::vector<int>& nodes, const std::string& why);

  // --- outputs ------------------------------------------------------------------------------------
  /// Appends to the event log (events.json); past setup_.max_events entries, refuses the
  /// campaign (the log is its work: every failure, restart, checkpoint and decision).
  void log(core::Json entry) {
    record(std::move(entry));
    if (events_ > setup_.max_events) refuse_too_many_events();
  }
  /// log() without the refusal, for SimGrid's callbacks, which must not throw (the controller
  /// refuses at its next wake-up).
  void record(core::Json entry) {
    ++events_;
    state_.log(now(), std::move(entry));
  }
  void phase(const std::string& track, const std::string& name, double start_s, double end_s,
             core::Json args = core::Json::object()) {
    state_.phase(track, name, start_s, end_s, std::move(args));
  }
  core::Json node_list(const std::vector<int>& nodes) const;
  std::string cause_at(int node, bool down) const;
  /// Throws core::ConfigError at /campaign/max_events with the rates that led there.
  [[noreturn]] void refuse_too_many_events();

  const CampaignSetup& setup_;
  const BuiltPlatform& platform_;
  const int n_nodes_;
  CampaignState state_;
  std::vector<std::vector<sg4::Host*>> gpu_hosts_of_node_;
  std::unordered_map<const sg4::Host*, int> node_of_cpu_;

  std::vector<char> in_job_, excluded_;
  std::vector<sg4::ExecPtr> heartbeat_;   ///< by node id (null: none)
  /// By node id: its heartbeat died with the node (seen by the state-change callback; the s4u
  /// state of an activity nobody waited on is not updated, so it cannot be asked).
  std::vector<char> heartbeat_dead_;
  std::vector<double> speed_;             ///< by node id: latest speed ratio read from SimGrid
  bool has_speed_events_ = false;
  std::vector<int> peer_holder_;  ///< node → node holding its replica (peer checkpoint), -1 none
  /// The asynchronous persist's transfers in flight (simulated mode; its state is state_'s).
  std::vector<sg4::ActivityPtr> persist_transfers_;
  BatchPtr persist_batch_;

  AvailabilityTimeline timeline_;  ///< the events: state changes to play, hints, causes, replacements
  sg4::SemaphorePtr player_wakeup_ = sg4::Semaphore::create(0);  ///< a replacement added earlier events

  std::vector<std::vector<std::pair<double, bool>>> state_log_;  ///< node → (time, on)
  std::exception_ptr error_;
  std::int64_t events_ = 0;  ///< entries logged, against setup_.max_events
  std::shared_ptr<Controller*> alive_ = std::make_shared<Controller*>(this);  ///< for callbacks and watchers
  sg4::SemaphorePtr wakeup_ = sg4::Semaphore::create(0);  ///< released by watchers
  std::vector<int> failure_notes_;  ///< nodes whose heartbeat failed, not yet handled
  std::uint64_t state_version_ = 0, view_version_ = ~std::uint64_t{0};
  policies::ClusterView view_cache_;
};

}  // namespace frugal::engine::campaign_detail

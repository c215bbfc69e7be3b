// The campaign engine (see campaign_engine.hpp). One controller actor, on a host that never
// fails, drives the job through SimGrid:
//  - failures are host state changes (state profiles attached by the platform builder); each
//    job node runs one long-lived "heartbeat" Exec, waited on by a small watcher actor on the
//    controller's host: a node turning off fails its heartbeat (HostFailureException), the
//    watcher notes it and releases the controller's semaphore. Every wait of the controller is
//    one Semaphore::acquire_timeout, so its cost does not grow with the job's size (a
//    wait_any over 2,048 heartbeats per segment dominated 30-day runs on 16k GPUs);
//  - training is fast-forwarded in segments: the checkpoint policy's on_iteration_end is called
//    in plain C++ per iteration on a hand-advanced Progress until it asks for a write (or the
//    goal, a known event — notice, repair, speed change — or a persist completion comes first),
//    then one wait covers the whole segment;
//  - checkpoints, snapshots, peer replicas and reloads are SimGrid communications (or disk I/O)
//    from/to every job node, so large jobs contend on the storage link; later transfers of the
//    same kind and layout may reuse the measured duration (campaign::TransferSimulation).
// References: Young 1974, Daly 2006 (intervals, via the policies), CheckFreq FAST'21 (async
// snapshot + background persist), Gemini SOSP'23 (peer in-memory replicas).
#include "sim/engine/campaign_engine.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <memory>
#include <sstream>
#include <unordered_map>

#include <simgrid/Exception.hpp>
#include <simgrid/s4u.hpp>
#include <simgrid/version.h>

#include "sim/core/error.hpp"
#include "sim/engine/platform_builder.hpp"

namespace sg4 = simgrid::s4u;

namespace frugal::engine {
namespace {

using platforms::AvailabilityEvent;
using platforms::AvailabilityKind;
using policies::CheckpointAction;
using policies::ClusterView;
using policies::Failure;
using policies::Progress;
using policies::RecoveryAction;
using policies::RecoveryKind;
using policies::StorageLevel;
using core::Json;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kHeartbeatFlops = 1e30;               // never completes within any horizon
constexpr std::int64_t kMaxSegmentIterations = 1'000'000;  // bounds the policy calls made ahead
constexpr double kTimeEps = 1e-9;
constexpr unsigned kWatcherStackBytes = 128 * 1024;  // watcher actors only wait: a small stack

// Names of levels and decisions: the policies' own (policies::to_string).
std::string level_name(StorageLevel level) { return std::string(policies::to_string(level)); }
std::string recovery_name(RecoveryKind kind) { return std::string(policies::to_string(kind)); }

std::string kind_name(AvailabilityKind kind) { return std::string(platforms::to_string(kind)); }

/// The engine's side of a checkpoint record: also the training time the state holds, so that
/// a rollback knows how much work it loses.
struct Record {
  std::int64_t iteration = -1;
  double time_s = 0;
  double work_s = 0;
  bool exists() const { return iteration >= 0; }
  policies::CheckpointRecord policy_view() const { return {iteration, time_s}; }
};

/// An asynchronous persist in flight (CheckFreq): snapshot taken, bytes on their way.
/// Transfers in flight, watched by one actor that waits for all of them and then wakes the
/// controller (done) — or stops at the first failure (failed; the failed node's heartbeat
/// watcher reports the failure itself).
struct Batch {
  std::vector<sg4::ActivityPtr> activities;
  bool done = false;
  bool failed = false;
};
using BatchPtr = std::shared_ptr<Batch>;

struct Persist {
  bool active = false;
  Record snapshot;
  double start_s = 0;
  double end_s = kInf;                         ///< timer mode: when it completes
  std::vector<sg4::ActivityPtr> transfers;     ///< simulated mode: what is in flight
  BatchPtr batch;                              ///< simulated mode: their watcher's view
};

enum class Wake { kTimeout, kFailure, kTransfer };
enum class Op { kDone, kFailure, kStopped };

class Controller {
 public:
  Controller(const CampaignSetup& setup, const BuiltPlatform& platform);
  ~Controller() { *alive_ = nullptr; }
  void run();
  CampaignResult collect();

 private:
  // --- time and waits -------------------------------------------------------------------
  double now() const { return sg4::Engine::get_clock(); }
  double stop_time() const { return stop_s_; }
  bool stopped() const { return now() >= stop_s_ - kTimeEps; }
  Wake wait_until(double t_end, const Batch* batch);
  BatchPtr start_batch(const std::vector<sg4::ActivityPtr>& activities);
  void note_failure(int node);
  Op wait_transfers(std::vector<sg4::ActivityPtr>& transfers);
  Op wait_timer(double duration_s);
  void sleep_until(double t);
  void cancel_all(std::vector<sg4::ActivityPtr>& transfers);

  // --- job and cluster state ------------------------------------------------------------
  bool node_up(int node) const { return platform_.cpu_hosts[node]->is_on(); }
  bool usable(int node) const { return node_up(node) && !excluded_[node]; }
  double node_speed(int node) const;
  void refresh_speeds();
  void recompute_speed_factor();
  void start_heartbeat(int node);
  void stop_heartbeat(int node);
  void set_job(const std::vector<int>& nodes);
  std::vector<int> down_job_nodes() const;
  std::vector<int> choose_nodes(int units) const;
  int usable_count() const;
  Progress progress() const;
  ClusterView view();
  double iteration_seconds() const { return layout().iteration_s / std::max(speed_factor_, 1e-9); }
  const CampaignLayout& layout() const { return setup_.layouts.at(units_); }
  int allowed_at_most(int units) const;
  int job_gpus() const;

  // --- training ---------------------------------------------------------------------------
  bool finished() const;
  void run_segment();
  void account_training(double t0, double t1, std::int64_t max_iterations, bool exact);
  void discard_partial(const std::string& why);
  bool process_hints();
  double next_hint_time() const;
  void skip_stale_hints();

  // --- checkpoints --------------------------------------------------------------------------
  bool do_checkpoint(const CheckpointAction& action);
  using TransferStarter = std::vector<sg4::ActivityPtr> (Controller::*)();
  /// A blocking write at `level`: logs its start, runs the transfers `start_transfers` makes (or
  /// waits the duration `measured` by the first simulated write of this kind and layout),
  /// accounts the time and logs its end or abort, with a "job" phase.
  Op blocking_write(StorageLevel level, double& measured, const std::string& reason, const std::string& phase_name,
                    TransferStarter start_transfers);
  bool write_persistent(const std::string& reason);
  bool write_async(const std::string& reason);
  bool write_peer(const std::string& reason);
  bool write_host_memory(const std::string& reason);
  void complete_persist();
  void abort_persist(const std::string& why);
  std::vector<sg4::ActivityPtr> start_persistent_writes();
  std::vector<sg4::ActivityPtr> start_snapshots();
  std::vector<sg4::ActivityPtr> start_peer_copies();
  std::vector<sg4::ActivityPtr> start_reloads(StorageLevel level, const std::vector<int>& replaced,
                                             const std::vector<int>& failed);
  double estimate_checkpoint_s() const;
  double estimate_snapshot_s() const;
  double estimate_peer_s() const;
  double bytes_per_node() const { return setup_.checkpoint_bytes / static_cast<double>(job_.size()); }
  LayoutCosts& costs() { return costs_[units_]; }
  const LayoutCosts& costs() const;

  // --- recovery ---------------------------------------------------------------------------
  void recover_from_failure();
  bool execute_recovery(RecoveryAction action, const std::vector<int>& failed);
  bool execute_live_change(const RecoveryAction& action, const std::string& why);
  void rollback(const RecoveryAction& action);
  bool restart(double restart_s, StorageLevel reload_from, bool reload, const std::vector<int>& replaced,
               const std::vector<int>& failed);
  bool wait_for_nodes(int need);
  void provision(int need);
  void apply_layout(int units, const std::vector<int>& nodes, const std::string& why);

  // --- outputs ------------------------------------------------------------------------------
  void log(Json entry);
  void phase(const std::string& track, const std::string& name, double start_s, double end_s, Json args = Json::object());
  Json node_list(const std::vector<int>& nodes) const;
  std::string cause_at(int node, bool down) const;
  void on_state_change(const sg4::Host& host);

  const CampaignSetup& setup_;
  const BuiltPlatform& platform_;
  policies::ResiliencePolicy& policy_;
  const int n_nodes_;
  double stop_s_ = kInf;
  std::vector<std::vector<sg4::Host*>> gpu_hosts_of_node_;
  std::unordered_map<const sg4::Host*, int> node_of_cpu_;

  std::vector<int> job_;                  ///< job nodes, in rank order
  std::vector<char> in_job_, excluded_;
  std::vector<sg4::ExecPtr> heartbeat_;   ///< by node id (null: none)
  /// By node id: its heartbeat died with the node (seen by the state-change callback; the s4u
  /// state of an activity nobody waited on is not updated, so it cannot be asked).
  std::vector<char> heartbeat_dead_;
  std::vector<double> speed_;             ///< by node id: latest speed ratio read from SimGrid
  int units_ = 0, max_units_ = 0;
  double speed_factor_ = 1;
  bool has_speed_events_ = false;
  double job_mtbf_cache_ = kInf;
  std::vector<int> job_gpus_by_type_;

  // Model state and checkpoints.
  std::int64_t iteration_ = 0;
  double frac_ = 0;         ///< fraction of the current iteration already done
  double work_s_ = 0;       ///< training time the model state holds (incl. the partial iteration)
  double last_iteration_s_ = 0;
  double resumed_s_ = 0;
  Record persistent_, peer_, host_memory_;
  std::vector<int> peer_holder_;  ///< node → node holding its replica (peer checkpoint), -1 none
  Persist persist_;
  std::map<int, LayoutCosts> costs_;
  int failures_ = 0;
  double exposure_s_ = 0;

  // Known events (for wake-ups and causes).
  std::vector<std::size_t> hints_;  ///< indices of notice/repair/return/speed events
  std::size_t hint_cursor_ = 0;
  std::vector<std::vector<std::size_t>> transitions_of_node_;  ///< down/up event indices per node

  // Accounting.
  CampaignResult result_;
  std::vector<std::vector<std::pair<double, bool>>> state_log_;  ///< node → (time, on)
  bool done_ = false;
  std::exception_ptr error_;
  std::shared_ptr<Controller*> alive_ = std::make_shared<Controller*>(this);  ///< for callbacks and watchers
  sg4::SemaphorePtr wakeup_ = sg4::Semaphore::create(0);  ///< released by watchers
  std::vector<int> failure_notes_;  ///< nodes whose heartbeat failed, not yet handled
  std::uint64_t state_version_ = 0, view_version_ = ~std::uint64_t{0};
  ClusterView view_cache_;
};

Controller::Controller(const CampaignSetup& setup, const BuiltPlatform& platform)
    : setup_(setup), platform_(platform), policy_(*setup.policy), n_nodes_(setup.cluster->node_count()) {
  const auto& cluster = *setup.cluster;
  gpu_hosts_of_node_.assign(n_nodes_, {});
  for (int g = 0; g < cluster.gpu_count(); ++g) gpu_hosts_of_node_[platform.node_of_gpu[g]].push_back(platform.gpu_hosts[g]);
  for (int n = 0; n < n_nodes_; ++n) node_of_cpu_[platform.cpu_hosts[n]] = n;
  in_job_.assign(n_nodes_, 0);
  excluded_.assign(n_nodes_, 0);
  heartbeat_.assign(n_nodes_, nullptr);
  heartbeat_dead_.assign(n_nodes_, 0);
  speed_.assign(n_nodes_, 1.0);
  peer_holder_.assign(n_nodes_, -1);
  state_log_.assign(n_nodes_, {});
  transitions_of_node_.assign(n_nodes_, {});
  for (std::size_t i = 0; i < setup.events.size(); ++i) {
    const AvailabilityEvent& e = setup.events[i];
    if (e.node.value < 0 || e.node.value >= n_nodes_) continue;
    if (platforms::is_down(e.kind) || platforms::is_up(e.kind)) transitions_of_node_[e.node.value].push_back(i);
    if (e.kind == AvailabilityKind::kPreemptNotice || platforms::is_up(e.kind) || e.kind == AvailabilityKind::kSpeedChange)
      hints_.push_back(i);
    if (e.kind == AvailabilityKind::kSpeedChange) has_speed_events_ = true;
  }
  stop_s_ = setup.horizon_s;
  if (setup.goal_wall_time_s > 0) stop_s_ = std::min(stop_s_, setup.goal_wall_time_s);
  result_.training_gpu_s_by_type.assign(cluster.node_types.size(), 0.0);
  job_gpus_by_type_.assign(cluster.node_types.size(), 0);
  sg4::Host::on_state_change_cb([alive = alive_](const sg4::Host& h) {
    if (*alive != nullptr) (*alive)->on_state_change(h);
  });
}

// --- waits ------------------------------------------------------------------------------------

Wake Controller::wait_until(double t_end, const Batch* batch) {
  for (;;) {
    if (!failure_notes_.empty()) {
      if (!down_job_nodes().empty()) return Wake::kFailure;
      failure_notes_.clear();  // stale: a node that left the job as it failed
    }
    if (batch != nullptr && batch->done) return Wake::kTransfer;
    if (batch != nullptr && batch->failed && !down_job_nodes().empty()) return Wake::kFailure;
    const double t = now();
    if (std::isfinite(t_end) && t >= t_end) return Wake::kTimeout;
    // A release (failure note, batch done) or the timeout. A timeout dated now + (t_end − now)
    // may round below t_end: the loop waits the remainder, so that profile events dated t_end
    // have been applied when the caller looks.
    if (std::isfinite(t_end))
      (void)wakeup_->acquire_timeout(t_end - t);
    else
      wakeup_->acquire();
  }
}

BatchPtr Controller::start_batch(const std::vector<sg4::ActivityPtr>& activities) {
  auto batch = std::make_shared<Batch>();
  batch->activities = activities;
  sg4::SemaphorePtr wakeup = wakeup_;
  sg4::Actor::init("transfers", platform_.controller_host)->set_stacksize(kWatcherStackBytes)->start([batch, wakeup]() {
    sg4::Actor::self()->daemonize();
    try {
      for (const auto& a : batch->activities) a->wait();
      batch->done = true;
    } catch (const simgrid::Exception&) {  // host or network failure, or cancelled by the controller
      batch->failed = true;
    }
    wakeup->release();
  });
  return batch;
}

void Controller::note_failure(int node) {
  failure_notes_.push_back(node);
  wakeup_->release();
}

Op Controller::wait_transfers(std::vector<sg4::ActivityPtr>& transfers) {
  if (transfers.empty()) return down_job_nodes().empty() ? Op::kDone : Op::kFailure;
  const BatchPtr batch = start_batch(transfers);
  const Wake w = wait_until(stop_time(), batch.get());
  if (w == Wake::kFailure) return Op::kFailure;
  if (w == Wake::kTimeout) return Op::kStopped;
  transfers.clear();
  // Disk I/O on a host turned off still succeeds in SimGrid 3.32: never count a transfer of a
  // node that is down (its heartbeat watcher reports the failure).
  return down_job_nodes().empty() ? Op::kDone : Op::kFailure;
}

Op Controller::wait_timer(double duration_s) {
  const double end = now() + duration_s;
  const Wake w = wait_until(std::min(end, stop_time()), nullptr);
  if (w == Wake::kFailure) return Op::kFailure;
  return now() >= end - kTimeEps ? Op::kDone : Op::kStopped;
}

void Controller::sleep_until(double t) {
  t = std::min(t, stop_time());
  while (now() < t) sg4::this_actor::sleep_for(t - now());
}

void Controller::cancel_all(std::vector<sg4::ActivityPtr>& transfers) {
  // Cancelling a finished or failed activity is a no-op in the kernel.
  for (auto& a : transfers) a->cancel();
  transfers.clear();
}

// --- job state --------------------------------------------------------------------------------

double Controller::node_speed(int node) const {
  const auto& gpus = gpu_hosts_of_node_[node];
  double s = 1.0;
  for (const sg4::Host* h : gpus) s = std::min(s, h->get_available_speed());
  return gpus.empty() ? 1.0 : s;
}

void Controller::refresh_speeds() {
  // Read SimGrid's speeds only when some node has a speed profile (16k hosts otherwise).
  if (has_speed_events_)
    for (int n : job_) speed_[n] = node_speed(n);
  recompute_speed_factor();
}

void Controller::recompute_speed_factor() {
  double factor = 1.0;
  for (int n : job_) factor = std::min(factor, speed_[n]);
  speed_factor_ = std::max(factor, 1e-6);
}

void Controller::start_heartbeat(int node) {
  sg4::ExecPtr e = sg4::Exec::init()->set_flops_amount(kHeartbeatFlops)->set_host(platform_.cpu_hosts[node]);
  e->start();
  heartbeat_[node] = e;
  heartbeat_dead_[node] = 0;
  ++result_.activities;
  sg4::Actor::init("watch-node" + std::to_string(node), platform_.controller_host)
      ->set_stacksize(kWatcherStackBytes)
      ->start([e, node, alive = alive_]() {
        sg4::Actor::self()->daemonize();
        try {
          e->wait();
        } catch (const simgrid::HostFailureException&) {
          if (*alive != nullptr) (*alive)->note_failure(node);
        } catch (const simgrid::CancelException&) {  // the node left the job
        }
      });
}

void Controller::stop_heartbeat(int node) {
  sg4::ExecPtr& e = heartbeat_[node];
  if (e && !heartbeat_dead_[node] && node_up(node)) e->cancel();
  e = nullptr;
}

void Controller::set_job(const std::vector<int>& nodes) {
  for (int n : job_) in_job_[n] = 0;
  std::vector<int> old = job_;
  job_ = nodes;
  for (int n : job_) in_job_[n] = 1;
  for (int n : old)
    if (!in_job_[n]) stop_heartbeat(n);
  // A node whose heartbeat died with it (failed, then repaired) gets a fresh one.
  for (int n : job_)
    if (!heartbeat_[n] || heartbeat_dead_[n]) start_heartbeat(n);
  failure_notes_.clear();  // failures seen while the job was down are not the new job's
  ++state_version_;
  std::fill(job_gpus_by_type_.begin(), job_gpus_by_type_.end(), 0);
  for (int n : job_) job_gpus_by_type_[setup_.cluster->node_type_of[n]] += setup_.cluster->type_of_node(core::NodeId(n)).gpus_per_node;
  job_mtbf_cache_ = setup_.job_mtbf_s ? setup_.job_mtbf_s(job_) : kInf;
  refresh_speeds();
}


std::vector<int> Controller::down_job_nodes() const {
  std::vector<int> down;
  for (int n : job_)
    if (!node_up(n)) down.push_back(n);
  return down;
}

int Controller::usable_count() const {
  int count = 0;
  for (int n = 0; n < n_nodes_; ++n) count += usable(n) ? 1 : 0;
  return count;
}

std::vector<int> Controller::choose_nodes(int units) const {
  const std::size_t need = static_cast<std::size_t>(units) * static_cast<std::size_t>(setup_.unit_nodes);
  // The job's own nodes first (their rank order), then the lowest-numbered usable others.
  std::vector<int> out;
  for (int n : job_)
    if (out.size() < need && usable(n)) out.push_back(n);
  for (int n = 0; n < n_nodes_ && out.size() < need; ++n)
    if (!in_job_[n] && usable(n)) out.push_back(n);
  if (out.size() < need) out.clear();
  return out;
}

int Controller::job_gpus() const {
  int g = 0;
  for (int c : job_gpus_by_type_) g += c;
  return g;
}

int Controller::allowed_at_most(int units) const {
  for (int u = std::min(units, max_units_); u >= 1; --u)
    if (u < static_cast<int>(setup_.layouts.size()) && setup_.layouts[u].allowed) return u;
  return 0;
}

const LayoutCosts& Controller::costs() const {
  static const LayoutCosts none;
  const auto it = costs_.find(units_);
  return it == costs_.end() ? none : it->second;
}

Progress Controller::progress() const {
  Progress p;
  p.time_s = now();
  p.iteration = iteration_;
  p.iteration_time_s = last_iteration_s_;
  p.resumed_s = resumed_s_;
  p.persistent = persistent_.policy_view();
  p.peer = peer_.policy_view();
  p.host_memory = host_memory_.policy_view();
  p.persist_in_flight = persist_.active;
  const LayoutCosts& c = costs();
  // Measured blocking costs of this layout; before the first measurement, the uncontended
  // estimate from the platform's bandwidths (Progress allows an estimate).
  p.checkpoint_s = c.checkpoint_s > 0 ? c.checkpoint_s : estimate_checkpoint_s();
  p.snapshot_s = c.snapshot_s > 0 ? c.snapshot_s : estimate_snapshot_s();
  p.persist_s = c.persist_s > 0 ? c.persist_s : p.checkpoint_s;
  p.peer_checkpoint_s = c.peer_s > 0 ? c.peer_s : estimate_peer_s();
  p.failures = failures_;
  p.exposure_s = exposure_s_;
  return p;
}

ClusterView Controller::view() {
  // Cached between changes of node state, exclusions or the job (a scan of every node).
  if (view_version_ == state_version_) return view_cache_;
  view_version_ = state_version_;
  ClusterView& v = view_cache_;
  v.nodes_total = n_nodes_;
  v.nodes_up = usable_count();
  v.nodes_in_job = static_cast<int>(job_.size());
  int spares = 0;
  for (int n = 0; n < n_nodes_; ++n) spares += (!in_job_[n] && usable(n)) ? 1 : 0;
  v.spare_nodes = spares;
  v.data_parallel = units_;
  v.max_data_parallel = max_units_;
  v.nodes_per_replica = setup_.unit_nodes;
  v.job_mtbf_s = job_mtbf_cache_;
  return v;
}

double Controller::estimate_checkpoint_s() const {
  const auto& cluster = *setup_.cluster;
  double per_node = 0, latency = 0;
  for (int n : job_) {
    const auto& t = cluster.type_of_node(core::NodeId(n));
    const double bw = setup_.local_disk ? cluster.storage.local_disk_bandwidth_bytes_per_s : t.nic.bandwidth_bytes_per_s;
    per_node = std::max(per_node, bytes_per_node() / bw);
    latency = std::max(latency, setup_.local_disk ? 0.0 : t.nic.latency_s);
  }
  if (setup_.local_disk || !cluster.storage.has_shared) return per_node;
  return std::max(per_node, setup_.checkpoint_bytes / cluster.storage.shared.bandwidth_bytes_per_s) + latency +
         std::max(0.0, cluster.network.switch_latency_s) + cluster.storage.shared.latency_s;
}

double Controller::estimate_snapshot_s() const {
  const auto& cluster = *setup_.cluster;
  double t = 0;
  const double per_gpu = setup_.checkpoint_bytes / std::max(job_gpus(), 1);
  for (int n : job_) {
    const auto& type = cluster.type_of_node(core::NodeId(n));
    // Each GPU's PCIe, or a declared host side shared by the node's GPUs, whichever binds.
    double bytes_per_s = type.host_link.bandwidth_bytes_per_s;
    if (type.host_memory_bandwidth_bytes_per_s > 0)
      bytes_per_s = std::min(bytes_per_s, type.host_memory_bandwidth_bytes_per_s / std::max(1, type.gpus_per_node));
    t = std::max(t, type.host_link.latency_s + per_gpu / bytes_per_s);
  }
  return t;
}

double Controller::estimate_peer_s() const {
  const auto& cluster = *setup_.cluster;
  double t = 0;
  for (int n : job_) {
    const auto& type = cluster.type_of_node(core::NodeId(n));
    t = std::max(t, 2 * type.nic.latency_s + bytes_per_node() / type.nic.bandwidth_bytes_per_s);
  }
  return t;
}

// --- training ---------------------------------------------------------------------------------

bool Controller::finished() const {
  if (done_) return true;
  if (setup_.goal_iterations > 0 && iteration_ >= setup_.goal_iterations) return true;
  return stopped();
}

double Controller::next_hint_time() const {
  return hint_cursor_ < hints_.size() ? setup_.events[hints_[hint_cursor_]].time_s : kInf;
}

void Controller::skip_stale_hints() {
  while (hint_cursor_ < hints_.size() && setup_.events[hints_[hint_cursor_]].time_s < now() - kTimeEps) ++hint_cursor_;
}

void Controller::account_training(double t0, double t1, std::int64_t max_iterations, bool exact) {
  const double it = iteration_seconds();
  const double dt = std::max(0.0, t1 - t0);
  std::int64_t k = 0;
  if (exact) {
    k = max_iterations;
    frac_ = 0;
  } else {
    const double done = frac_ + dt / it;
    k = std::min<std::int64_t>(static_cast<std::int64_t>(std::floor(done + 1e-9)), max_iterations);
    frac_ = std::clamp(done - static_cast<double>(k), 0.0, 1.0 - 1e-12);
  }
  iteration_ += k;
  result_.iterations_executed += k;
  if (k > 0) last_iteration_s_ = it;
  work_s_ += dt;
  exposure_s_ += dt;
  // Energy: the layout's op-by-op energy per iteration, pro rata of the work done.
  result_.training_energy_j += layout().energy_j_per_iteration * dt / it;
  for (std::size_t t = 0; t < job_gpus_by_type_.size(); ++t) result_.training_gpu_s_by_type[t] += dt * job_gpus_by_type_[t];
  if (dt > 0) phase("job", "training", t0, t1, Json{{"iterations", k}, {"data_parallel_units", units_}});
}

void Controller::discard_partial(const std::string& why) {
  if (frac_ <= 0) return;
  const double lost = frac_ * iteration_seconds();
  result_.lost_work_s += lost;
  work_s_ -= lost;
  log(Json{{"event", "partial_iteration_discarded"}, {"lost_work_s", lost}, {"reason", why}});
  frac_ = 0;
}

void Controller::run_segment() {
  const double it = iteration_seconds();
  const double t0 = now();
  double t_stop = std::min(stop_time(), next_hint_time());
  const bool persist_timer = persist_.active && !persist_.batch;
  if (persist_timer) t_stop = std::min(t_stop, persist_.end_s);

  // Decide ahead, iteration by iteration, with a hand-advanced clock: the segment ends at the
  // first iteration whose end makes the policy write (or the goal's), else at t_stop.
  Progress p = progress();
  const ClusterView v = view();
  std::int64_t j = 0;
  double t_j = t0;
  CheckpointAction action;
  bool decided = false;
  while (j < kMaxSegmentIterations) {
    const double t_next = t0 + (1.0 - frac_) * it + static_cast<double>(j) * it;
    if (t_next > t_stop) break;
    ++j;
    t_j = t_next;
    p.time_s = t_j;
    p.iteration = iteration_ + j;
    p.iteration_time_s = it;
    action = policy_.on_iteration_end(p, v);
    const bool goal = setup_.goal_iterations > 0 && iteration_ + j >= setup_.goal_iterations;
    if (action.write || goal) {
      decided = true;
      break;
    }
  }
  if (j == kMaxSegmentIterations) decided = true;
  const double t_end = decided ? t_j : t_stop;

  const Wake w = wait_until(t_end, persist_.active ? persist_.batch.get() : nullptr);
  const double t1 = now();
  if (w == Wake::kFailure) {
    account_training(t0, t1, j, false);
    recover_from_failure();
    return;
  }
  if (w == Wake::kTransfer) {  // a background persist transfer finished mid-segment
    account_training(t0, t1, j, false);
    complete_persist();
    return;
  }
  if (decided && t1 >= t_end - kTimeEps) {
    account_training(t0, t1, j, true);
    if (action.write && !do_checkpoint(action)) {
      recover_from_failure();
      return;
    }
  } else {
    account_training(t0, t1, j, false);
  }
  if (persist_timer && persist_.active && now() >= persist_.end_s - kTimeEps) complete_persist();
  if (!stopped() && !process_hints()) recover_from_failure();
}

bool Controller::process_hints() {
  std::vector<int> notice_nodes, returned, slowed;
  double notice_s = 0;
  std::string notice_cause, slow_cause;
  while (hint_cursor_ < hints_.size() && setup_.events[hints_[hint_cursor_]].time_s <= now() + kTimeEps) {
    const AvailabilityEvent& e = setup_.events[hints_[hint_cursor_++]];
    const int n = static_cast<int>(e.node.value);
    if (n < 0 || n >= n_nodes_) continue;
    if (e.kind == AvailabilityKind::kPreemptNotice) {
      log(Json{{"event", "preempt_notice"}, {"node", n}, {"notice_s", e.notice_s}, {"in_job", in_job_[n] != 0},
               {"cause", e.cause}});
      if (in_job_[n] && node_up(n)) {
        notice_nodes.push_back(n);
        notice_s = notice_nodes.size() == 1 ? e.notice_s : std::min(notice_s, e.notice_s);
        notice_cause = e.cause;
      }
    } else if (e.kind == AvailabilityKind::kSpeedChange) {
      const double before = speed_[n];
      speed_[n] = node_speed(n);  // SimGrid's view, not the event's
      log(Json{{"event", "speed_change"}, {"node", n}, {"speed_ratio", speed_[n]}, {"in_job", in_job_[n] != 0},
               {"cause", e.cause}});
      if (speed_[n] < before - 1e-12 && in_job_[n]) {
        slowed.push_back(n);
        slow_cause = e.cause;
      } else if (speed_[n] > before + 1e-12 && (in_job_[n] || excluded_[n])) {
        if (excluded_[n] && speed_[n] >= 1 - 1e-12) excluded_[n] = 0, ++state_version_;
        returned.push_back(n);
      }
    } else if (platforms::is_up(e.kind)) {
      if (node_up(n) && !in_job_[n]) returned.push_back(n);
    }
  }
  if (!notice_nodes.empty()) {
    policies::Notice notice{now(), notice_s, {}, notice_cause};
    for (int n : notice_nodes) notice.nodes.push_back(core::NodeId(n));
    const CheckpointAction a = policy_.on_preemption_notice(notice, progress());
    log(Json{{"event", "notice_decision"}, {"nodes", node_list(notice_nodes)}, {"write", a.write},
             {"reason", a.reason}});
    if (a.write && !do_checkpoint(a)) return false;
  }
  const double old_factor = speed_factor_;
  recompute_speed_factor();
  if (!slowed.empty()) {
    Failure f;
    f.time_s = now();
    f.kind = AvailabilityKind::kSpeedChange;
    f.speed_ratio = 1.0;
    for (int n : slowed) {
      f.nodes.push_back(core::NodeId(n));
      f.speed_ratio = std::min(f.speed_ratio, speed_[n]);
    }
    f.cause = slow_cause;
    const RecoveryAction a = policy_.on_failure(f, progress(), view());
    log(Json{{"event", "slowdown"}, {"nodes", node_list(slowed)}, {"speed_ratio", f.speed_ratio},
             {"job_speed_factor", speed_factor_}, {"iteration_time_s", iteration_seconds()},
             {"decision", recovery_name(a.kind)}, {"reason", a.reason}});
    if (a.kind != RecoveryKind::kContinue && !execute_live_change(a, "slowdown")) return false;
  } else if (speed_factor_ != old_factor) {
    log(Json{{"event", "job_speed"}, {"job_speed_factor", speed_factor_}, {"iteration_time_s", iteration_seconds()}});
  }
  if (!returned.empty()) {
    std::sort(returned.begin(), returned.end());
    returned.erase(std::unique(returned.begin(), returned.end()), returned.end());
    std::vector<core::NodeId> ids;
    for (int n : returned) ids.push_back(core::NodeId(n));
    const RecoveryAction a = policy_.on_nodes_returned(ids, progress(), view());
    log(Json{{"event", "nodes_returned"}, {"nodes", node_list(returned)}, {"decision", recovery_name(a.kind)},
             {"reason", a.reason}});
    if (a.kind == RecoveryKind::kGrow && !execute_live_change(a, "grow")) return false;
  }
  return true;
}

// --- checkpoints --------------------------------------------------------------------------------

bool Controller::do_checkpoint(const CheckpointAction& action) {
  if (action.level == StorageLevel::kPeer) return write_peer(action.reason);
  if (action.level == StorageLevel::kHostMemory) return write_host_memory(action.reason);
  return action.async ? write_async(action.reason) : write_persistent(action.reason);
}

std::vector<sg4::ActivityPtr> Controller::start_persistent_writes() {
  std::vector<sg4::ActivityPtr> out;
  const auto bytes = static_cast<std::uint64_t>(std::max(1.0, std::ceil(bytes_per_node())));
  for (int n : job_) {
    if (setup_.local_disk)
      out.push_back(platform_.node_disks.at(n)->write_async(bytes));
    else
      out.push_back(sg4::Comm::sendto_async(platform_.cpu_hosts[n], platform_.storage_host, bytes));
  }
  result_.activities += out.size();
  return out;
}

std::vector<sg4::ActivityPtr> Controller::start_snapshots() {
  std::vector<sg4::ActivityPtr> out;
  const auto bytes = static_cast<std::uint64_t>(std::max(1.0, std::ceil(setup_.checkpoint_bytes / std::max(job_gpus(), 1))));
  for (int n : job_)
    for (sg4::Host* gpu : gpu_hosts_of_node_[n]) out.push_back(sg4::Comm::sendto_async(gpu, platform_.cpu_hosts[n], bytes));
  result_.activities += out.size();
  return out;
}

std::vector<sg4::ActivityPtr> Controller::start_peer_copies() {
  std::vector<sg4::ActivityPtr> out;
  const auto bytes = static_cast<std::uint64_t>(std::max(1.0, std::ceil(bytes_per_node())));
  for (std::size_t i = 0; i < job_.size(); ++i) {
    const int holder = job_[(i + 1) % job_.size()];
    if (holder == job_[i]) continue;  // a one-node job has no peer: the copy stays local
    out.push_back(sg4::Comm::sendto_async(platform_.cpu_hosts[job_[i]], platform_.cpu_hosts[holder], bytes));
  }
  result_.activities += out.size();
  return out;
}

std::vector<sg4::ActivityPtr> Controller::start_reloads(StorageLevel level, const std::vector<int>& replaced,
                                                       const std::vector<int>& failed) {
  std::vector<sg4::ActivityPtr> out;
  const auto bytes = static_cast<std::uint64_t>(std::max(1.0, std::ceil(bytes_per_node())));
  if (level == StorageLevel::kPeer) {
    // Each replacement node fetches the replica its failed predecessor left on a peer (Gemini);
    // the surviving nodes restore from their own host memory (PCIe-fast, not modelled).
    for (std::size_t i = 0; i < replaced.size() && i < failed.size(); ++i) {
      const int holder = peer_holder_[failed[i]];
      if (holder >= 0 && holder != replaced[i] && node_up(holder))
        out.push_back(sg4::Comm::sendto_async(platform_.cpu_hosts[holder], platform_.cpu_hosts[replaced[i]], bytes));
    }
  } else {
    for (int n : job_) {
      if (setup_.local_disk)
        out.push_back(platform_.node_disks.at(n)->read_async(bytes));
      else
        out.push_back(sg4::Comm::sendto_async(platform_.storage_host, platform_.cpu_hosts[n], bytes));
    }
  }
  result_.activities += out.size();
  return out;
}

Op Controller::blocking_write(StorageLevel level, double& measured, const std::string& reason,
                              const std::string& phase_name, TransferStarter start_transfers) {
  const std::string name = level_name(level);
  const double start_s = now();
  const bool simulate = setup_.simulate_all_transfers || measured < 0;
  log(Json{{"event", "checkpoint_start"}, {"level", name}, {"async", false}, {"iteration", iteration_},
           {"simulated", simulate}, {"reason", reason}});
  Op op;
  std::vector<sg4::ActivityPtr> transfers;
  if (simulate) {
    transfers = (this->*start_transfers)();
    op = wait_transfers(transfers);
  } else {
    op = wait_timer(measured);
  }
  const double dt = now() - start_s;
  result_.checkpoint_s += dt;
  exposure_s_ += dt;
  if (op != Op::kDone) {
    cancel_all(transfers);
    ++result_.checkpoints_aborted;
    log(Json{{"event", "checkpoint_aborted"}, {"level", name}, {"iteration", iteration_}, {"duration_s", dt},
             {"why", op == Op::kFailure ? "failure during the write" : "campaign end"}});
    phase("job", phase_name + " (aborted)", start_s, now(), Json{{"level", name}});
    return op;
  }
  if (simulate && measured < 0) measured = dt;
  log(Json{{"event", "checkpoint_end"}, {"level", name}, {"iteration", iteration_}, {"duration_s", dt},
           {"measured", simulate}});
  phase("job", phase_name, start_s, now(), Json{{"level", name}, {"iteration", iteration_}});
  return op;
}

bool Controller::write_persistent(const std::string& reason) {
  discard_partial("checkpoint of the last completed iteration");
  const Op op = blocking_write(StorageLevel::kPersistent, costs().checkpoint_s, reason, "checkpoint",
                               &Controller::start_persistent_writes);
  if (op != Op::kDone) return op != Op::kFailure;
  persistent_ = Record{iteration_, now(), work_s_};
  ++result_.checkpoints;
  if (persist_.active && persist_.snapshot.iteration <= iteration_) abort_persist("superseded by a synchronous checkpoint");
  return true;
}

bool Controller::write_host_memory(const std::string& reason) {
  discard_partial("snapshot of the last completed iteration");
  const Op op = blocking_write(StorageLevel::kHostMemory, costs().snapshot_s, reason, "snapshot",
                               &Controller::start_snapshots);
  if (op != Op::kDone) return op != Op::kFailure;
  host_memory_ = Record{iteration_, now(), work_s_};
  return true;
}

bool Controller::write_async(const std::string& reason) {
  if (persist_.active) abort_persist("superseded by a newer snapshot");
  if (!write_host_memory(reason)) return false;
  if (host_memory_.iteration != iteration_) return true;  // stopped
  persist_ = Persist{};
  persist_.active = true;
  persist_.snapshot = host_memory_;
  persist_.start_s = now();
  const double measured = costs().persist_s;
  const bool simulate = setup_.simulate_all_transfers || measured < 0;
  if (simulate) {
    persist_.transfers = start_persistent_writes();
    persist_.batch = start_batch(persist_.transfers);
  } else
    persist_.end_s = now() + measured;
  log(Json{{"event", "persist_start"}, {"iteration", iteration_}, {"simulated", simulate}});
  return true;
}

void Controller::complete_persist() {
  const double dt = now() - persist_.start_s;
  if (costs().persist_s < 0) costs().persist_s = dt;
  if (persist_.snapshot.iteration > persistent_.iteration) persistent_ = persist_.snapshot;
  ++result_.checkpoints;
  log(Json{{"event", "persist_end"}, {"iteration", persist_.snapshot.iteration}, {"duration_s", dt}});
  phase("checkpoints", "persist", persist_.start_s, now(), Json{{"iteration", persist_.snapshot.iteration}});
  persist_ = Persist{};
}

void Controller::abort_persist(const std::string& why) {
  if (!persist_.active) return;
  cancel_all(persist_.transfers);
  ++result_.checkpoints_aborted;
  log(Json{{"event", "persist_aborted"}, {"iteration", persist_.snapshot.iteration}, {"why", why}});
  phase("checkpoints", "persist (aborted)", persist_.start_s, now(), Json{{"iteration", persist_.snapshot.iteration}});
  persist_ = Persist{};
}

bool Controller::write_peer(const std::string& reason) {
  discard_partial("replica of the last completed iteration");
  const Op op = blocking_write(StorageLevel::kPeer, costs().peer_s, reason, "peer checkpoint",
                               &Controller::start_peer_copies);
  if (op != Op::kDone) return op != Op::kFailure;
  peer_ = Record{iteration_, now(), work_s_};
  std::fill(peer_holder_.begin(), peer_holder_.end(), -1);
  for (std::size_t i = 0; i < job_.size(); ++i) peer_holder_[job_[i]] = job_[(i + 1) % job_.size()];
  ++result_.peer_checkpoints;
  return true;
}

// --- recovery -----------------------------------------------------------------------------------

void Controller::recover_from_failure() {
  for (;;) {
    if (stopped()) return;
    std::vector<int> failed = down_job_nodes();
    if (failed.empty())
      throw core::InternalError("campaign: a job activity failed at t = " + std::to_string(now()) +
                                " s but every job node is up");
    ++failures_;
    ++result_.failures;
    // What took them down: the latest down transition of each at or before now.
    AvailabilityKind kind = AvailabilityKind::kFail;
    std::string cause;
    for (int n : failed) {
      const auto& tr = transitions_of_node_[n];
      for (auto it = tr.rbegin(); it != tr.rend(); ++it) {
        const AvailabilityEvent& e = setup_.events[*it];
        if (e.time_s <= now() + kTimeEps && platforms::is_down(e.kind)) {
          if (e.kind == AvailabilityKind::kPreempt) kind = AvailabilityKind::kPreempt;
          if (cause.empty()) cause = e.cause;
          break;
        }
      }
    }
    Failure f;
    f.time_s = now();
    f.kind = kind;
    f.cause = cause;
    for (int n : failed) {
      f.nodes.push_back(core::NodeId(n));
      const int holder = peer_holder_[n];
      if (peer_.exists() && (holder < 0 || !node_up(holder))) f.peer_copy_lost = true;
    }
    failure_notes_.clear();
    // What dies with the nodes: the snapshot in host memory and a persist still in flight.
    if (persist_.active) abort_persist("failure of " + std::to_string(failed.size()) + " job node(s)");
    host_memory_ = Record{};
    const Progress p = progress();
    const RecoveryAction a = policy_.on_failure(f, p, view());
    log(Json{{"event", "failure"}, {"nodes", node_list(failed)}, {"kind", kind_name(kind)}, {"cause", cause},
             {"iteration", iteration_}, {"peer_copy_lost", f.peer_copy_lost}, {"decision", recovery_name(a.kind)},
             {"reason", a.reason}});
    if (execute_recovery(a, failed)) return;
  }
}

void Controller::rollback(const RecoveryAction& a) {
  Record target{0, 0, 0};
  std::string level = "none";
  if (a.restore_iteration >= 0) {
    if (a.restore_from == StorageLevel::kPeer && peer_.iteration == a.restore_iteration) {
      target = peer_;
      level = "peer";
    } else if (persistent_.iteration == a.restore_iteration) {
      target = persistent_;
      level = "persistent";
    } else {
      throw core::InternalError("campaign: the recovery policy restores iteration " +
                                std::to_string(a.restore_iteration) + " from " + level_name(a.restore_from) +
                                ", which holds no such checkpoint");
    }
  }
  const std::int64_t lost_iterations = iteration_ - target.iteration;
  const double lost_s = std::max(0.0, work_s_ - target.work_s);
  result_.lost_work_s += lost_s;
  log(Json{{"event", "rollback"}, {"from_iteration", iteration_}, {"to_iteration", target.iteration},
           {"level", level}, {"lost_iterations", lost_iterations}, {"lost_work_s", lost_s}});
  iteration_ = target.iteration;
  work_s_ = target.work_s;
  frac_ = 0;
  // The replicas held by the failed nodes are gone: the peer level is incomplete until the next
  // peer checkpoint (Gemini re-replicates after recovery). peer_holder_ stays for the reload.
  peer_ = Record{};
}

bool Controller::wait_for_nodes(int need) {
  const double start = now();
  for (;;) {
    if (usable_count() >= need) break;
    // Sleep until the next node comes back (repair or return), as the events announce it.
    double next = kInf;
    for (std::size_t k = hint_cursor_; k < hints_.size(); ++k) {
      const AvailabilityEvent& e = setup_.events[hints_[k]];
      if (e.time_s > now() + kTimeEps && (platforms::is_up(e.kind) || e.kind == AvailabilityKind::kSpeedChange)) {
        next = e.time_s;
        break;
      }
    }
    if (!std::isfinite(next) || next >= stop_time()) {
      sleep_until(stop_time());
      break;
    }
    sleep_until(next);
    while (hint_cursor_ < hints_.size() && setup_.events[hints_[hint_cursor_]].time_s <= now() + kTimeEps) {
      const AvailabilityEvent& e = setup_.events[hints_[hint_cursor_++]];
      if (e.kind == AvailabilityKind::kSpeedChange && excluded_[e.node.value] && node_speed(e.node.value) >= 1 - 1e-12)
        excluded_[e.node.value] = 0, ++state_version_;
    }
  }
  const double dt = now() - start;
  result_.downtime_s += dt;
  if (dt > 0) phase("job", "waiting for nodes", start, now());
  return usable_count() >= need && !stopped();
}

void Controller::provision(int need) {
  int missing = need - usable_count();
  std::vector<int> turned_on;
  // Failed job nodes first (their slots get the new machines), then other down nodes.
  std::vector<int> order;
  for (int n : job_)
    if (!node_up(n)) order.push_back(n);
  for (int n = 0; n < n_nodes_; ++n)
    if (!in_job_[n] && !node_up(n)) order.push_back(n);
  for (int n : order) {
    if (missing <= 0) break;
    for (sg4::Host* h : gpu_hosts_of_node_[n]) h->turn_on();
    platform_.cpu_hosts[n]->turn_on();
    turned_on.push_back(n);
    --missing;
  }
  if (!turned_on.empty()) log(Json{{"event", "provisioned"}, {"nodes", node_list(turned_on)}});
}

void Controller::apply_layout(int units, const std::vector<int>& nodes, const std::string& why) {
  const int old_units = units_;
  set_job(nodes);
  units_ = units;
  ++state_version_;
  if (old_units != units) {
    ++result_.replans;
    const CampaignLayout& l = layout();
    log(Json{{"event", "replan"}, {"from_units", old_units}, {"to_units", units}, {"data_parallel", l.data_parallel},
             {"nodes", static_cast<int>(nodes.size())}, {"iteration_time_s", l.iteration_s}, {"origin", l.origin},
             {"why", why}});
  }
}

bool Controller::restart(double restart_s, StorageLevel reload_from, bool reload, const std::vector<int>& replaced,
                         const std::vector<int>& failed) {
  const double start = now();
  log(Json{{"event", "restart_start"}, {"nodes", static_cast<int>(job_.size())}, {"data_parallel_units", units_},
           {"replaced", node_list(replaced)}});
  Op op = wait_timer(restart_s);
  double reload_dt = 0;
  if (op == Op::kDone && reload) {
    const double r0 = now();
    double& measured = reload_from == StorageLevel::kPeer ? costs().peer_reload_s : costs().reload_s;
    const bool simulate = setup_.simulate_all_transfers || measured < 0;
    std::vector<sg4::ActivityPtr> transfers;
    if (simulate) {
      transfers = start_reloads(reload_from, replaced, failed);
      op = wait_transfers(transfers);
      if (op != Op::kDone) cancel_all(transfers);
    } else {
      op = wait_timer(measured);
    }
    reload_dt = now() - r0;
    if (op == Op::kDone && simulate && measured < 0) measured = reload_dt;
  }
  const double dt = now() - start;
  result_.restart_s += dt;
  exposure_s_ += dt;
  phase("job", "restart", start, now(), Json{{"reload_s", reload_dt}});
  if (op != Op::kDone) {
    log(Json{{"event", "restart_interrupted"}, {"duration_s", dt}});
    return op != Op::kFailure;
  }
  log(Json{{"event", "restart_end"}, {"duration_s", dt}, {"reload_s", reload_dt},
           {"reload_from", reload ? level_name(reload_from) : std::string("none")}});
  resumed_s_ = now();
  std::fill(peer_holder_.begin(), peer_holder_.end(), -1);
  refresh_speeds();
  skip_stale_hints();
  return true;
}

bool Controller::execute_recovery(RecoveryAction a, const std::vector<int>& failed) {
  RecoveryKind kind = a.kind;
  if (kind == RecoveryKind::kContinue || kind == RecoveryKind::kGrow) kind = RecoveryKind::kWaitForRepair;  // nodes are gone
  ++result_.restarts;
  if (a.rollback) rollback(a);
  const bool reload = a.rollback && a.restore_iteration >= 0;
  const StorageLevel reload_from = a.restore_from;

  const double down_start = now();
  sleep_until(now() + a.detection_s);
  if (kind == RecoveryKind::kRestartAfterProvisioning) sleep_until(now() + a.wait_s);
  result_.downtime_s += now() - down_start;
  if (now() > down_start) phase("job", "downtime", down_start, now(), Json{{"detection_s", a.detection_s}, {"wait_s", a.wait_s}});
  if (stopped()) return true;

  int units = units_;
  if (kind == RecoveryKind::kShrink) {
    units = allowed_at_most(a.data_parallel);
    if (units == 0) {
      log(Json{{"event", "shrink_refused"}, {"asked_units", a.data_parallel},
               {"why", "no allowed layout at or below it (plan or memory): wait for repairs instead"}});
      units = units_;
      kind = RecoveryKind::kWaitForRepair;
    }
  }
  const int need = units * setup_.unit_nodes;
  if (kind == RecoveryKind::kRestartAfterProvisioning) provision(need);
  std::vector<int> nodes = choose_nodes(units);
  if (nodes.empty()) {
    log(Json{{"event", "waiting_for_nodes"}, {"need", need}, {"usable", usable_count()}});
    if (!wait_for_nodes(need)) return true;  // campaign over
    nodes = choose_nodes(units);
  }
  std::vector<int> replaced;
  for (int n : nodes)
    if (!in_job_[n]) replaced.push_back(n);
  apply_layout(units, nodes, a.reason);
  return restart(a.restart_s, reload_from, reload, replaced, failed);
}

bool Controller::execute_live_change(const RecoveryAction& a, const std::string& why) {
  // Decide the new layout first: a change that changes nothing (e.g. a grow to a size no
  // allowed layout reaches) costs no checkpoint and no restart.
  for (const core::NodeId& n : a.exclude) excluded_[n.value] = 1, ++state_version_;
  int units = units_;
  if (a.kind == RecoveryKind::kGrow || a.kind == RecoveryKind::kShrink) units = allowed_at_most(a.data_parallel);
  if (units == 0) units = units_;
  std::vector<int> nodes = choose_nodes(units);
  if (nodes.empty() || (units == units_ && nodes == job_)) {
    for (const core::NodeId& n : a.exclude) excluded_[n.value] = 0, ++state_version_;
    log(Json{{"event", "change_skipped"}, {"kind", recovery_name(a.kind)}, {"asked_units", a.data_parallel},
             {"why", nodes.empty() ? "not enough usable nodes" : "no allowed layout differs from the running one"}});
    return true;
  }
  if (a.checkpoint_first && !write_persistent("before " + why + ": " + a.reason)) return false;
  if (stopped()) return true;
  nodes = choose_nodes(units);  // the write took time: check again
  if (nodes.empty()) return true;
  ++result_.restarts;
  std::vector<int> replaced;
  for (int n : nodes)
    if (!in_job_[n]) replaced.push_back(n);
  apply_layout(units, nodes, a.reason);
  return restart(a.restart_s, StorageLevel::kPersistent, persistent_.exists(), replaced, {});
}

// --- outputs ------------------------------------------------------------------------------------

void Controller::log(Json entry) {
  entry["time_s"] = now();
  result_.events.push_back(std::move(entry));
}

void Controller::phase(const std::string& track, const std::string& name, double start_s, double end_s, Json args) {
  if (!setup_.record_phases) return;
  result_.phases.push_back(CampaignPhase{track, name, start_s, end_s, std::move(args)});
}

Json Controller::node_list(const std::vector<int>& nodes) const {
  Json out = Json::array();
  for (int n : nodes) out.push_back(n);
  return out;
}

std::string Controller::cause_at(int node, bool down) const {
  // transitions_of_node_ is sorted by time (the events are): binary search for now.
  const auto& tr = transitions_of_node_[node];
  auto it = std::lower_bound(tr.begin(), tr.end(), now() - 1e-6,
                             [this](std::size_t k, double t) { return setup_.events[k].time_s < t; });
  for (; it != tr.end() && setup_.events[*it].time_s <= now() + 1e-6; ++it) {
    const AvailabilityEvent& e = setup_.events[*it];
    if (down ? platforms::is_down(e.kind) : platforms::is_up(e.kind)) return kind_name(e.kind) + ": " + e.cause;
  }
  return down ? "turned off" : "provisioned by the campaign (replacement node)";
}

void Controller::on_state_change(const sg4::Host& host) {
  const auto it = node_of_cpu_.find(&host);
  if (it == node_of_cpu_.end()) return;
  const int n = it->second;
  const bool on = host.is_on();
  if (!on) heartbeat_dead_[n] = 1;
  ++state_version_;
  state_log_[n].emplace_back(now(), on);
  log(Json{{"event", on ? "node_up" : "node_down"}, {"node", n}, {"in_job", in_job_[n] != 0}, {"cause", cause_at(n, !on)}});
}

void Controller::run() {
  try {
    max_units_ = static_cast<int>(setup_.initial_nodes.size()) / std::max(setup_.unit_nodes, 1);
    units_ = max_units_;
    set_job(setup_.initial_nodes);
    log(Json{{"event", "campaign_start"}, {"nodes", static_cast<int>(job_.size())}, {"data_parallel_units", units_},
             {"iteration_time_s", layout().iteration_s}});
    while (!finished()) run_segment();
    result_.status = setup_.goal_iterations > 0 && iteration_ >= setup_.goal_iterations ? "ok"
                     : setup_.goal_wall_time_s > 0 && now() >= setup_.goal_wall_time_s - kTimeEps ? "ok"
                                                                                                   : "horizon_reached";
    log(Json{{"event", result_.status == "ok" ? "goal_reached" : "horizon_reached"}, {"iteration", iteration_}});
  } catch (const std::exception&) {
    error_ = std::current_exception();
  }
  // Leave nothing running: SimGrid would keep the heartbeats' hosts busy.
  for (int n : job_) stop_heartbeat(n);
  if (persist_.active) cancel_all(persist_.transfers);
  result_.wall_clock_s = now();
  result_.iterations = iteration_;
  result_.useful_s = work_s_;
}

CampaignResult Controller::collect() {
  if (error_) std::rethrow_exception(error_);
  // Up time per node in [0, wall_clock]: every node starts up; state changes toggle it.
  result_.node_up_s.assign(n_nodes_, 0.0);
  for (int n = 0; n < n_nodes_; ++n) {
    bool up = true;
    double since = 0, total = 0;
    for (const auto& [t, on] : state_log_[n]) {
      const double tc = std::min(t, result_.wall_clock_s);
      if (up && !on) total += tc - since;
      if (!up && on) since = tc;
      up = on;
    }
    if (up) total += result_.wall_clock_s - since;
    result_.node_up_s[n] = total;
  }
  result_.costs = costs_;
  int major = 0, minor = 0, patch = 0;
  sg_version_get(&major, &minor, &patch);
  result_.simgrid_version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  return std::move(result_);
}


}  // namespace

CampaignResult simulate_campaign(const CampaignSetup& setup) {
  if (setup.cluster == nullptr || setup.policy == nullptr)
    throw std::invalid_argument("simulate_campaign: cluster and policy are required");
  const int n_nodes = setup.cluster->node_count();
  const int units = static_cast<int>(setup.initial_nodes.size()) / std::max(setup.unit_nodes, 1);
  if (setup.initial_nodes.empty() || units * setup.unit_nodes != static_cast<int>(setup.initial_nodes.size()) ||
      units >= static_cast<int>(setup.layouts.size()) || !setup.layouts[units].allowed)
    throw std::invalid_argument("simulate_campaign: the initial nodes must form an allowed layout");
  if (!(setup.horizon_s > 0)) throw std::invalid_argument("simulate_campaign: horizon_s must be > 0");
  static bool engine_used = false;
  if (engine_used)
    throw core::InternalError("simulate_campaign() called twice in one process: SimGrid's engine is one per process");
  engine_used = true;

  std::vector<std::string> args = {"frugalsim-campaign", "--log=root.thres:critical"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  sg4::Engine engine(&argc, argv.data());
  configure_network_model();  // the same as simulate()'s

  // Per-node profiles from the availability events, grouped by node first (one pass).
  std::vector<std::vector<platforms::AvailabilityEvent>> by_node(n_nodes);
  for (const auto& e : setup.events)
    if (e.node.value >= 0 && e.node.value < n_nodes) by_node[e.node.value].push_back(e);
  PlatformExtras extras;
  extras.node_state_profiles.assign(n_nodes, "");
  extras.node_speed_profiles.assign(n_nodes, "");
  for (int n = 0; n < n_nodes; ++n) {
    if (by_node[n].empty()) continue;
    extras.node_state_profiles[n] = platforms::state_profile(by_node[n], core::NodeId(n));
    extras.node_speed_profiles[n] = platforms::speed_profile(by_node[n], core::NodeId(n));
  }
  extras.storage = setup.cluster->storage.has_shared && !setup.local_disk;
  extras.local_disks = setup.local_disk;
  extras.controller = true;
  const BuiltPlatform platform = build_platform(*setup.cluster, setup.precision, extras);

  Controller controller(setup, platform);
  sg4::Actor::create("campaign-controller", platform.controller_host, [&controller]() { controller.run(); });
  engine.run();
  return controller.collect();
}

}  // namespace frugal::engine

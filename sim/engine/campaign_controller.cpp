// The campaign driver's controller (see campaign_controller.hpp): training is fast-forwarded in
// segments (CampaignState::plan_segment decides, one wait covers the segment); known events
// (notices, repairs, returns, speed changes) and failures seen by the watchers become calls of
// the state machine, whose decisions this file carries out on SimGrid: node choice,
// provisioning, waiting for nodes, restarts and reloads.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include <simgrid/s4u.hpp>
#include <simgrid/simix.hpp>
#include <simgrid/version.h>

#include "sim/core/error.hpp"
#include "sim/core/progress.hpp"
#include "sim/engine/campaign_controller.hpp"

namespace frugal::engine::campaign_detail {
namespace {

using core::Json;
using platforms::AvailabilityEvent;
using platforms::AvailabilityKind;
using policies::CheckpointAction;
using policies::ClusterView;
using policies::Failure;
using policies::RecoveryAction;
using policies::RecoveryKind;
using policies::StorageLevel;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kTimeEps = CampaignState::kTimeEps;

// Names of levels and decisions: the policies' own (policies::to_string).
std::string level_name(StorageLevel level) { return std::string(policies::to_string(level)); }
std::string recovery_name(RecoveryKind kind) { return std::string(policies::to_string(kind)); }
std::string kind_name(AvailabilityKind kind) { return std::string(platforms::to_string(kind)); }

}  // namespace

Controller::Controller(const CampaignSetup& setup, const BuiltPlatform& platform)
    : setup_(setup),
      platform_(platform),
      n_nodes_(setup.cluster->node_count()),
      state_(setup),
      timeline_(setup.events, n_nodes_, setup.replacement_draw) {
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
  for (const AvailabilityEvent& e : setup.events)
    if (e.kind == AvailabilityKind::kSpeedChange) has_speed_events_ = true;
  sg4::Host::on_state_change_cb([alive = alive_](const sg4::Host& h) {
    if (*alive != nullptr) (*alive)->on_state_change(h);
  });
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
    for (int n : job()) speed_[n] = node_speed(n);
  recompute_speed_factor();
}

void Controller::recompute_speed_factor() {
  double factor = 1.0;
  for (int n : job()) factor = std::min(factor, speed_[n]);
  state_.set_speed_factor(std::max(factor, 1e-6));
}

void Controller::set_job(const std::vector<int>& nodes) {
  const std::vector<int> old = job();
  for (int n : old) in_job_[n] = 0;
  state_.set_job(nodes);  // GPUs per type, job MTBF
  for (int n : job()) in_job_[n] = 1;
  for (int n : old)
    if (!in_job_[n]) stop_heartbeat(n);
  // A node whose heartbeat died with it (failed, then repaired) gets a fresh one.
  for (int n : job())
    if (!heartbeat_[n] || heartbeat_dead_[n]) start_heartbeat(n);
  failure_notes_.clear();  // failures seen while the job was down are not the new job's
  ++state_version_;
  refresh_speeds();
}

std::vector<int> Controller::down_job_nodes() const {
  std::vector<int> down;
  for (int n : job())
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
  for (int n : job())
    if (out.size() < need && usable(n)) out.push_back(n);
  for (int n = 0; n < n_nodes_ && out.size() < need; ++n)
    if (!in_job_[n] && usable(n)) out.push_back(n);
  if (out.size() < need) out.clear();
  return out;
}

ClusterView Controller::view() {
  // Cached between changes of node state, exclusions or the job (a scan of every node).
  if (view_version_ == state_version_) return view_cache_;
  view_version_ = state_version_;
  ClusterView& v = view_cache_;
  v.nodes_total = n_nodes_;
  v.nodes_up = usable_count();
  v.nodes_in_job = static_cast<int>(job().size());
  int spares = 0;
  for (int n = 0; n < n_nodes_; ++n) spares += (!in_job_[n] && usable(n)) ? 1 : 0;
  v.spare_nodes = spares;
  v.data_parallel = state_.units();
  v.max_data_parallel = state_.max_units();
  v.nodes_per_replica = setup_.unit_nodes;
  v.job_mtbf_s = state_.job_mtbf_s();
  return v;
}

// --- training ---------------------------------------------------------------------------------

double Controller::next_hint_time() const { return timeline_.next_hint_time(); }

void Controller::skip_stale_hints() { timeline_.drop_hints_before(now() - kTimeEps); }

void Controller::run_segment() {
  const double t0 = now();
  double t_stop = std::min(state_.stop_time(), next_hint_time());
  const bool persist_timer = state_.persist_active() && !persist_batch_;
  if (persist_timer) t_stop = std::min(t_stop, state_.persist_end_s());

  // Decided ahead on a hand-advanced clock: the segment ends at the first iteration whose end
  // makes the policy write (or the goal's), else at t_stop.
  const ClusterView v = view();
  const Segment seg = state_.plan_segment(t0, t_stop, v);
  const std::int64_t j = seg.iterations;
  const double t_end = seg.end_s;
  const bool decided = seg.decided;
  const CheckpointAction& action = seg.action;

  const Wake w = wait_until(t_end, state_.persist_active() ? persist_batch_.get() : nullptr);
  const double t1 = now();
  if (w == Wake::kFailure) {
    state_.account_training(t0, t1, j, false);
    recover_from_failure();
    return;
  }
  if (w == Wake::kTransfer) {  // a background persist transfer finished mid-segment
    state_.account_training(t0, t1, j, false);
    complete_persist();
    return;
  }
  if (decided && t1 >= t_end - kTimeEps) {
    state_.account_training(t0, t1, j, true);
    if (action.write && !do_checkpoint(action)) {
      recover_from_failure();
      return;
    }
  } else {
    state_.account_training(t0, t1, j, false);
  }
  if (persist_timer && state_.persist_active() && now() >= state_.persist_end_s() - kTimeEps) complete_persist();
  if (!stopped() && !process_hints()) recover_from_failure();
}

bool Controller::process_hints() {
  std::vector<int> notice_nodes, returned, slowed;
  double notice_s = 0;
  std::string notice_cause, slow_cause;
  for (const AvailabilityEvent& e : timeline_.take_hints_until(now() + kTimeEps)) {
    const int n = static_cast<int>(e.node.value);
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
    const CheckpointAction a = state_.on_preemption_notice(notice);
    log(Json{{"event", "notice_decision"}, {"nodes", node_list(notice_nodes)}, {"write", a.write},
             {"reason", a.reason}});
    if (a.write && !do_checkpoint(a)) return false;
  }
  const double old_factor = state_.speed_factor();
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
    const RecoveryAction a = state_.on_slowdown(now(), f, view());
    log(Json{{"event", "slowdown"}, {"nodes", node_list(slowed)}, {"speed_ratio", f.speed_ratio},
             {"job_speed_factor", state_.speed_factor()}, {"iteration_time_s", state_.iteration_seconds()},
             {"decision", recovery_name(a.kind)}, {"reason", a.reason}});
    if (a.kind != RecoveryKind::kContinue && !execute_live_change(a, "slowdown")) return false;
  } else if (state_.speed_factor() != old_factor) {
    log(Json{{"event", "job_speed"}, {"job_speed_factor", state_.speed_factor()},
             {"iteration_time_s", state_.iteration_seconds()}});
  }
  if (!returned.empty()) {
    std::sort(returned.begin(), returned.end());
    returned.erase(std::unique(returned.begin(), returned.end()), returned.end());
    std::vector<core::NodeId> ids;
    for (int n : returned) ids.push_back(core::NodeId(n));
    const RecoveryAction a = state_.on_nodes_returned(now(), ids, view());
    log(Json{{"event", "nodes_returned"}, {"nodes", node_list(returned)}, {"decision", recovery_name(a.kind)},
             {"reason", a.reason}});
    if (a.kind == RecoveryKind::kGrow && !execute_live_change(a, "grow")) return false;
  }
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
    // What took them down: the latest down transition of each at or before now.
    AvailabilityKind kind = AvailabilityKind::kFail;
    std::string cause;
    for (int n : failed) {
      if (const AvailabilityEvent* e = timeline_.latest_down(n, now() + kTimeEps)) {
        if (e->kind == AvailabilityKind::kPreempt) kind = AvailabilityKind::kPreempt;
        if (cause.empty()) cause = e->cause;
      }
    }
    Failure f;
    f.time_s = now();
    f.kind = kind;
    f.cause = cause;
    for (int n : failed) {
      f.nodes.push_back(core::NodeId(n));
      const int holder = peer_holder_[n];
      if (state_.peer().exists() && (holder < 0 || !node_up(holder))) f.peer_copy_lost = true;
    }
    failure_notes_.clear();
    // What dies with the nodes: the snapshot in host memory and a persist still in flight.
    if (state_.persist_active()) abort_persist("failure of " + std::to_string(failed.size()) + " job node(s)");
    const RecoveryAction a = state_.on_failure(now(), f, view());
    log(Json{{"event", "failure"}, {"nodes", node_list(failed)}, {"kind", kind_name(kind)}, {"cause", cause},
             {"iteration", state_.iteration()}, {"peer_copy_lost", f.peer_copy_lost}, {"decision", recovery_name(a.kind)},
             {"reason", a.reason}});
    if (execute_recovery(a, failed)) return;
  }
}

bool Controller::wait_for_nodes(int need) {
  const double start = now();
  for (;;) {
    if (usable_count() >= need) break;
    // Sleep until the next node comes back (repair or return), as the events announce it.
    const double next = timeline_.next_return_after(now() + kTimeEps);
    if (!std::isfinite(next) || next >= state_.stop_time()) {
      sleep_until(state_.stop_time());
      break;
    }
    sleep_until(next);
    for (const AvailabilityEvent& e : timeline_.take_hints_until(now() + kTimeEps)) {
      if (e.kind == AvailabilityKind::kSpeedChange && excluded_[e.node.value] && node_speed(e.node.value) >= 1 - 1e-12)
        excluded_[e.node.value] = 0, ++state_version_;
    }
  }
  const double dt = now() - start;
  state_.add_downtime(dt);
  if (dt > 0) phase("job", "waiting for nodes", start, now());
  return usable_count() >= need && !stopped();
}

void Controller::provision(int need) {
  int missing = need - usable_count();
  std::vector<int> turned_on;
  // Failed job nodes first (their slots get the new machines), then other down nodes.
  std::vector<int> order;
  for (int n : job())
    if (!node_up(n)) order.push_back(n);
  for (int n = 0; n < n_nodes_; ++n)
    if (!in_job_[n] && !node_up(n)) order.push_back(n);
  apply_availability(now());
  for (int n : order) {
    if (missing <= 0) break;
    // A new machine: it draws its own failures from now on (AvailabilityTimeline::replace).
    timeline_.replace(n, now());
    player_wakeup_->release();
    simgrid::kernel::actor::simcall_answered([this, n] { power_node(n, true); });
    turned_on.push_back(n);
    --missing;
  }
  if (!turned_on.empty()) log(Json{{"event", "provisioned"}, {"nodes", node_list(turned_on)}});
}

void Controller::apply_layout(int units, const std::vector<int>& nodes, const std::string& why) {
  set_job(nodes);
  state_.apply_layout(now(), units, nodes, why);
  ++state_version_;
}

bool Controller::restart(double restart_s, StorageLevel reload_from, bool reload, const std::vector<int>& replaced,
                         const std::vector<int>& failed) {
  const double start = now();
  log(Json{{"event", "restart_start"}, {"nodes", static_cast<int>(job().size())}, {"data_parallel_units", state_.units()},
           {"replaced", node_list(replaced)}});
  Op op = wait_timer(restart_s);
  double reload_dt = 0;
  if (op == Op::kDone && reload) {
    const double r0 = now();
    double& measured = reload_from == StorageLevel::kPeer ? state_.costs().peer_reload_s : state_.costs().reload_s;
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
  state_.add_restart_time(dt);
  phase("job", "restart", start, now(), Json{{"reload_s", reload_dt}});
  if (op != Op::kDone) {
    log(Json{{"event", "restart_interrupted"}, {"duration_s", dt}});
    return op != Op::kFailure;
  }
  log(Json{{"event", "restart_end"}, {"duration_s", dt}, {"reload_s", reload_dt},
           {"reload_from", reload ? level_name(reload_from) : std::string("none")}});
  state_.resumed(now());
  std::fill(peer_holder_.begin(), peer_holder_.end(), -1);
  refresh_speeds();
  skip_stale_hints();
  return true;
}

bool Controller::execute_recovery(const RecoveryAction& a, const std::vector<int>& failed) {
  const RecoveryPlan plan = state_.plan_recovery(a);  // the nodes are gone: no continue, no grow
  state_.count_restart();
  if (a.rollback) state_.rollback(now(), a);
  const bool reload = a.rollback && a.restore_iteration >= 0;
  const StorageLevel reload_from = a.restore_from;

  const double down_start = now();
  sleep_until(now() + a.detection_s);
  if (plan.kind == RecoveryKind::kRestartAfterProvisioning) sleep_until(now() + a.wait_s);
  state_.add_downtime(now() - down_start);
  if (now() > down_start) phase("job", "downtime", down_start, now(), Json{{"detection_s", a.detection_s}, {"wait_s", a.wait_s}});
  if (stopped()) return true;

  if (plan.shrink_refused)
    log(Json{{"event", "shrink_refused"}, {"asked_units", a.data_parallel},
             {"why", "no allowed layout at or below it (plan or memory): wait for repairs instead"}});
  const int units = plan.units;
  const int need = units * setup_.unit_nodes;
  if (plan.kind == RecoveryKind::kRestartAfterProvisioning) provision(need);
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
  const int units = state_.live_change_units(a);
  std::vector<int> nodes = choose_nodes(units);
  if (nodes.empty() || (units == state_.units() && nodes == job())) {
    for (const core::NodeId& n : a.exclude) excluded_[n.value] = 0, ++state_version_;
    log(Json{{"event", "change_skipped"}, {"kind", recovery_name(a.kind)}, {"asked_units", a.data_parallel},
             {"why", nodes.empty() ? "not enough usable nodes" : "no allowed layout differs from the running one"}});
    return true;
  }
  if (a.checkpoint_first && !write_persistent("before " + why + ": " + a.reason)) return false;
  if (stopped()) return true;
  nodes = choose_nodes(units);  // the write took time: check again
  if (nodes.empty()) return true;
  state_.count_restart();
  std::vector<int> replaced;
  for (int n : nodes)
    if (!in_job_[n]) replaced.push_back(n);
  apply_layout(units, nodes, a.reason);
  return restart(a.restart_s, StorageLevel::kPersistent, state_.persistent().exists(), replaced, {});
}

// --- outputs ------------------------------------------------------------------------------------

Json Controller::node_list(const std::vector<int>& nodes) const {
  Json out = Json::array();
  for (int n : nodes) out.push_back(n);
  return out;
}

std::string Controller::cause_at(int node, bool down) const {
  if (const AvailabilityEvent* e = timeline_.transition_at(node, now(), down, 1e-6))
    return kind_name(e->kind) + ": " + e->cause;
  return down ? "turned off" : "provisioned by the campaign (replacement node)";
}

void Controller::refuse_too_many_events() {
  const CampaignResult& r = state_.result();
  const double until_s = setup_.goal_wall_time_s > 0 ? setup_.goal_wall_time_s : setup_.horizon_s;
  std::ostringstream why;
  why << "the campaign logged more than " << setup_.max_events << " events by " << core::Progress::duration(now())
      << " of simulated time (of up to " << core::Progress::duration(until_s) << "): one every ";
  why.precision(3);
  why << now() / static_cast<double>(setup_.max_events) << " s (" << r.checkpoints
      << " checkpoints, " << r.failures << " failures, " << r.restarts
      << " restarts so far); lengthen the checkpoint interval or the time between failures, shorten the campaign, "
         "or raise max_events";
  throw core::ConfigError("", "/campaign/max_events", why.str());
}

void Controller::run() {
  try {
    start_availability_player();
    apply_availability(now());
    state_.start(setup_.initial_nodes);
    set_job(setup_.initial_nodes);
    log(Json{{"event", "campaign_start"}, {"nodes", static_cast<int>(job().size())}, {"data_parallel_units", state_.units()},
             {"iteration_time_s", state_.layout().iteration_s}});
    while (!state_.finished(now())) {
      run_segment();
      if (setup_.on_progress) setup_.on_progress(now(), state_.iteration());
    }
    const std::string status = state_.status(now());
    state_.result().status = status;
    log(Json{{"event", status == "ok" ? "goal_reached" : "horizon_reached"}, {"iteration", state_.iteration()}});
  } catch (const std::exception&) {
    error_ = std::current_exception();
  }
  // Leave nothing running: SimGrid would keep the heartbeats' hosts busy.
  for (int n : job()) stop_heartbeat(n);
  if (state_.persist_active()) cancel_all(persist_transfers_);
  state_.finish(now());
}

CampaignResult Controller::collect() {
  if (error_) std::rethrow_exception(error_);
  CampaignResult& result = state_.result();
  // Up time per node in [0, wall_clock]: every node starts up; state changes toggle it.
  result.node_up_s.assign(n_nodes_, 0.0);
  for (int n = 0; n < n_nodes_; ++n) {
    bool up = true;
    double since = 0, total = 0;
    for (const auto& [t, on] : state_log_[n]) {
      const double tc = std::min(t, result.wall_clock_s);
      if (up && !on) total += tc - since;
      if (!up && on) since = tc;
      up = on;
    }
    if (up) total += result.wall_clock_s - since;
    result.node_up_s[n] = total;
  }
  int major = 0, minor = 0, patch = 0;
  sg_version_get(&major, &minor, &patch);
  result.simgrid_version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  return std::move(result);
}

}  // namespace frugal::engine::campaign_detail

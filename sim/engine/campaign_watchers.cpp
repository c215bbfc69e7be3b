// The campaign driver's waits and watchers (see campaign_controller.hpp): each job node runs a
// long-lived "heartbeat" Exec, waited on by a small watcher actor that wakes the controller when
// the node turns off (HostFailureException). Every controller wait is one acquire_timeout on a
// semaphore, so its cost does not grow with the job's size (a wait_any over 2,048 heartbeats per
// segment dominated 30-day runs on 16k GPUs).
#include <algorithm>
#include <cmath>

#include <simgrid/Exception.hpp>
#include <simgrid/simix.hpp>

#include "sim/engine/campaign_controller.hpp"

namespace frugal::engine::campaign_detail {
namespace {

using core::Json;

constexpr double kHeartbeatFlops = 1e30;             // never completes within any horizon
constexpr unsigned kWatcherStackBytes = 128 * 1024;  // watcher actors only wait: a small stack
constexpr double kTimeEps = CampaignState::kTimeEps;

}  // namespace

// --- waits ------------------------------------------------------------------------------------

Wake Controller::wait_until(double t_end, const Batch* batch) {
  for (;;) {
    apply_availability(now());
    if (error_) std::rethrow_exception(error_);          // raised by the availability player
    if (events_ > setup_.max_events) refuse_too_many_events();  // logged by a state change
    if (!failure_notes_.empty()) {
      if (!down_job_nodes().empty()) return Wake::kFailure;
      failure_notes_.clear();  // stale: a node that left the job as it failed
    }
    if (batch != nullptr && batch->done) return Wake::kTransfer;
    if (batch != nullptr && batch->failed && !down_job_nodes().empty()) return Wake::kFailure;
    const double t = now();
    if (std::isfinite(t_end) && t >= t_end) return Wake::kTimeout;
    // A release (failure note, batch done) or the timeout. A timeout dated now + (t_end − now)
    // may round below t_end: the loop waits the remainder, and the events dated t_end have been
    // applied when the caller looks.
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
  const Wake w = wait_until(state_.stop_time(), batch.get());
  if (w == Wake::kFailure) return Op::kFailure;
  if (w == Wake::kTimeout) return Op::kStopped;
  transfers.clear();
  // Disk I/O on a host turned off still succeeds in SimGrid 3.32: never count a transfer of a
  // node that is down (its heartbeat watcher reports the failure).
  return down_job_nodes().empty() ? Op::kDone : Op::kFailure;
}

Op Controller::wait_timer(double duration_s) {
  const double end = now() + duration_s;
  const Wake w = wait_until(std::min(end, state_.stop_time()), nullptr);
  if (w == Wake::kFailure) return Op::kFailure;
  return now() >= end - kTimeEps ? Op::kDone : Op::kStopped;
}

void Controller::sleep_until(double t) {
  t = std::min(t, state_.stop_time());
  while (now() < t) sg4::this_actor::sleep_for(t - now());
  apply_availability(now());
}

void Controller::cancel_all(std::vector<sg4::ActivityPtr>& transfers) {
  // Cancelling a finished or failed activity is a no-op in the kernel.
  for (auto& a : transfers) a->cancel();
  transfers.clear();
}

// --- heartbeats and node state ------------------------------------------------------------

void Controller::start_heartbeat(int node) {
  sg4::ExecPtr e = sg4::Exec::init()->set_flops_amount(kHeartbeatFlops)->set_host(platform_.cpu_hosts[node]);
  e->start();
  heartbeat_[node] = e;
  heartbeat_dead_[node] = 0;
  ++state_.result().activities;
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

void Controller::power_node(int node, bool on) {
  // GPUs first, the CPU host last: its change is the one the controller logs and watches.
  for (sg4::Host* h : gpu_hosts_of_node_[node]) on ? h->turn_on() : h->turn_off();
  sg4::Host* cpu = platform_.cpu_hosts[node];
  on ? cpu->turn_on() : cpu->turn_off();
}

void Controller::apply_availability(double up_to_s) {
  if (timeline_.next_state_time() > up_to_s) return;
  // Every change of the date in one simcall (each turn_on/turn_off inside runs in place): no
  // other actor runs between the hosts of a node or between nodes, as with SimGrid's profiles.
  simgrid::kernel::actor::simcall_answered([this, up_to_s] {
    while (const auto c = timeline_.next_change(up_to_s)) power_node(c->node, c->up);
  });
}

void Controller::start_availability_player() {
  sg4::Actor::init("availability", platform_.controller_host)
      ->set_stacksize(kWatcherStackBytes)
      ->start([this, alive = alive_]() {
        sg4::Actor::self()->daemonize();  // ends with the controller
        try {
          while (*alive != nullptr) {
            // Until the next event's date, or earlier when a replacement added events.
            const double t = timeline_.next_state_time();
            if (!std::isfinite(t))
              player_wakeup_->acquire();
            else if (t > now())
              (void)player_wakeup_->acquire_timeout(t - now());
            if (*alive == nullptr) return;
            // A timeout dated now + (t − now) may round just below t: the event at t applies then.
            apply_availability(std::isfinite(t) && t - now() <= kTimeEps ? std::max(t, now()) : now());
          }
        } catch (const std::exception&) {  // for collect(); the controller stops at its next wake-up
          if (*alive == nullptr) return;
          if (!error_) error_ = std::current_exception();
          wakeup_->release();
        }
      });
}

void Controller::on_state_change(const sg4::Host& host) {
  const auto it = node_of_cpu_.find(&host);
  if (it == node_of_cpu_.end()) return;
  const int n = it->second;
  const bool on = host.is_on();
  if (!on) heartbeat_dead_[n] = 1;
  ++state_version_;
  state_log_[n].emplace_back(now(), on);
  // Called inside SimGrid's turn_on/turn_off: never throws.
  record(Json{{"event", on ? "node_up" : "node_down"}, {"node", n}, {"in_job", in_job_[n] != 0}, {"cause", cause_at(n, !on)}});
}

}  // namespace frugal::engine::campaign_detail

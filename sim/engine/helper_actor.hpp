// Short-lived helper actors (detached sends, injected copies, batches of flows). SimGrid 3.32
// gives every actor an 8 MiB stack by default, mapped and unmapped at each creation, which at
// hundreds of thousands of helpers costs more than their simulation: helpers get a small stack
// (still with SimGrid's guard page), and a HelperPool reuses them.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/ConditionVariable.hpp>
#include <simgrid/s4u/Mutex.hpp>

namespace frugal::engine {

/// Stack of a helper actor, in KiB (the unit of Actor::set_stacksize in SimGrid 3.32, as of its
/// contexts/stack-size option). Helpers run shallow code.
inline constexpr unsigned kHelperStackKiB = 256;

/// Starts `code` in a new actor on `host` with a kHelperStackKiB stack.
template <class F>
simgrid::s4u::ActorPtr spawn_helper(const std::string& name, simgrid::s4u::Host* host, F&& code) {
  return simgrid::s4u::Actor::init(name, host)->set_stacksize(kHelperStackKiB)->start(std::forward<F>(code));
}

/// Helper actors on one host, reused: run() hands a job to an idle helper (it starts at the
/// same simulated date, in the next scheduling round) or starts a new helper; each helper runs
/// one job at a time, so no job waits behind another, and the pool holds as many helpers as jobs
/// ever ran at once. Idle helpers wait on a condition variable,
/// so close() must be called once no job will be submitted any more (else SimGrid sees them
/// blocked forever, a deadlock): idle helpers then end, busy ones after their job.
/// Use from actors only (run() and close() are simcalls), after the Engine exists.
class HelperPool {
 public:
  HelperPool(simgrid::s4u::Host* host, std::string name) : host_(host), name_(std::move(name)) {}
  HelperPool(const HelperPool&) = delete;
  HelperPool& operator=(const HelperPool&) = delete;

  void run(std::function<void()> job);
  void close();

 private:
  struct Helper {
    std::function<void()> job;  ///< empty while idle
    simgrid::s4u::ConditionVariablePtr wake;
  };
  void serve(Helper& helper);

  simgrid::s4u::Host* host_;
  std::string name_;
  simgrid::s4u::MutexPtr mutex_;
  std::deque<Helper> helpers_;   ///< stable addresses
  std::vector<Helper*> idle_;
  bool closed_ = false;
};

}  // namespace frugal::engine

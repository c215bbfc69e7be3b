// Helper actor pools (contract in helper_actor.hpp). Actors switch only at simcalls, so the
// plain fields are consistent between them.
#include "sim/engine/helper_actor.hpp"

namespace frugal::engine {

void HelperPool::run(std::function<void()> job) {
  if (!mutex_) mutex_ = simgrid::s4u::Mutex::create();
  if (idle_.empty()) {
    Helper& helper = helpers_.emplace_back();
    helper.job = std::move(job);
    helper.wake = simgrid::s4u::ConditionVariable::create();
    spawn_helper(name_, host_, [this, &helper]() { serve(helper); });
    return;
  }
  Helper* helper = idle_.back();
  idle_.pop_back();
  helper->job = std::move(job);
  mutex_->lock();
  helper->wake->notify_one();
  mutex_->unlock();
}

void HelperPool::close() {
  closed_ = true;
  if (idle_.empty()) return;
  mutex_->lock();
  for (Helper* helper : idle_) helper->wake->notify_one();
  mutex_->unlock();
  idle_.clear();
}

void HelperPool::serve(Helper& helper) {
  for (;;) {
    std::function<void()> job = std::move(helper.job);
    helper.job = nullptr;
    job();
    if (closed_) return;
    idle_.push_back(&helper);
    mutex_->lock();
    while (!helper.job && !closed_) helper.wake->wait(mutex_);
    mutex_->unlock();
    if (!helper.job) return;  // closed
  }
}

}  // namespace frugal::engine

// async: CheckFreq-style checkpointing (Mohan, Phanishayee, Chidambaram, "CheckFreq: Frequent,
// Fine-Grained DNN Checkpointing", FAST'21): a blocking snapshot of the state to host memory,
// then a background persist overlapping the next iterations. The frequency is chosen so that
// snapshot stalls cost at most overhead_budget of training time and a persist completes before
// the next snapshot starts: k = max(⌈snapshot / (budget·iteration)⌉, ⌈persist / iteration⌉, 1).
#include <algorithm>
#include <cmath>

#include "policies/resilience/policy_support.hpp"

namespace frugal::policies {
namespace {

class AsyncPolicy final : public CheckpointPolicy {
 public:
  explicit AsyncPolicy(const core::PluginParams& p)
      : every_(p.integer("every_iterations")),
        budget_(p.number("overhead_budget")),
        write_on_notice_(p.boolean("write_on_notice")),
        notice_safety_(p.number("notice_safety")) {}

  CheckpointAction on_iteration_end(const Progress& progress, const ClusterView&) override {
    using detail::num;
    if (progress.persist_in_flight) return CheckpointAction::none("async: previous persist still in flight");
    std::int64_t k = every_;
    std::string why;
    if (k > 0) {
      why = "async: every " + std::to_string(k) + " iterations";
    } else {
      if (progress.iteration_time_s <= 0) return CheckpointAction::none("async: first iteration not timed yet");
      if (progress.snapshot_s <= 0)
        return CheckpointAction::write_to(StorageLevel::kPersistent, true,
                                          "async: snapshot cost not measured yet: checkpoint now to measure it");
      const double it = progress.iteration_time_s;
      const double persist = progress.persist_s > 0 ? progress.persist_s : progress.checkpoint_s;
      const auto k_budget = static_cast<std::int64_t>(std::ceil(progress.snapshot_s / (budget_ * it)));
      const auto k_persist = static_cast<std::int64_t>(std::ceil(std::max(persist, 0.0) / it));
      k = std::max<std::int64_t>({k_budget, k_persist, 1});
      why = "async: k = max(⌈snapshot " + num(progress.snapshot_s) + " s / (" + num(budget_) + " × iteration " +
            num(it) + " s)⌉ = " + std::to_string(k_budget) + ", ⌈persist " + num(persist) + " s / iteration⌉ = " +
            std::to_string(k_persist) + ") = " + std::to_string(k) + " iterations";
    }
    const double tau = static_cast<double>(k) * progress.iteration_time_s;
    const std::int64_t since = progress.iterations_since(progress.persistent);
    if (since >= k)
      return CheckpointAction::write_to(StorageLevel::kPersistent, true,
                                        why + "; " + std::to_string(since) + " since the last: snapshot and persist", tau);
    return CheckpointAction::none(why + "; " + std::to_string(since) + " since the last", tau);
  }

  CheckpointAction on_preemption_notice(const Notice& notice, const Progress& progress) override {
    if (!write_on_notice_) return CheckpointAction::none("preemption notice ignored (write_on_notice false)");
    return decide_on_notice(notice, progress, notice_safety_);
  }

 private:
  std::int64_t every_;
  double budget_;
  bool write_on_notice_;
  double notice_safety_;
};

}  // namespace

core::PluginInfo async_checkpoint_info() {
  using core::ParamSpec;
  using core::ParamType;
  core::PluginInfo info{"async", "snapshot to host memory, persist in the background (CheckFreq, FAST'21)", {}};
  info.params = {
      ParamSpec{"every_iterations", ParamType::kInteger, {}, 0, 0, 1e15, {},
                "checkpoint every N iterations; 0: CheckFreq's rule from the measured costs"},
      ParamSpec{"overhead_budget", ParamType::kNumber, {}, 0.05, 1e-6, 1, {},
                "largest fraction of training time spent in snapshot stalls (automatic frequency)"},
  };
  for (auto& p : detail::notice_params(true)) info.params.push_back(std::move(p));
  return info;
}

std::unique_ptr<CheckpointPolicy> make_async_checkpoint(const core::PluginParams& params) {
  return std::make_unique<AsyncPolicy>(params);
}

}  // namespace frugal::policies

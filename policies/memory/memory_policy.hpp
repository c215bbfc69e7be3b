// Memory policies: how each layer keeps what its backward pass needs — store it, recompute it
// (selectively, the whole forward, or by a rematerialization schedule of the stage's layers) —
// and, as the IR grows locations, where it is kept.
// A policy is a pure function of plain data; it explains its decision in MemoryDecision::reason.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "policies/memory/offload_schedule.hpp"
#include "policies/memory/remat_schedule.hpp"
#include "policies/plan.hpp"
#include "sim/core/plugin.hpp"
#include "workloads/model_spec.hpp"

namespace frugal::policies {

/// What a memory policy sees: the model and training setup, and the parallel shape the layers
/// run under (tensor split, sequence parallelism; its recomputation fields are ignored).
struct MemoryView {
  const workloads::ModelSpec& model;
  const TrainingSetup& setup;
  workloads::ShardSpec shard;
};

/// What a schedule policy sees of one virtual stage (policies/memory/stage_schedules.hpp).
struct StageMemoryView {
  int virtual_stage = 0;
  /// The stage's chain layers for one micro-batch of its largest size: forward and backward
  /// times on the stage's slowest GPU, input and everything-the-backward-needs bytes.
  std::vector<ChainStage> stages;
  /// What one micro-batch's activations may store on the stage's tightest GPU: its memory (or
  /// the policy's memory_budget) less the resident state, over the micro-batches in flight.
  double budget_bytes = 0;
  /// The stage's GPUs' copy bandwidth to host memory (the least share of a node's host side)
  /// and the host bytes one micro-batch may keep there (host memory per GPU over the
  /// micro-batches in flight).
  HostLink host;
};

class MemoryPolicy {
 public:
  virtual ~MemoryPolicy() = default;
  /// Contract: returns one Recompute per transformer layer (model.num_hidden_layers entries)
  /// and a reason; `policy` is the implementation's name.
  virtual MemoryDecision decide(const MemoryView& view) const = 0;
  /// Schedule policies answer true: after the layout is planned, schedule() decides each
  /// virtual stage's rematerialization (decide() then keeps every layer's recompute none).
  virtual bool schedules_stages() const { return false; }
  /// The stage's schedule (remat_schedule.hpp rules); std::nullopt when none fits the budget.
  virtual std::optional<std::vector<RematOp>> schedule(const StageMemoryView&) const { return std::nullopt; }
  /// True when schedule() answers within view.budget_bytes (std::nullopt when nothing fits), so
  /// the planner may search budgets and fall back to the least-memory schedule; false when the
  /// schedule ignores the memory (what does not fit is an out-of-memory result).
  virtual bool budget_driven() const { return false; }
  /// Bytes a GPU of catalogue type `gpu` was asked to fit in ("what if only 24 GiB?"), 0 when
  /// none: a study caps the memory of each GPU of that type at it.
  virtual double memory_budget_bytes(const std::string& gpu) const { return 0; }
  /// The GPU types the policy names a budget of their own for (a study checks that its cluster
  /// has each; ParamError param: the parameter that names them).
  virtual std::vector<std::string> budgeted_gpu_types() const { return {}; }
};

/// A decision of policy `name`: `recompute` for every transformer layer of the model.
MemoryDecision same_for_every_layer(const MemoryView& view, workloads::Recompute recompute, std::string name,
                                    std::string reason);

/// The same recomputation for every transformer layer (the policies none, selective, full).
class UniformMemoryPolicy final : public MemoryPolicy {
 public:
  UniformMemoryPolicy(workloads::Recompute recompute, std::string name, std::string reason)
      : recompute_(recompute), name_(std::move(name)), reason_(std::move(reason)) {}
  MemoryDecision decide(const MemoryView& view) const override;

 private:
  workloads::Recompute recompute_;
  std::string name_, reason_;
};

/// The registered memory policies (explicit list in registry.cpp).
const core::Registry<MemoryPolicy>& memory_policies();

/// The policy of a study without a "memory" section: keep every activation ("none").
const MemoryPolicy& default_memory_policy();

}  // namespace frugal::policies

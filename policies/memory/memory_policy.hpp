// Memory policies: how each layer keeps what its backward pass needs — store it, recompute it
// (selectively or the whole forward) — and, as the IR grows locations, where it is kept.
// A policy is a pure function of plain data; it explains its decision in MemoryDecision::reason.
#pragma once

#include <memory>

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

class MemoryPolicy {
 public:
  virtual ~MemoryPolicy() = default;
  /// Contract: returns one Recompute per transformer layer (model.num_hidden_layers entries)
  /// and a reason; `policy` is the implementation's name.
  virtual MemoryDecision decide(const MemoryView& view) const = 0;
};

/// The same recomputation for every transformer layer.
MemoryDecision uniform_decision(const MemoryView& view, workloads::Recompute recompute, std::string policy,
                                std::string reason);

/// The registered memory policies (explicit list in registry.cpp).
const core::Registry<MemoryPolicy>& memory_policies();

/// The policy of a study without a "memory" section: keep every activation ("none").
const MemoryPolicy& default_memory_policy();

}  // namespace frugal::policies

// Parallelism policies: map a model onto a cluster (layout, placement, batch split).
// A policy is a pure function of plain data; it explains its decision in Plan::reason.
#pragma once

#include <memory>

#include "platforms/cluster_spec.hpp"
#include "policies/memory/memory_policy.hpp"
#include "policies/plan.hpp"
#include "sim/core/plugin.hpp"
#include "workloads/model_spec.hpp"

namespace frugal::policies {

class ParallelismPolicy {
 public:
  virtual ~ParallelismPolicy() = default;
  /// Contract: returns a plan (Plan::check() holds) whose ranks cover GPUs of `cluster` (each
  /// at most once) and whose per-rank micro-batches sum to setup.global_batch_size over the
  /// data-parallel replicas. It asks `memory` how layers keep their activations (under the
  /// plan's parallel shape) and records the decision in Plan::memory and Plan::shard, so that
  /// its own speed and memory estimates count the recomputation.
  /// Throws core::ConfigError("", "/parallelism/...", msg with the arithmetic) when the setup
  /// cannot be split as asked (e.g. batch not divisible); the caller fills in the file.
  virtual Plan plan(const workloads::ModelSpec& model, const platforms::Cluster& cluster, const TrainingSetup& setup,
                    const MemoryPolicy& memory) const = 0;
  /// Requirements on the cluster that make a study invalid rather than its layout infeasible (a
  /// memory tier the policy is told to use and the cluster lacks): throws core::ParamError at
  /// the parameter; the study reader locates it (exit code 2).
  virtual void check_cluster(const platforms::Cluster& cluster) const {}
  /// The same with default_memory_policy() (every activation stored).
  Plan plan(const workloads::ModelSpec& model, const platforms::Cluster& cluster, const TrainingSetup& setup) const {
    return plan(model, cluster, setup, default_memory_policy());
  }
};

/// The registered parallelism policies (explicit list in registry.cpp).
const core::Registry<ParallelismPolicy>& parallelism_policies();

}  // namespace frugal::policies

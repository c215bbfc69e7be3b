// Rematerialization schedules for a planned layout: per virtual stage, the view a schedule
// policy decides from (its layers' times and sizes, the memory left to its activations beside
// the resident state, per micro-batch in flight) and the policy's schedule, written into
// Plan::memory.
#pragma once

#include "platforms/cluster_spec.hpp"
#include "policies/memory/memory_policy.hpp"
#include "policies/plan.hpp"
#include "workloads/model_spec.hpp"

namespace frugal::policies {

/// For a schedule policy (MemoryPolicy::schedules_stages) fills plan.memory.schedules,
/// min_budget_bytes and the reason; does nothing for the other policies. `plan` is complete
/// (ranks, micro-batches, stage boundaries).
/// - A stage's layers are timed on the slowest GPU among its ranks, for the largest micro-batch.
/// - Its activations may use, over its ranks, the least of GPU memory − resident bytes. With k
///   micro-batches in flight (forwards whose backward has not run, in the pipeline schedule) the
///   k − 1 waiting ones hold what their forward kept and one runs at its schedule's peak
///   (interleaved schedules: the memory split evenly over the k).
/// - A budget-driven policy (MemoryPolicy::budget_driven) is asked at several per-micro-batch
///   budgets and the fastest schedule that fits so is kept; where none fits, the stage runs
///   least_memory_schedule (with micro-batches waiting in a pipeline, its last stage deferred):
///   the run is out of memory, and min_budget_bytes says how much memory per GPU that needs.
/// - Another policy's schedule is taken as it is; min_budget_bytes is what it needs.
/// Throws core::ParamError("impl", ...) for a stage longer than 4,096 layers.
void schedule_rematerialization(Plan& plan, const workloads::ModelSpec& model, const platforms::Cluster& cluster,
                                const TrainingSetup& setup, const MemoryPolicy& memory);

/// Micro-batches whose activations pipeline rank `stage` holds at once at most (forwards run
/// whose backward has not).
int micro_batches_in_flight(const Plan& plan, int stage, int micro_batches);

}  // namespace frugal::policies

// The layout search's screen: a closed-form estimate of one training iteration of a plan —
// time, peak memory per GPU, energy and cost — from the cost module alone (no lowering, no
// SimGrid), some microseconds per layout. It ranks layouts; the simulator decides.
#pragma once

#include "platforms/cluster_spec.hpp"
#include "policies/plan.hpp"
#include "workloads/model_spec.hpp"

namespace frugal::search {

struct Estimate {
  double iteration_time_s = 0;
  double tokens_per_s = 0;
  /// Largest over pipeline stages of the resident model state, the activations of the
  /// micro-batches the schedule keeps in flight, the largest layer's transient memory, ZeRO-3's
  /// gathered weights ((1 + prefetch_layers) × the largest layer's) and the reserved memory (the
  /// lowering's static check is exact; this is its closed form).
  double peak_memory_bytes = 0;
  bool fits = true;                ///< peak_memory_bytes ≤ the stage's GPU memory on every stage
  double energy_j_per_token = 0;   ///< Σ GPUs (idle power · T + (max − idle) · busy compute) / tokens
  double cost_per_token = 0;       ///< Σ GPUs billed price · T / tokens (0 without prices)
  double compute_s = 0;            ///< busiest rank's compute per iteration
  double exposed_communication_s = 0;  ///< what the estimate adds on top of the pipeline's compute
};

/// The estimate of `plan` (from a parallelism policy, recomputation decided; a rematerialization
/// schedule policy's schedules are not considered) for `model` on `cluster`:
/// - per micro-batch, a pipeline rank's time T_s = Σ its layers' cost::layer_seconds on the
///   stage's slowest GPU + the tensor-parallel all-reduces (4 per transformer layer of s·b·h
///   elements, 6 under full recomputation; none with tp_comm_overlap; with
///   Plan::splits_weight_gradients the backward's two exposed only beyond the layer's
///   column-parallel weight gradients, its output-gradient all-gathers under sequence parallelism
///   in full) + with context parallelism (c ≥ 2) each transformer layer's K/V all-gather (two
///   under full recomputation) and K/V gradient reduce-scatter over the context group, of
///   c · kv_bytes · b each, in full (the lowering exposes them) + the two activation transfers to its pipeline neighbours (1/t of them and an
///   all-gather over the tensor-parallel group under Plan::scatters_pipeline_tensors);
/// - pipeline: (m + (p − 1)/v) · max_s T_s with m micro-batches per replica; with
///   overlap_p2p_comm the m steady-state micro-batches pay their transfers only beyond their
///   compute (max(0, transfers − compute)), the fill's whole;
/// - data parallelism: the gradient all-reduce (ZeRO 2: reduce-scatter) of the rank's gradients,
///   exposed beyond one micro-batch's backward with overlap_grad_reduce, whole without; the
///   distributed optimizer's weight all-gather unless overlap_param_gather; ZeRO-3's per-layer
///   gathers exposed beyond the compute they overlap (all of them with prefetch_layers 0);
/// - the optimizer step streams the rank's model state through HBM once;
/// - on a GPU with overlap_slowdown s, each collective that runs beside the compute (the
///   overlapped tensor-parallel collectives but their last chunk, the gradient reduction's hidden
///   part, the overlapped parameter all-gather) adds s/(1 + s) of its time.
Estimate estimate_iteration(const policies::Plan& plan, const workloads::ModelSpec& model,
                            const platforms::Cluster& cluster, const policies::TrainingSetup& setup);

}  // namespace frugal::search

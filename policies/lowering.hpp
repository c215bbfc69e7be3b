// Lowering: Plan + layer chain → Program (per-rank ops of one iteration). The only place that
// decides op order, buffers and collectives, so the simulator and the real backend execute
// exactly what the policies decided.
#pragma once

#include "platforms/cluster_spec.hpp"
#include "policies/plan.hpp"
#include "sim/program/program.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal::policies {

/// Model-state bytes per parameter under mixed precision (ZeRO paper): weights and gradients in
/// the training precision, fp32 master weights + Adam m and v (12 B) when the training precision
/// is narrower than fp32, else Adam m and v only (8 B).
struct ModelStateBytes {
  double weights = 2, gradients = 2, optimizer = 12;
};
ModelStateBytes model_state_bytes(core::Precision precision);

/// Lowers a data-parallel plan (tensor_parallel == pipeline_parallel == 1). Per rank: resident
/// weights, gradients, optimizer state, workspace and reserve; per micro-batch the forward of
/// every layer (allocating its stored activations) then the backward in reverse (freeing them);
/// during the last micro-batch's backward, gradient buckets of `plan.bucket_bytes` are
/// all-reduced on the comm stream as soon as their layers are done; the optimizer step waits for
/// all buckets. Throws core::InternalError for plans with tensor or pipeline parallelism.
program::Program lower(const Plan& plan, const workloads::ModelSpec& model, const TrainingSetup& setup);

/// Scales a per-sample GEMM to `samples` sequences: attention GEMMs (batched over heads) grow
/// their batch, the others their row count.
program::Gemm scale_gemm(const workloads::GemmShape& g, std::int64_t samples);

}  // namespace frugal::policies

// Model-state memory per GPU under mixed-precision Adam and ZeRO sharding (Rajbhandari et al.,
// SC'20): 2Ψ weights + 2Ψ gradients + 12Ψ optimizer; stage 1 shards the optimizer state,
// stage 2 also the gradients, stage 3 also the weights, over the data-parallel degree N_d.
#pragma once

#include "sim/core/precision.hpp"

namespace frugal::policies {

/// Bytes per parameter: weights and gradients in the training precision, fp32 master weights +
/// Adam m and v (12 B) when the training precision is narrower than fp32, else m and v (8 B).
struct ModelStateBytes {
  double weights = 2, gradients = 2, optimizer = 12;
  double total() const { return weights + gradients + optimizer; }
};
ModelStateBytes model_state_bytes(core::Precision precision);

/// Resident model-state bytes on one GPU holding `parameters` (already divided by tensor and
/// pipeline parallelism) with ZeRO `zero_stage` (0–3) over `data_parallel` replicas.
struct ShardedModelState {
  double weights_bytes = 0, gradients_bytes = 0, optimizer_bytes = 0;
  double total_bytes() const { return weights_bytes + gradients_bytes + optimizer_bytes; }
};
ShardedModelState sharded_model_state(double parameters, core::Precision precision, int zero_stage, int data_parallel);

}  // namespace frugal::policies

// Model-state memory per GPU under mixed-precision Adam and ZeRO sharding, in the accounting of
// the framework being modelled:
// - "zero" (Rajbhandari et al., SC'20; DeepSpeed): 2Ψ weights + 2Ψ gradients + 12Ψ optimizer
//   (fp32 master weights, Adam m and v) in bf16/fp16; stage 1 shards the optimizer state, stage
//   2 also the gradients, stage 3 also the weights, over the data-parallel degree N_d.
// - "megatron" (Megatron-LM, docs/source/distrib_optimizer.md): gradients are accumulated and
//   reduced in fp32 main-gradient buffers. bf16: 2 + 4 + 12 = 18 B per parameter; fp16: 2Ψ fp16
//   gradients plus fp32 main weights, main gradients and Adam m, v = 2 + 2 + 16 = 20 B; fp32:
//   4 + 4 + 8 = 16 B. The distributed optimizer (zero_stage 1) shards the optimizer part:
//   6 + 12/d, 4 + 16/d and 8 + 8/d bytes, as in Megatron-LM's table.
// - "zero_16bit_optimizer" (NeMo's Apex DistributedFusedAdam with optim.dtype bf16 and its
//   default store_param_remainders): the zero accounting with the optimizer state in 16 bits,
//   Adam m and v in bf16 and the fp32 master weights kept as the bf16 weights plus their 16-bit
//   remainders: 2 + 2 + 6 B per parameter in bf16/fp16 (fp32 training: 4 + 4 + 4).
#pragma once

#include <string>
#include <vector>

#include "sim/core/precision.hpp"

namespace frugal::policies {

/// Whose accounting of model state (see the file comment).
enum class StateConvention { kZero, kMegatron, kZero16BitOptimizer };
std::string to_string(StateConvention convention);
/// "zero", "megatron" or "zero_16bit_optimizer"; throws std::invalid_argument otherwise.
StateConvention state_convention_from_string(const std::string& name);
std::vector<std::string> state_convention_names();

/// Bytes per parameter: weights in the training precision (bf16 for fp8: stored_bytes_per_element);
/// gradients as the framework keeps them (training precision for zero, fp32 main gradients for
/// megatron in bf16 and fp8); the
/// optimizer's state (fp32 master weights, Adam m and v, and megatron's fp32 main gradients in
/// fp16; 16-bit m, v and master-weight remainders for zero_16bit_optimizer). `gradients` is also
/// the element size of the data-parallel gradient reduction.
struct ModelStateBytes {
  double weights = 2, gradients = 2, optimizer = 12;
  double total() const { return weights + gradients + optimizer; }
};
ModelStateBytes model_state_bytes(core::Precision precision, StateConvention convention = StateConvention::kZero);

/// HBM bytes one mixed-precision Adam step moves on a GPU holding `parameters` with ZeRO
/// `zero_stage` over `data_parallel` replicas, as the frameworks run it (Megatron-LM's
/// MixedPrecisionOptimizer and distributed optimizer, DeepSpeed's ZeRO optimizers). Per parameter
/// it updates (its optimizer shard: parameters / data_parallel from stage 1): gradients kept below
/// fp32 copied into fp32 (read b.gradients, write 4); with fp16, the loss scale's unscale and inf
/// check (read and write 4); the gradient norm for clipping (read 4); Adam (read the fp32 weight,
/// gradient, m and v, write weight, m and v: 28); the updated fp32 weights copied into the
/// training precision (read 4, write b.weights; none in fp32 training, which updates the weights
/// themselves). Plus, per gradient it holds (parameters / data_parallel from stage 2), the gradient
/// buffer zeroed for the next iteration (b.gradients).
/// bf16 with megatron: 38 + 4 per parameter; fp16 with megatron: 52 + 2; fp32: 32 + 4. (A
/// zero_16bit_optimizer step is priced as the fp32 state's.)
double optimizer_step_bytes(core::Precision precision, const ModelStateBytes& b, double parameters, int zero_stage,
                            int data_parallel);

/// Resident model-state bytes on one GPU holding `parameters` (already divided by tensor and
/// pipeline parallelism) with ZeRO `zero_stage` (0–3) over `data_parallel` replicas.
struct ShardedModelState {
  double weights_bytes = 0, gradients_bytes = 0, optimizer_bytes = 0;
  double total_bytes() const { return weights_bytes + gradients_bytes + optimizer_bytes; }
};
ShardedModelState sharded_model_state(double parameters, const ModelStateBytes& bytes, int zero_stage, int data_parallel);

}  // namespace frugal::policies

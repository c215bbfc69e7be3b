// fp8 delayed scaling's amax reduction (Transformer Engine's DelayedScaling with reduce_amax, over
// the group Megatron-Core gives it): which ranks reduce together and how many bytes one model
// chunk's reduction carries. The lowering pass `fp8_scaling` emits it; the search estimate
// prices it.
#pragma once

#include <vector>

#include "policies/plan.hpp"

namespace frugal::policies {

/// The ranks `rank` reduces its amaxes with: its pipeline stage's tensor × data × context ranks
/// (AmaxReduction::kData) or tensor × context ranks (kTensor). Empty when the job is not fp8,
/// reduces nothing, or the group would hold `rank` alone.
std::vector<core::RankId> amax_reduction_group(const Plan& plan, const TrainingSetup& setup, core::RankId rank);

/// GEMMs of `layer` that run in fp8 (none outside transformer layers): each records amaxes.
int fp8_gemms(const workloads::Layer& layer);

/// Bytes of one chunk's amax all-reduce over `gemms` fp8 GEMMs: 4 B (fp32) per tensor, 3 tensors
/// per GEMM in the forward (input, weight, output), 2 in the backward (output and input gradients).
double amax_bytes(int gemms, bool forward);

}  // namespace frugal::policies

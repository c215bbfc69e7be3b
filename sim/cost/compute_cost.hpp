// Compute cost of one GPU, shared by the engine (the amount of each compute op's Exec) and the
// policies (per-layer time estimates for batch splits and pipeline partitions), so that a
// calibrated GPU is optimised against the speed it is simulated at. Pure functions; no SimGrid.
#pragma once

#include <cstdint>
#include <vector>

#include "platforms/gpu_catalogue.hpp"
#include "sim/cost/gemm_efficiency.hpp"
#include "sim/core/precision.hpp"
#include "sim/program/program.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal::cost {

/// Kernels compute op `c` pays a launch for: c.kernels, and at least one per GEMM it lists.
int launched_kernels(const program::Compute& c);

/// Exec amount (FLOP at `speed_flops_per_s` = effective_flops_per_s of the precision `precision`
/// runs as) whose duration is
///   Σ_gemm flops_g / (peak(p_g) · eff(g, p_g)) + (flops − Σ flops_g) / speed16
///   + memory_bytes / bw(memory_bytes) + launched_kernels(c) · gpu.kernel_launch_s,
/// p_g = the job's precision (runs_as), or its 16-bit precision (runs_as(bf16)) for a GEMM that
/// keeps_16bit in an fp8 job; speed16 = effective_flops_per_s of the 16-bit precision in an fp8
/// job, `speed` otherwise; eff = gemm_efficiency when the GPU prices_each_gemm (a calibrated table
/// or a shape model), matmul_efficiency_of(p_g) otherwise (then a job in one precision runs every
/// FLOP at `speed`); bw = gpu.memory_bandwidth_at (hbm_bandwidth without a calibrated table).
/// The engine runs compute ops as Execs of this amount.
double compute_exec_amount(const program::Compute& c, const platforms::GpuSpec& gpu, core::Precision precision,
                           double speed_flops_per_s);

/// Seconds of compute op `c` on `gpu` running `precision`: compute_exec_amount at
/// speed = gpu.effective_flops_per_s(gpu.runs_as(precision)), divided by that speed (what the
/// engine simulates for the op alone).
double compute_seconds(const program::Compute& c, const platforms::GpuSpec& gpu, core::Precision precision);

/// A layer GEMM (per sample) scaled to `samples` sequences: attention score/value GEMMs
/// ("attn_scores*", "attn_values*") repeat per sequence (batch × samples), every other GEMM
/// grows its m (m × samples). The lowering emits the GEMMs of its compute ops this way.
program::Gemm scale_gemm(const workloads::GemmShape& g, std::int64_t samples);

/// Backward GEMMs of a forward C = A·B [m×n×k], appended to `out`: dA = dC·Bᵀ [m×k×n] and
/// dB = Aᵀ·dC [k×n×m].
void add_backward_gemms(const program::Gemm& forward, std::vector<program::Gemm>& out);

/// The GEMMs of layer `l`'s forward and backward compute ops for `samples` sequences, appended:
/// its forward GEMMs scaled (scale_gemm); the two gradient GEMMs of each, then the GEMMs the
/// backward kernel replays (Layer::backward_replayed_gemms), scaled. The lowering and
/// layer_seconds both take a layer's GEMMs from here.
void layer_gemms(const workloads::Layer& l, std::int64_t samples, std::vector<program::Gemm>& forward,
                 std::vector<program::Gemm>& backward);

/// Layer `l`'s forward and backward ops for `samples` sequences, as the lowering emits them, with
/// the GEMMs layer_gemms gives for that many samples (`gemms`):
/// {phase (kRecompute for a replayed forward), forward_flops·b, forward_memory_bytes·b, gemms, forward_kernels},
/// {kBackward, backward_flops·b, backward_memory_bytes·b, gemms, backward_kernels}.
program::Compute forward_op(const workloads::Layer& l, std::int64_t samples, std::vector<program::Gemm> gemms,
                            program::Phase phase = program::Phase::kForward);
program::Compute backward_op(const workloads::Layer& l, std::int64_t samples, std::vector<program::Gemm> gemms);
/// The backward op with its GEMMs computed (layer_gemms).
program::Compute backward_op(const workloads::Layer& l, std::int64_t samples);

/// A backward split for Megatron's asynchronous tensor-parallel backward
/// (LinearWithGradAccumulationAndAsyncCommunication): `weight_gradients` holds the weight-gradient
/// GEMMs of the column-parallel weights (GemmShape::column_parallel; one kernel each), which run
/// while the reduction of those weights' input gradients is in flight; `rest` everything else.
/// Contract: rest + weight_gradients = `backward` (FLOPs, GEMMs, memory bytes, kernels), so
/// compute_seconds of the two adds up to the whole backward's on every GPU;
/// weight_gradients is empty when the layer has no column-parallel weight.
struct BackwardSplit {
  program::Compute rest, weight_gradients;
};
BackwardSplit split_weight_gradients(const workloads::Layer& l, program::Compute backward);

/// The compute op of layer `l`'s recomputation for `samples` sequences, as the lowering emits it:
/// {kRecompute, recompute_flops·b, recompute_memory_bytes·b, recompute_gemms scaled, recompute_kernels}.
program::Compute recompute_op(const workloads::Layer& l, std::int64_t samples);

/// Whether an op's cost on `gpu` in `precision` depends on its GEMMs' shapes or its size beyond
/// FLOPs and bytes: prices_each_gemm, a calibrated memory bandwidth by size, or an fp8 job (whose
/// attention and logits GEMMs run in 16 bits).
bool prices_each_op(const platforms::GpuSpec& gpu, core::Precision precision);

/// Fixed cost of layer `l`'s kernels per micro-batch: (forward + backward + recompute kernels,
/// the last only when it recomputes) × gpu.kernel_launch_s.
double layer_launch_s(const workloads::Layer& l, const platforms::GpuSpec& gpu);

/// Seconds layer `l` takes on `gpu` for one micro-batch of `samples` sequences: forward,
/// recompute (when the chain's recompute_flops > 0) and backward.
/// - GPU that prices_each_op in `precision`: the sum of compute_seconds of the three compute ops the
///   lowering emits for the layer: forward {F·b, fm·b, forward GEMMs scaled to b}, recompute
///   (recompute_op), backward {B·b, bm·b, backward GEMMs of layer_gemms}
///   (F, B, R the layer's forward, backward, recompute FLOPs; fm, bm, rm its forward, backward
///   and recompute memory bytes; b = samples), i.e. what the engine simulates for them.
/// - otherwise the closed form b·[(F + B + R)/(peak · matmul_efficiency) + (fm + bm + rm)/hbm_bandwidth]
///   + layer_launch_s.
/// The compute ops carry the layer's kernel counts (forward_kernels, ...) in both cases.
double layer_seconds(const workloads::Layer& l, std::int64_t samples, const platforms::GpuSpec& gpu,
                     core::Precision precision);

/// compute_seconds of the forward and of the backward op the lowering emits for layer `l` and
/// one micro-batch of `samples` sequences (recomputation aside): what a rematerialization
/// schedule pays per forward (and per replay) and per backward.
struct LayerPassSeconds {
  double forward_s = 0, backward_s = 0;
};
LayerPassSeconds layer_pass_seconds(const workloads::Layer& l, std::int64_t samples, const platforms::GpuSpec& gpu,
                                    core::Precision precision);

/// Seconds per sample of layer `l` run in micro-batches of `micro_batch` sequences:
/// layer_seconds(l, micro_batch, ...) / micro_batch on a GPU that prices_each_op in `precision` (its GEMMs are
/// as large as the micro-batch makes them), the per-sample closed form above plus
/// layer_launch_s / micro_batch otherwise.
double layer_seconds_per_sample(const workloads::Layer& l, std::int64_t micro_batch, const platforms::GpuSpec& gpu,
                                core::Precision precision);

/// Seconds per sample of the whole chain (forward, recompute, backward of every layer) run in
/// micro-batches of `micro_batch`: Σ_l layer_seconds(l, micro_batch, ...) / micro_batch on a
/// GPU that prices_each_op in `precision`; otherwise Σ(F + B + R)/(peak · matmul_efficiency) + Σ(fm + bm + rm)/hbm_bandwidth
/// + Σ layer_launch_s / micro_batch (sums over the layers first, as the data-parallel batch split
/// always computed it).
double chain_seconds_per_sample(const workloads::LayerChain& chain, std::int64_t micro_batch,
                                const platforms::GpuSpec& gpu, core::Precision precision);

}  // namespace frugal::cost

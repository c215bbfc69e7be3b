// Cost model of a transformer as a chain of layers: FLOPs, bytes and GEMM shapes per layer,
// per sample (one sequence). Every cost is linear in the micro-batch size, so a micro-batch of
// b sequences costs b times the per-sample figures.
// Formulas: Narayanan et al. SC'21 eq. 3 (FLOPs), Korthikanti et al. 2022 Table 2 (activations),
// Dao 2023 (FlashAttention-2: fused attention, causal block skipping, backward recomputation).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/precision.hpp"
#include "workloads/model_spec.hpp"

namespace frugal::workloads {

/// One matrix multiplication C[m×n] = A[m×k]·B[k×n], repeated `batch` times (attention heads).
struct GemmShape {
  std::string name;  ///< e.g. "qkv", "attn_scores", "mlp_up"
  std::int64_t m = 0, n = 0, k = 0;
  std::int64_t batch = 1;
  /// A column-parallel weight (QKV, MLP up and gate): its input is replicated over the
  /// tensor-parallel group, so the backward reduces its input gradient over the group (all-reduce,
  /// or reduce-scatter with sequence parallelism) while its weight gradient can be computed.
  bool column_parallel = false;
  /// Stays in 16 bits in an fp8 job (program::Gemm::keeps_16bit): the attention core's GEMMs and
  /// the logits.
  bool keeps_16bit = false;
  double flops() const { return 2.0 * static_cast<double>(m) * n * k * batch; }
  bool operator==(const GemmShape&) const = default;
};

enum class LayerKind { kEmbedding, kTransformer, kHead };

/// How activations are kept for the backward pass.
enum class Recompute {
  kNone,       ///< store everything the backward needs
  kSelective,  ///< recompute attention scores/softmax (drops the 5·a·s²·b term)
  kFull,       ///< keep only the layer input (2·s·b·h bytes) and recompute the forward
};

/// How a transformer layer computes softmax(QKᵀ)·V.
enum class AttentionKernel {
  /// Separate GEMMs, softmax and dropout kernels (Korthikanti's analysis): the (a/t)·s² score,
  /// softmax and dropout tensors are written to HBM, stored for the backward and counted in full
  /// (the causal mask does not skip work).
  kNaive,
  /// One fused kernel (FlashAttention-2): scores never leave on-chip memory, so no s² tensor is
  /// stored or streamed; the kernel keeps only its output and the fp32 log-sum-exp per query and
  /// head, skips the blocks the causal mask hides (half the score and value FLOPs), and its
  /// backward recomputes QKᵀ (one more score GEMM).
  kFlash,
};

std::string to_string(AttentionKernel k);  ///< "naive", "flash"

/// Parallel shape of a layer's execution, which changes per-GPU costs.
struct ShardSpec {
  std::int64_t tensor_parallel = 1;  ///< t: attention heads and MLP columns split over t GPUs
  bool sequence_parallel = false;    ///< norms/dropouts split over t as well (Korthikanti)
  Recompute recompute = Recompute::kNone;  ///< every transformer layer, unless per_layer says
  /// When not empty: transformer layer i (0 ≤ i < num_hidden_layers) uses per_layer[i]; the size
  /// must be num_hidden_layers (build_layer_chain throws std::invalid_argument otherwise).
  std::vector<Recompute> per_layer;
  /// c: the sequence split over c GPUs (context parallelism): each holds s/c tokens of every
  /// tensor and attends with its queries to the keys and values of all s tokens (gathered).
  std::int64_t context_parallel = 1;
  /// Attention kernel of every transformer layer. Naive here so that a bare chain keeps
  /// Korthikanti's closed forms; a Plan states the kernel its TrainingSetup chose.
  AttentionKernel attention = AttentionKernel::kNaive;
  Recompute recompute_of(std::int64_t layer) const {
    return per_layer.empty() ? recompute : per_layer[static_cast<std::size_t>(layer)];
  }
};

std::string to_string(Recompute r);  ///< "none", "selective", "full"

/// Per-sample, per-GPU costs of one layer under a ShardSpec.
struct Layer {
  std::string name;  ///< "embedding", "layer_0", ..., "head"
  LayerKind kind = LayerKind::kTransformer;
  double forward_flops = 0;     ///< dense GEMM FLOPs of the forward pass
  double backward_flops = 0;    ///< 2× forward (input and weight gradients) + backward_replayed_gemms
  Recompute recompute = Recompute::kNone;  ///< how the backward gets this layer's activations
  double recompute_flops = 0;   ///< extra forward FLOPs the backward pays under `recompute`
  double forward_memory_bytes = 0;   ///< HBM traffic of memory-bound ops (norms, softmax, ...)
  double backward_memory_bytes = 0;  ///< same for the backward (its own work only)
  double recompute_memory_bytes = 0; ///< same for what `recompute` replays (the recompute op's)
  double parameters = 0;        ///< parameter count held by this GPU (after tensor split)
  double activation_bytes = 0;  ///< stored for backward, per sample, under `recompute`
  double transient_bytes = 0;   ///< peak temporary memory while the layer runs, per sample
  double output_bytes = 0;      ///< bytes of the layer's output (s·h elements), per sample
  /// What the layer keeps when it keeps only its input, per sample: the transformer layer's input
  /// (its activation_bytes under full recomputation), the head's final-norm input, the
  /// embedding's token ids and dropout mask (all it stores).
  double input_bytes = 0;
  double kv_bytes = 0;          ///< keys and values of the tokens this GPU holds, per sample (attention only)
  std::vector<GemmShape> forward_gemms;  ///< per sample (m = sequence length)
  /// Forward GEMMs the backward kernel replays inside itself, per sample, on top of the two
  /// gradient GEMMs of every forward GEMM (FlashAttention's QKᵀ; empty otherwise). Their FLOPs
  /// are in backward_flops.
  std::vector<GemmShape> backward_replayed_gemms;
  /// Forward GEMMs the recomputation replays, per sample (full: every forward GEMM; selective
  /// with the naive kernel: the scores and values GEMMs; empty otherwise). Their FLOPs are in
  /// recompute_flops.
  std::vector<GemmShape> recompute_gemms;
  /// Kernels the layer's forward, backward and recomputation launch (each pays the GPU's
  /// kernel_launch_s; counts in layer_chain.cpp, independent of the micro-batch).
  int forward_kernels = 0;
  int backward_kernels = 0;
  int recompute_kernels = 0;
};

struct LayerChain {
  std::vector<Layer> layers;  ///< embedding, L transformer layers, head
  std::int64_t sequence_length = 0;
  core::Precision precision = core::Precision::kBf16;
  ShardSpec shard;

  double forward_flops() const;     ///< per sample, whole chain
  double backward_flops() const;
  double parameters() const;        ///< per GPU
  double recompute_flops() const;   ///< per sample, whole chain, under `shard.recompute`
  double activation_bytes() const;  ///< per sample, whole chain, under `shard.recompute`
};

/// Builds the chain for sequences of `sequence_length` tokens.
/// Throws std::invalid_argument when the shape is impossible (heads not divisible by t, ...).
LayerChain build_layer_chain(const ModelSpec& model, std::int64_t sequence_length,
                             core::Precision precision, const ShardSpec& shard = {});

/// Total parameter count of the model (no sharding).
double parameter_count(const ModelSpec& model);

/// Model FLOPs of one training iteration over `samples` sequences (no recomputation, full
/// attention whatever the kernel skips): the MFU numerator. Equals Narayanan's 72·B·s·L·h²(1 + s/(6h) + V/(12hL)) for GPT shapes.
double model_flops_per_iteration(const ModelSpec& model, std::int64_t sequence_length, double samples);

}  // namespace frugal::workloads

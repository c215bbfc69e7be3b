// Cost model of a transformer as a chain of layers: FLOPs, bytes and GEMM shapes per layer,
// per sample (one sequence). Every cost is linear in the micro-batch size, so a micro-batch of
// b sequences costs b times the per-sample figures.
// Formulas: Narayanan et al. SC'21 eq. 3 (FLOPs), Korthikanti et al. 2022 Table 2 (activations).
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
  double backward_flops = 0;    ///< 2× forward (input and weight gradients)
  Recompute recompute = Recompute::kNone;  ///< how the backward gets this layer's activations
  double recompute_flops = 0;   ///< extra forward FLOPs the backward pays under `recompute`
  double forward_memory_bytes = 0;   ///< HBM traffic of memory-bound ops (norms, softmax, ...)
  double backward_memory_bytes = 0;  ///< same for the backward, including what `recompute` replays
  double parameters = 0;        ///< parameter count held by this GPU (after tensor split)
  double activation_bytes = 0;  ///< stored for backward, per sample, under `recompute`
  double transient_bytes = 0;   ///< peak temporary memory while the layer runs, per sample
  double output_bytes = 0;      ///< bytes of the layer's output (s·h elements), per sample
  double kv_bytes = 0;          ///< keys and values of the tokens this GPU holds, per sample (attention only)
  std::vector<GemmShape> forward_gemms;  ///< per sample (m = sequence length)
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

/// Model FLOPs of one training iteration over `samples` sequences (no recomputation): the MFU
/// numerator. Equals Narayanan's 72·B·s·L·h²(1 + s/(6h) + V/(12hL)) for GPT shapes.
double model_flops_per_iteration(const ModelSpec& model, std::int64_t sequence_length, double samples);

}  // namespace frugal::workloads

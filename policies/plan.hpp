// A Plan: what the policies decided for a training run — the rank grid (layout), placement of
// ranks on GPUs, per-rank micro-batches, stages, memory decisions and collective choices —
// before lowering to a Program. Pure data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/ids.hpp"
#include "sim/core/json_reader.hpp"
#include "sim/core/precision.hpp"
#include "sim/program/program.hpp"
#include "policies/layout.hpp"
#include "policies/memory/remat_schedule.hpp"
#include "policies/model_state.hpp"
#include "policies/schedule.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal::policies {

/// Which ranks an fp8 job reduces its delayed-scaling amaxes over (Transformer Engine's
/// DelayedScaling with reduce_amax, over the group Megatron-Core's get_amax_reduction_group gives
/// it): kData, the pipeline stage's tensor × data × context ranks (the default); kTensor, its
/// tensor × context ranks (tp_only_amax_red); kNone, no reduction (each rank scales alone).
enum class AmaxReduction { kData, kTensor, kNone };
const std::vector<std::string>& amax_reduction_names();  ///< "data", "tensor", "none", in enum order
std::string to_string(AmaxReduction a);
AmaxReduction parse_amax_reduction(const std::string& name);  ///< std::invalid_argument if unknown

/// What the study asks for, independent of policy.
struct TrainingSetup {
  std::int64_t global_batch_size = 0;  ///< sequences per iteration (B)
  std::int64_t micro_batch_size = 1;   ///< sequences per micro-batch (b)
  std::int64_t seq_length = 0;         ///< tokens per sequence (s)
  core::Precision precision = core::Precision::kBf16;
  double reserved_memory_bytes = 0;    ///< per GPU: CUDA context, allocator slack, framework
  /// Attention kernel of every transformer layer (a study resolves its "auto" with
  /// platforms::GpuSpec::runs_fused_attention); policies copy it into Plan::shard.
  workloads::AttentionKernel attention = workloads::AttentionKernel::kNaive;
  /// fp8 only: the group of the blocking amax all-reduce after each model chunk's forward and
  /// backward of a micro-batch (lowering pass `fp8_scaling`).
  AmaxReduction fp8_amax_reduction = AmaxReduction::kData;
};

/// One rank: where it runs and which micro-batches it processes. Its coordinates on the
/// parallel dimensions are Plan::layout.coord(rank).
struct RankPlan {
  core::RankId rank;
  int gpu = 0;                     ///< global GPU index (node-major)
  std::vector<std::int64_t> micro_batches;  ///< sizes (sequences) of this rank's micro-batches
  std::int64_t samples() const;
};

/// How the activations of each layer are kept for the backward pass (a memory policy's
/// decision, policies/memory/memory_policy.hpp).
struct MemoryDecision {
  std::string policy = "none";  ///< implementation that made it
  std::string reason;
  /// Per transformer layer (index i = layer_i of the chain); empty: none recomputed.
  std::vector<workloads::Recompute> recompute;
  /// Per transformer layer: its stored activations go to host memory after its forward and come
  /// back before its backward (lowering pass `offload`). Empty: none offloaded.
  std::vector<bool> offload;
  /// Schedule policies (every_k, optimal): per virtual stage i (chunk × p + pipeline rank), the
  /// rematerialization schedule of its chain layers, the same for each of its micro-batches
  /// (schedule stage k = chain layer stage_first_layer[i] + k; remat_schedule.hpp); `recompute`
  /// is then all none. Empty: the per-layer recomputation above.
  std::vector<std::vector<RematOp>> schedules;
  /// Per GPU, the least memory the policy's schedules run in: the resident state plus the
  /// activations of the least-memory schedules (a budget-driven policy) or of its own schedules
  /// (another), for the micro-batches in flight (0 without schedules).
  double min_budget_bytes = 0;
};

/// The most layers ahead ZeRO-3 may prefetch (Plan::prefetch_layers).
inline constexpr int kMaxPrefetchLayers = 64;

/// What the policies decided, typed, handed from planning to lowering, the simulator's
/// summaries and the campaign. Invariants (checked by check()): ranks.size() == layout.world(),
/// ranks[i].rank == i, stage_first_layer.size() == pipeline stages × virtual_pipeline.
struct Plan {
  std::string policy;   ///< implementation that made it
  std::string reason;   ///< human-readable why (e.g. the split and the speeds behind it)
  Layout layout;        ///< the rank grid: sizes of every parallel dimension and rank order
  int virtual_pipeline = 1;             ///< model chunks per pipeline rank (interleaving)
  PipelineSchedule schedule = PipelineSchedule::kOneFOneB;
  int zero_stage = 0;                   ///< ZeRO stage over the data-parallel group (0–3)
  /// Whose accounting of model state (model_state.hpp): bytes per parameter of weights,
  /// gradients (and their reduction) and optimizer state.
  StateConvention state_convention = StateConvention::kZero;
  workloads::ShardSpec shard;           ///< tensor split, sequence parallelism, recomputation
  MemoryDecision memory;                ///< how activations are kept (also in shard.per_layer)
  std::vector<RankPlan> ranks;          ///< indexed by rank
  /// Virtual stage i (i = chunk × p + pipeline rank) holds layers [first[i], first[i+1]) of
  /// the layer chain (embedding = 0, transformer layers, head = last); size p × v.
  std::vector<int> stage_first_layer;
  double bucket_bytes = 25.0 * 1024 * 1024;  ///< gradient all-reduce bucket size
  /// Gradient buckets are reduced during the last micro-batch's backward, each as soon as it is
  /// full (true); or in one collective of all the gradients after the whole backward (false).
  bool overlap_grad_reduce = true;
  /// ZeRO 1–2: the updated weights are all-gathered layer by layer at the start of the next
  /// iteration, each layer's first forward waiting for its own (true); or all at once after the
  /// optimizer step (false).
  bool overlap_param_gather = false;
  /// ZeRO-3: the layers ahead of the compute a weight all-gather (and an offloaded shard's copy
  /// up) may run: the gather of a layer waits for the compute op prefetch_layers + 1 before its
  /// own (0: for the one just before, so nothing overlaps; FSDP's backward/forward prefetch is 1,
  /// DeepSpeed's prefetch bucket several). The gathered weights of that many layers stay on the
  /// device beside the current one's: a window of prefetch_layers × the largest layer.
  int prefetch_layers = 1;
  /// Tensor-parallel all-gathers and reduce-scatters (sequence parallelism) run during the
  /// layer's compute instead of after it, on the tensor-parallel communicator's stream
  /// (Transformer Engine's userbuffers, Megatron-Core's --tp-comm-overlap); the layer's
  /// successors wait for both.
  bool tp_comm_overlap = false;
  /// Megatron-LM's asynchronous tensor-parallel backward (--async-tensor-model-parallel-allreduce,
  /// on by default since 2022; unconditional with sequence parallelism and in Megatron-Core): each
  /// column-parallel weight's input-gradient all-reduce (reduce-scatter with sequence parallelism)
  /// runs on the tensor-parallel stream while its weight gradient is computed. False: the 2021
  /// code, where the backward's collectives follow its compute. Ignored with tp_comm_overlap,
  /// which overlaps more.
  bool async_tensor_model_parallel_allreduce = true;
  /// Megatron-LM's scatter/gather optimization of pipeline transfers (SC'21 §4.1,
  /// --no-scatter-gather-tensors-in-pipeline turns it off): a boundary tensor every
  /// tensor-parallel rank holds whole goes as t slices over t NICs, all-gathered on arrival.
  bool scatter_gather_tensors_in_pipeline = true;
  /// Megatron-Core's overlap_p2p_comm (interleaved schedule only, v ≥ 2; false otherwise): a
  /// unit's receive is posted once the previous unit of the same direction has computed (the
  /// first backward's, once the last warm-up forward has), so the transfer overlaps the unit in
  /// between; false: each receive is made when the unit that needs it starts.
  bool overlap_p2p_comm = false;
  /// Where the optimizer state of the rank's partition lives. kHost (ZeRO-Offload): after the
  /// gradient reduction its gradients go device → host, the Adam step runs on the node's CPU and
  /// the updated weights come back host → device; kNvme (ZeRO-Infinity): the same, the state
  /// read from the node's NVMe into host memory before the step and written back after it
  /// (lowering pass `optimizer`).
  program::Location optimizer_state = program::Location::kDevice;
  /// Where the weight shard of a ZeRO-3 rank lives between its uses (ZeRO-Infinity's parameter
  /// offload). Off the device: before each layer's all-gather (its compute when the rank has no
  /// replicas) its shard is copied up, one layer ahead of the compute on the copy stream (from the
  /// NVMe through a host buffer for kNvme), and freed after; the updated shard goes back down after
  /// the optimizer step, unless the CPU step updated it in host memory (lowering passes `zero`,
  /// `optimizer`).
  program::Location parameter_state = program::Location::kDevice;
  program::CollectiveAlgorithm gradient_algorithm = program::CollectiveAlgorithm::kRing;

  int tensor_parallel() const { return layout.size(Dim::kTensor); }
  int pipeline_parallel() const { return layout.size(Dim::kPipeline); }
  /// Whether pipeline transfers go as t slices (scatter_gather_tensors_in_pipeline, t ≥ 2, no
  /// sequence parallelism, whose boundary tensors are already split).
  bool scatters_pipeline_tensors() const {
    return scatter_gather_tensors_in_pipeline && tensor_parallel() >= 2 && !shard.sequence_parallel;
  }
  /// Whether layer `l`'s backward runs its column-parallel weight gradients as an op of their own
  /// beside the tensor-parallel collectives (async_tensor_model_parallel_allreduce, t ≥ 2, a
  /// transformer layer, no tp_comm_overlap).
  bool splits_weight_gradients(const workloads::Layer& l) const {
    return async_tensor_model_parallel_allreduce && !tp_comm_overlap && tensor_parallel() >= 2 &&
           l.kind == workloads::LayerKind::kTransformer;
  }
  int data_parallel() const { return layout.size(Dim::kData); }
  int context_parallel() const { return layout.size(Dim::kContext); }
  /// Ranks holding the same parameters (data × context parallel): the group that reduces
  /// gradients and over which ZeRO shards.
  int gradient_replicas() const { return data_parallel() * context_parallel(); }
  Coord coord(core::RankId rank) const { return layout.coord(rank); }
  int stage_of(core::RankId rank) const { return layout.coord(rank)[Dim::kPipeline]; }

  /// Classes of ranks that lower to the same ops up to the renaming of groups and peers (same
  /// pipeline rank and the same micro-batches: tensor-, context- and expert-parallel peers and
  /// data-parallel replicas with equal shares). Each class lists its ranks ascending; classes
  /// are ordered by their first rank. Where they run (GPU type, topology) is not considered.
  std::vector<std::vector<core::RankId>> rank_classes() const;

  /// Throws core::InternalError naming the first broken invariant.
  void check() const;

  core::Json to_json() const;
};

}  // namespace frugal::policies

// Tensor-parallel pass (Megatron-LM): after each transformer layer's compute, its attention and
// MLP blocks each end in an all-reduce of the s·b·h activation (or, with sequence parallelism,
// an all-gather before and a reduce-scatter after: the same bytes in the nccl-tests
// convention). The next compute op and the next send wait for the last of them. Under full
// recomputation the replayed forward runs them again before the layer's backward, and so does
// every forward a rematerialization schedule replays.
// With Plan::tp_comm_overlap (sequence parallelism) they start with the compute op instead of
// after it, on the tensor-parallel stream, and its successors wait for both: the layer pays
// max(compute, communication) and the chunks that cannot overlap. Transformer Engine pipelines
// the gathers and reduce-scatters chunk by chunk (one chunk per tensor-parallel rank) with the
// GEMMs that consume and produce them: a gather's first chunk is the rank's own shard (nothing
// to wait for), but a reduce-scatter's last chunk leaves after the GEMM that produced it, so
// each reduce-scatter's last 1/t runs after the compute ("tp reducescatter tail"). The SMs the
// communication kernels take are not charged. Its buffers: 8 of s·b·h elements, held for the
// whole run.
// With Plan::async_tensor_model_parallel_allreduce (Megatron's asynchronous backward; the
// lowering then splits the backward, Plan::splits_weight_gradients) a layer's backward runs the
// input-gradient reductions of its column-parallel weights (QKV, MLP up and gate) beside their
// weight gradients: the two all-reduces (with sequence parallelism the two reduce-scatters) start
// after the rest of the backward, with the weight-gradient op, and the layer's successors wait for
// both. With sequence parallelism the output gradients' all-gathers (the backward of the
// row-parallel layers' reduce-scatters) are needed by the backward itself: they run before it,
// exposed.
// Sequence parallelism keeps each column-parallel layer's input (the layer norms' outputs) as the
// rank's sequence shard, as the memory model counts it (Korthikanti et al.), so a backward
// all-gathers it again for the weight gradient: two more all-gathers of s·b·h per layer. Megatron
// starts them with the backward and overlaps them with the input-gradient GEMMs (split backward:
// after the output-gradient gathers, beside the rest of the backward; the weight-gradient op waits
// for them); Transformer Engine bulk-overlaps them with the same GEMMs (tp_comm_overlap: in the
// backward's overlapped chain). Without either, they follow the backward with its collectives.
#include <algorithm>

#include "policies/lowering/pass.hpp"

namespace frugal::policies::lowering {
namespace {

using program::CollectiveAlgorithm;
using program::CollectiveKind;
using program::OpId;

class TensorParallelPass final : public LoweringPass {
 public:
  std::string name() const override { return "tensor_parallel"; }

  /// Full recomputation replays the layer's forward, tensor-parallel collectives included
  /// (Megatron's checkpointed forward runs the same code): after the recompute op (the memory
  /// pass emits it first), before the layer's backward.
  void begin_rank(RankContext& ctx) override {
    if (!ctx.plan.tp_comm_overlap || ctx.plan.tensor_parallel() < 2) return;
    const auto& mbs = ctx.rank().micro_batches;
    const double largest_mb = mbs.empty() ? 0.0 : static_cast<double>(*std::max_element(mbs.begin(), mbs.end()));
    ctx.program().resident.push_back(program::Memory{program::MemoryTag::kWorkspace, "tp_comm_overlap buffers",
                                                     kOverlapBuffers * activation_bytes(ctx, largest_mb)});
  }

  void before_layer(RankContext& ctx, const LayerStep& step, std::vector<OpId>& compute_deps) override {
    if (!applies(ctx, step) || step.unit.unit.forward) return;
    if (step.replays_full_forward())
      compute_deps.push_back(block_collectives(ctx, step, ctx.last_compute, "recompute", kForwardParts));
    if (step.runs_backward() && ctx.plan.splits_weight_gradients(step.layer) && ctx.plan.shard.sequence_parallel) {
      const OpId gathers = output_gradient_gathers(ctx, step, compute_deps);
      compute_deps.push_back(gathers);
      ctx.weight_gradient_deps.push_back(chain(ctx, step, "bwd", {gathers}, kRegather));
    }
  }

  void after_layer(RankContext& ctx, const LayerStep& step, OpId compute) override {
    if (!applies(ctx, step)) return;
    const bool split = step.runs_backward() && ctx.plan.splits_weight_gradients(step.layer);
    const std::string_view phase = step.replay ? "recompute" : step.unit.unit.forward ? "fwd" : "bwd";
    const OpId last = split ? input_gradient_reductions(ctx, step, compute)
                            : block_collectives(ctx, step, compute, phase,
                                                step.runs_backward() ? kBackwardParts : kForwardParts);
    ctx.pending.assign(1, last);
    if (ctx.plan.tp_comm_overlap || split) ctx.pending.push_back(compute);
  }

 private:
  /// Transformer Engine's userbuffers with its default overlapped GEMMs: the QKV, projection,
  /// FC1 and FC2 forwards and their input-gradient GEMMs, each a [s·b, h] buffer.
  static constexpr double kOverlapBuffers = 8;

  static bool applies(const RankContext& ctx, const LayerStep& step) {
    return ctx.plan.tensor_parallel() >= 2 && step.layer.kind == workloads::LayerKind::kTransformer;
  }

  /// One s·b·h activation of `samples` sequences in the training precision.
  static double activation_bytes(const RankContext& ctx, double samples) {
    return ctx.tokens_per_sample() * static_cast<double>(ctx.hidden_size) * core::stored_bytes_per_element(ctx.setup.precision) *
           samples;
  }

  /// "<layer> <phase> <micro-batch>", the collectives' names.
  static std::string label(const LayerStep& step, std::string_view phase) {
    return join({step.layer.name, " ", phase, " ", step.unit.mb});
  }

  /// The ops `op` waits for.
  static std::vector<OpId> deps_of(RankContext& ctx, OpId op) {
    return ctx.program().ops.at(static_cast<std::size_t>(op.value)).deps;
  }

  /// Which collectives of a block a chain runs (a set of these bits), in this order: with
  /// sequence parallelism the all-gather of its input (forward) or output gradient (backward),
  /// the re-gather of its column-parallel input for the weight gradient (backward), the
  /// reduce-scatter; without it one all-reduce, the reduction.
  enum Part : unsigned { kGather = 1, kRegather = 2, kReduce = 4 };
  static constexpr unsigned kForwardParts = kGather | kReduce;
  static constexpr unsigned kBackwardParts = kGather | kRegather | kReduce;

  /// The MLP's and the attention's collectives of `step` (named after `phase`), one after the
  /// other, the first after `first_deps`; each reduce-scatter moves `scatter_fraction` of the
  /// s·b·h activation. Returns the last.
  static OpId chain(RankContext& ctx, const LayerStep& step, std::string_view phase, std::vector<OpId> first_deps,
                    unsigned parts, double scatter_fraction = 1.0) {
    const int group = ctx.tensor_group();
    const double bytes = activation_bytes(ctx, static_cast<double>(step.unit.samples));
    const std::string what = label(step, phase);
    OpId last;
    for (int block = 0; block < 2; ++block) {
      std::vector<OpId> deps = last.valid() ? std::vector<OpId>{last} : std::move(first_deps);
      if (!ctx.plan.shard.sequence_parallel) {
        last = ctx.collective(group, CollectiveKind::kAllReduce, bytes, "tp allreduce ", what, std::move(deps),
                              CollectiveAlgorithm::kAuto);
        continue;
      }
      if (parts & kGather) {
        last = ctx.collective(group, CollectiveKind::kAllGather, bytes, "tp allgather ", what, std::move(deps),
                              CollectiveAlgorithm::kRing);
        deps = {last};
      }
      if (parts & kRegather) {
        last = ctx.collective(group, CollectiveKind::kAllGather, bytes, "tp regather ", what, std::move(deps),
                              CollectiveAlgorithm::kRing);
        deps = {last};
      }
      if (parts & kReduce)
        last = ctx.collective(group, CollectiveKind::kReduceScatter, bytes * scatter_fraction, "tp reducescatter ", what,
                              std::move(deps), CollectiveAlgorithm::kRing);
    }
    return last;
  }

  /// Split backward, sequence parallelism: the all-gathers of the MLP's and the attention's
  /// output gradients, once the layer's output gradient is there (`deps`, the pending collectives
  /// and the last compute); returns the last.
  static OpId output_gradient_gathers(RankContext& ctx, const LayerStep& step, const std::vector<OpId>& deps) {
    std::vector<OpId> first_deps = deps;
    first_deps.insert(first_deps.end(), ctx.pending.begin(), ctx.pending.end());
    if (ctx.computes > 0) first_deps.push_back(ctx.last_compute);
    return chain(ctx, step, "bwd", std::move(first_deps), kGather);
  }

  /// Split backward: the column-parallel weights' input-gradient all-reduces (reduce-scatters
  /// with sequence parallelism), MLP then attention, after the rest of the backward (what the
  /// weight-gradient op `wgrad` waits for) and beside `wgrad`; returns the last.
  static OpId input_gradient_reductions(RankContext& ctx, const LayerStep& step, OpId wgrad) {
    return chain(ctx, step, "bwd", deps_of(ctx, wgrad), kReduce);
  }

  /// The attention and MLP blocks' collectives (`parts`: kForwardParts or kBackwardParts) after
  /// `compute` (overlapped: with it, after what it waits for, and each reduce-scatter's last chunk
  /// after it); returns the last.
  static OpId block_collectives(RankContext& ctx, const LayerStep& step, OpId compute, std::string_view phase,
                                unsigned parts) {
    const bool overlap = ctx.plan.tp_comm_overlap;
    const double t = ctx.plan.tensor_parallel();
    OpId last = chain(ctx, step, phase, overlap ? deps_of(ctx, compute) : std::vector<OpId>{compute},
                      parts, overlap ? (t - 1) / t : 1.0);
    if (overlap)  // the reduce-scatters' last chunks, after the GEMMs that produce them
      for (int block = 0; block < 2; ++block)
        last = ctx.collective(ctx.tensor_group(), CollectiveKind::kReduceScatter,
                              activation_bytes(ctx, static_cast<double>(step.unit.samples)) / t, "tp reducescatter tail ",
                              label(step, phase), {last, compute},
                              CollectiveAlgorithm::kRing);
    return last;
  }
};

}  // namespace

std::unique_ptr<LoweringPass> make_tensor_parallel_pass() { return std::make_unique<TensorParallelPass>(); }

}  // namespace frugal::policies::lowering

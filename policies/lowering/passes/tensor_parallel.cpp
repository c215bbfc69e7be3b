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
    if (!applies(ctx, step) || step.unit.unit.forward || step.layer.recompute != workloads::Recompute::kFull) return;
    compute_deps.push_back(block_collectives(ctx, step, ctx.last_compute, "recompute"));
  }

  void after_layer(RankContext& ctx, const LayerStep& step, OpId compute) override {
    if (!applies(ctx, step)) return;
    const OpId last = block_collectives(ctx, step, compute, step.replay ? "recompute" : step.unit.unit.forward ? "fwd" : "bwd");
    ctx.pending.assign(1, last);
    if (ctx.plan.tp_comm_overlap) ctx.pending.push_back(compute);
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
    return ctx.tokens_per_sample() * static_cast<double>(ctx.hidden_size) * core::bytes_per_element(ctx.setup.precision) *
           samples;
  }

  /// The attention and MLP blocks' collectives after `compute` (overlapped: with it, after what
  /// it waits for); returns the last.
  static OpId block_collectives(RankContext& ctx, const LayerStep& step, OpId compute, std::string_view phase) {
    const int group = ctx.tensor_group();
    const double bytes = activation_bytes(ctx, static_cast<double>(step.unit.samples));
    const std::string what = join({step.layer.name, " ", phase, " ", step.unit.mb});
    std::vector<OpId> first_deps{compute};
    if (ctx.plan.tp_comm_overlap) first_deps = ctx.program().ops.at(static_cast<std::size_t>(compute.value)).deps;
    const bool overlap = ctx.plan.tp_comm_overlap;
    const double t = ctx.plan.tensor_parallel();
    OpId last;
    for (int block = 0; block < 2; ++block) {  // attention, MLP
      std::vector<OpId> deps = last.valid() ? std::vector<OpId>{last} : first_deps;
      if (ctx.plan.shard.sequence_parallel) {
        last = ctx.collective(group, CollectiveKind::kAllGather, bytes, "tp allgather ", what, std::move(deps),
                              CollectiveAlgorithm::kRing);
        last = ctx.collective(group, CollectiveKind::kReduceScatter, overlap ? bytes * (t - 1) / t : bytes,
                              "tp reducescatter ", what, {last}, CollectiveAlgorithm::kRing);
      } else {
        last = ctx.collective(group, CollectiveKind::kAllReduce, bytes, "tp allreduce ", what, std::move(deps),
                              CollectiveAlgorithm::kAuto);
      }
    }
    if (overlap)  // the reduce-scatters' last chunks, after the GEMMs that produce them
      for (int block = 0; block < 2; ++block)
        last = ctx.collective(group, CollectiveKind::kReduceScatter, bytes / t, "tp reducescatter tail ", what,
                              {last, compute}, CollectiveAlgorithm::kRing);
    return last;
  }
};

}  // namespace

std::unique_ptr<LoweringPass> make_tensor_parallel_pass() { return std::make_unique<TensorParallelPass>(); }

}  // namespace frugal::policies::lowering

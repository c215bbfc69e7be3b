// Gradient-sync pass (PyTorch DDP's reducer, Megatron's grad buffers): during the last
// micro-batch's backward of each model chunk, a layer's gradients are final once its backward
// (and its tensor-parallel collectives) are done; they fill buckets of Plan::bucket_bytes that
// are all-reduced (ZeRO 0) or reduce-scattered (ZeRO ≥ 1) over the data-parallel group on its
// communicator's stream (data_comm). With ZeRO ≥ 2 each bucket is a buffer of its own, freed once
// reduced. Without Plan::overlap_grad_reduce (Megatron-LM without --overlap-grad-reduce) the
// whole rank's gradients are reduced in one collective after its last backward instead. With
// tied embeddings and p > 1 the first and last pipeline ranks all-reduce the embedding gradients.
// The optimizer step waits for all of them.
// ZeRO-Offload as DeepSpeed's stage 2 hooks run it (RankContext::streams_gradients_to_host):
// every micro-batch's buckets are reduced (when replicated) and their shard copied to host memory
// on the copy stream as the backward fills them, so the copies overlap the rest of the backward
// and the device holds only the buckets (RankContext::gradients_to_host). Otherwise (ZeRO 1, no
// overlap_grad_reduce, a rank that all-reduces tied embeddings afterwards) the optimizer pass
// copies the shard in one piece after the reductions.
#include <algorithm>

#include "policies/lowering/pass.hpp"

namespace frugal::policies::lowering {
namespace {

using program::CollectiveKind;
using program::Memory;
using program::MemoryTag;
using program::OpId;
using program::OpKind;

class GradientSyncPass final : public LoweringPass {
 public:
  std::string name() const override { return "gradient_sync"; }

  void begin_rank(RankContext& ctx) override {
    bucket_index_ = 0;
    deferred_bytes_ = 0;
    last_backward_ = {};
    // Per rank, not per layer: what the rank does with its gradients, and its buckets' size.
    replicated_ = ctx.plan.gradient_replicas() > 1;
    streams_ = ctx.streams_gradients_to_host();
    own_buckets_ = (replicated_ && ctx.plan.zero_stage >= 2) || streams_;
    bucket_bytes_ = std::min(ctx.plan.bucket_bytes, ctx.parameters() * ctx.state.gradients);
  }

  void before_unit(RankContext&, const UnitStep&) override {
    bucket_fill_ = 0;
    bucket_buffer_.clear();
  }

  void after_layer(RankContext& ctx, const LayerStep& step, OpId compute) override {
    const Plan& plan = ctx.plan;
    // Nothing to reduce or stream; or not the micro-batch whose gradients are reduced (streaming
    // sends every micro-batch's).
    if (!step.runs_backward() || !(replicated_ || streams_) || !(step.unit.last_micro_batch || streams_)) return;
    // The layer's last op: its backward, or the tensor-parallel collectives that follow it.
    const OpId last = ctx.pending.empty() ? compute : ctx.pending.back();
    const double grad_bytes = step.layer.parameters * ctx.state.gradients;
    if (!plan.overlap_grad_reduce && !streams_) {
      deferred_bytes_ += grad_bytes;
      last_backward_ = last;  // program order: the rank's last backward is the last one seen
      return;
    }
    if (own_buckets_ && bucket_fill_ == 0 && grad_bytes > 0) {
      bucket_buffer_ = join({"grad_bucket/", Decimal(bucket_index_++)});
      ctx.builder().alloc(Memory{MemoryTag::kBuffers, bucket_buffer_, bucket_bytes_});
    }
    bucket_fill_ += grad_bytes;
    if (bucket_fill_ > 0 && (bucket_fill_ >= plan.bucket_bytes || step.index == step.unit.first_layer)) {
      OpId done = last;  // when the bucket's gradients (its shard, once reduced) are final
      if (replicated_) done = reduce(ctx, bucket_fill_, " grads bucket", last);
      if (streams_) {
        const double shard = bucket_fill_ / static_cast<double>(plan.gradient_replicas());
        done = ctx.builder().copy("grads bucket to host",
                                  program::Copy{program::CopyDirection::kDeviceToHost, shard, "", ""}, {done});
        ctx.gradients_to_host.push_back(done);
      }
      if (own_buckets_)
        ctx.builder().add(OpKind::kFree, streams_ ? program::Stream::kCopy : ctx.stream_of(ctx.data_group()),
                          join({"free ", bucket_buffer_}), {done},
                          Memory{MemoryTag::kBuffers, bucket_buffer_, bucket_bytes_});
      bucket_fill_ = 0;
    }
  }

  void before_step(RankContext& ctx) override {
    if (deferred_bytes_ > 0) {
      reduce(ctx, deferred_bytes_, " all grads", last_backward_);
      deferred_bytes_ = 0;
    }
    if (!ctx.reduces_tied_embeddings()) return;
    // Megatron keeps the output layer's copy of the word embeddings in sync with the input's.
    const double bytes = ctx.tied_embedding_params * ctx.state.gradients;
    ctx.gradient_sync.push_back(ctx.collective(ctx.embedding_group(), CollectiveKind::kAllReduce, bytes,
                                               "allreduce tied embedding grads", "", {ctx.builder().last()},
                                               program::CollectiveAlgorithm::kRing));
  }

 private:
  /// All-reduce (ZeRO 0) or reduce-scatter (ZeRO ≥ 1) of `bytes` of gradients over the
  /// data-parallel group once `after` is done; the optimizer step waits for it.
  static OpId reduce(RankContext& ctx, double bytes, std::string_view what, OpId after) {
    const Plan& plan = ctx.plan;
    const auto kind = plan.zero_stage == 0 ? CollectiveKind::kAllReduce : CollectiveKind::kReduceScatter;
    const OpId op = ctx.collective(ctx.data_group(), kind, bytes, plan.zero_stage == 0 ? "allreduce" : "reducescatter", what,
                                   {after}, plan.gradient_algorithm);
    ctx.gradient_sync.push_back(op);
    return op;
  }

  bool replicated_ = false;   ///< gradients reduced over data-parallel replicas
  bool streams_ = false;      ///< RankContext::streams_gradients_to_host
  /// A bucket of its own (freed once reduced or copied) when the device keeps no whole gradient
  /// buffer: ZeRO ≥ 2 shards it, streaming sends it to the host.
  bool own_buckets_ = false;
  double bucket_bytes_ = 0;   ///< Plan::bucket_bytes, no larger than the rank's gradients
  int bucket_index_ = 0;
  double bucket_fill_ = 0;
  double deferred_bytes_ = 0;  ///< gradients reduced after the backward (no overlap)
  OpId last_backward_;
  std::string bucket_buffer_;
};

}  // namespace

std::unique_ptr<LoweringPass> make_gradient_sync_pass() { return std::make_unique<GradientSyncPass>(); }

}  // namespace frugal::policies::lowering

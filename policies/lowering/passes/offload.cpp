// Offload pass: the activations of the layers Plan::memory.offload names live in host memory
// between their forward and backward.
// - Forward: after the layer's compute the copy stream allocates a host buffer and copies the
//   stored activations device → host; the device buffer is freed (copy stream, after its copy)
//   once the next layer's compute is posted, and the compute after that waits for the free: at
//   most two layers' activations are on the device, the one computing and the one being copied,
//   so each copy overlaps the next layer's compute and memory stays bounded however slow the
//   link. What is in flight at the end of a forward unit is freed there, and the next compute
//   waits for it.
// - Backward: a layer's activations come back (allocation on the device once the compute before
//   the previous layer's backward is done, host → device copy, host buffer freed), posted one
//   layer ahead so the copy overlaps that backward; the backward waits for its copy.
// The memory pass allocates the activations before the forward and frees them after the
// backward, as for any layer; in program order the allocations and frees are where they happen.
#include <map>
#include <utility>
#include <vector>

#include "policies/lowering/pass.hpp"

namespace frugal::policies::lowering {
namespace {

using program::Copy;
using program::CopyDirection;
using program::Location;
using program::Memory;
using program::MemoryTag;
using program::OpId;
using program::OpKind;
using program::Stream;

class OffloadPass final : public LoweringPass {
 public:
  std::string name() const override { return "offload"; }

  void begin_rank(RankContext&) override {
    prefetched_.clear();
    outgoing_.clear();
    carried_.clear();
  }

  void after_layer(RankContext& ctx, const LayerStep& step, OpId compute) override {
    if (!step.unit.unit.forward) return;
    // The previous layer's copy overlapped this compute: its device buffer goes (after it), and
    // the next compute waits for that.
    while (!outgoing_.empty()) carried_.push_back(free_oldest(ctx));
    if (!offloaded(ctx, step.index)) return;
    const Buffers b = buffers(ctx, step.unit, step.index);
    auto& builder = ctx.builder();
    builder.add(OpKind::kAlloc, Stream::kCopy, join({"alloc ", b.host.buffer}), {}, b.host);
    const OpId copy = builder.copy(join({"offload ", b.device.buffer}),
                                   Copy{CopyDirection::kDeviceToHost, b.device.bytes, b.device.buffer, b.host.buffer},
                                   {compute});
    outgoing_.push_back({b.device, copy});
  }

  void before_layer(RankContext& ctx, const LayerStep& step, std::vector<OpId>& compute_deps) override {
    compute_deps.insert(compute_deps.end(), carried_.begin(), carried_.end());
    carried_.clear();
    if (!step.runs_backward()) return;
    if (const OpId own = prefetch(ctx, step.unit, step.index); own.valid()) compute_deps.push_back(own);
    if (step.index - 1 >= step.unit.first_layer) prefetch(ctx, step.unit, step.index - 1);
  }

  void after_unit(RankContext& ctx, const UnitStep& unit) override {
    if (!unit.unit.forward) return;
    while (!outgoing_.empty()) carried_.push_back(free_oldest(ctx));
  }

 private:
  struct Buffers {
    Memory device, host;
  };

  static bool offloaded(const RankContext& ctx, int layer) {
    const auto& offload = ctx.plan.memory.offload;
    const auto& l = ctx.chain.layers[static_cast<std::size_t>(layer)];
    // Chain layer i + 1 is transformer layer i (the embedding comes first).
    return l.kind == workloads::LayerKind::kTransformer && static_cast<std::size_t>(layer - 1) < offload.size() &&
           offload[static_cast<std::size_t>(layer - 1)] && l.activation_bytes > 0;
  }

  /// The memory pass's device buffer of the layer's activations, and its host copy.
  static Buffers buffers(const RankContext& ctx, const UnitStep& unit, int layer) {
    const auto& l = ctx.chain.layers[static_cast<std::size_t>(layer)];
    const double bytes = l.activation_bytes * static_cast<double>(unit.samples);
    const std::string device = join({l.name, "/", unit.mb});
    return {Memory{MemoryTag::kActivations, device, bytes},
            Memory{MemoryTag::kActivations, join({device, "/host"}), bytes, Location::kHost}};
  }

  /// Frees the device buffer of the oldest copy to the host, after it; returns the free.
  OpId free_oldest(RankContext& ctx) {
    const auto [device, copy] = outgoing_.front();
    outgoing_.erase(outgoing_.begin());
    return ctx.builder().add(OpKind::kFree, Stream::kCopy, join({"free ", device.buffer}), {copy}, device);
  }

  /// Posts the copy back of `layer`'s activations once (its device allocation after the last
  /// compute so far); returns the copy (invalid when the layer is not offloaded).
  OpId prefetch(RankContext& ctx, const UnitStep& unit, int layer) {
    if (!offloaded(ctx, layer)) return {};
    const auto key = std::make_pair(layer, unit.unit.micro_batch);
    if (const auto it = prefetched_.find(key); it != prefetched_.end()) return it->second;
    const Buffers b = buffers(ctx, unit, layer);
    auto& builder = ctx.builder();
    std::vector<OpId> after;
    if (ctx.computes > 0) after.push_back(ctx.last_compute);
    builder.add(OpKind::kAlloc, Stream::kCopy, join({"alloc ", b.device.buffer}), std::move(after), b.device);
    const OpId copy = builder.copy(join({"prefetch ", b.device.buffer}),
                                   Copy{CopyDirection::kHostToDevice, b.device.bytes, b.host.buffer, b.device.buffer});
    builder.add(OpKind::kFree, Stream::kCopy, join({"free ", b.host.buffer}), {copy}, b.host);
    prefetched_[key] = copy;
    return copy;
  }

  std::map<std::pair<int, int>, OpId> prefetched_;  ///< (chain layer, micro-batch) → its copy back
  std::vector<std::pair<Memory, OpId>> outgoing_;   ///< device buffers copied to the host, not yet freed
  std::vector<OpId> carried_;                       ///< frees the next compute waits for
};

}  // namespace

std::unique_ptr<LoweringPass> make_offload_pass() { return std::make_unique<OffloadPass>(); }

}  // namespace frugal::policies::lowering

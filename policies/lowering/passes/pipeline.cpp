// Pipeline pass: a unit receives its input from the previous virtual stage (forward) or its
// output gradient from the next one (backward) and sends its result on. Receives block the
// compute stream (the next layer needs the data); sends go on the comm stream once the data is
// computed (the last compute op and its tensor-parallel collectives) and do not block it.
// With Plan::scatter_gather_tensors_in_pipeline (Megatron-LM's scatter/gather optimization,
// Narayanan et al. SC'21 §4.1) a boundary tensor that every tensor-parallel rank holds whole
// (t ≥ 2 without sequence parallelism) travels as t slices, each rank sending 1/t to its peer of
// the next stage (each over its own NIC), and the receiver all-gathers the slices over its
// tensor-parallel group (NVLink) before computing on them.
// With Plan::overlap_p2p_comm (Megatron-Core's interleaved schedule) a unit's receive is posted
// ahead on the comm stream (program::PointToPoint::posted_ahead) right after the compute of the
// unit that precedes it in the rank's schedule if that one runs the same direction, else of the one
// before it (as Megatron-Core posts the next forward's receive with this forward's send, the
// next backward's with this backward's, and the first backward's after the last warm-up
// forward), and the unit's compute waits for the data. As in Megatron-Core, whose next unit of a
// direction waits for every handle of the previous one's send_*_recv_* (its send as well as the
// receive), a unit's compute also waits until the send of the previous unit of its direction has
// been delivered.
#include <array>
#include <map>

#include "policies/lowering/pass.hpp"

namespace frugal::policies::lowering {
namespace {

using program::OpId;
using program::OpKind;
using program::Stream;

class PipelinePass final : public LoweringPass {
 public:
  std::string name() const override { return "pipeline"; }

  void begin_rank(RankContext&) override {
    posted_.clear();
    last_send_ = {};
  }

  void before_unit(RankContext& ctx, const UnitStep& u) override {
    if (auto& sent = last_send_[u.unit.forward ? 1 : 0]) {  // set only under overlap_p2p_comm
      ctx.pending.push_back(*sent);
      sent.reset();
    }
    const auto posted = posted_.find(u.index);
    if (posted != posted_.end()) {  // the data of a receive posted ahead
      wait_for(ctx, posted->second.recv, posted->second.bytes, posted->second.what, true);
      posted_.erase(posted);
      return;
    }
    if (const auto in = incoming(ctx, u.unit)) receive(ctx, *in, false);
  }

  void after_unit(RankContext& ctx, const UnitStep& u) override {
    send(ctx, u);
    if (!ctx.plan.overlap_p2p_comm) return;
    // Unit i's receive goes after unit i − 1 if that runs the same direction, else after unit i − 2.
    const auto& units = *u.schedule;
    const auto same = [&](std::size_t a, std::size_t b) { return units[a].forward == units[b].forward; };
    const auto k = static_cast<std::size_t>(u.index);
    for (std::size_t i = k + 1; i <= k + 2 && i < units.size(); ++i)
      if (i == k + 1 ? same(k, i) : !same(i - 1, i))
        if (const auto in = incoming(ctx, units[i])) posted_[static_cast<int>(i)] = receive(ctx, *in, true);
  }

 private:
  /// What a unit receives before it runs: from the previous virtual stage (forward) or the next
  /// one (backward).
  struct Incoming {
    int peer_stage = 0;
    std::int64_t tag = 0;
    double bytes = 0;  ///< the whole boundary tensor
    std::string what;
  };
  std::optional<Incoming> incoming(const RankContext& ctx, const ScheduleUnit& u) const {
    const int p = ctx.plan.pipeline_parallel();
    const int vs = u.chunk * p + ctx.stage(), stages = p * ctx.plan.virtual_pipeline;
    const std::int64_t samples = ctx.rank().micro_batches[static_cast<std::size_t>(u.micro_batch)];
    const std::string mb = join({"mb", Decimal(u.micro_batch)});
    if (u.forward && vs > 0)
      return Incoming{vs - 1, tag(ctx, u.micro_batch, vs, true), boundary_bytes(ctx, vs - 1, samples),
                      join({"activations ", mb})};
    if (!u.forward && vs < stages - 1)
      return Incoming{vs + 1, tag(ctx, u.micro_batch, vs, false), boundary_bytes(ctx, vs, samples),
                      join({"gradients ", mb})};
    return std::nullopt;
  }

  /// A receive posted ahead, waiting for the unit that needs it.
  struct Posted {
    OpId recv;
    double bytes = 0;
    std::string what;
  };

  /// Sends the unit's result on; under overlap_p2p_comm the next unit of its direction waits for it.
  void send(RankContext& ctx, const UnitStep& u) {
    const int vs = u.virtual_stage;
    std::optional<OpId> sent;
    if (u.unit.forward && vs < u.virtual_stages - 1)
      sent = p2p(ctx, OpKind::kSend, vs + 1, tag(ctx, u.unit.micro_batch, vs + 1, true),
                 boundary_bytes(ctx, vs, u.samples) / slices(ctx), join({"send activations ", u.mb}));
    if (!u.unit.forward && vs > 0)
      sent = p2p(ctx, OpKind::kSend, vs - 1, tag(ctx, u.unit.micro_batch, vs - 1, false),
                 boundary_bytes(ctx, vs - 1, u.samples) / slices(ctx), join({"send gradients ", u.mb}));
    if (ctx.plan.overlap_p2p_comm) last_send_[u.unit.forward ? 1 : 0] = sent;
  }

 private:
  /// Tag of the message that arrives at `virtual_stage` for micro-batch `mb`.
  static std::int64_t tag(const RankContext& ctx, int mb, int virtual_stage, bool forward) {
    const std::int64_t stages = static_cast<std::int64_t>(ctx.plan.pipeline_parallel()) * ctx.plan.virtual_pipeline;
    return ((static_cast<std::int64_t>(mb) * stages + virtual_stage) * 2) + (forward ? 0 : 1);
  }

  /// Bytes leaving virtual stage `virtual_stage` (its last layer's output) for `samples`.
  static double boundary_bytes(const RankContext& ctx, int virtual_stage, std::int64_t samples) {
    const auto [first, end] = stage_layers(ctx.plan, virtual_stage, static_cast<int>(ctx.chain.layers.size()));
    return ctx.chain.layers[static_cast<std::size_t>(end - 1)].output_bytes * static_cast<double>(samples);
  }

  /// Slices a boundary tensor travels in: t under the scatter/gather optimization, else 1.
  static int slices(const RankContext& ctx) { return ctx.plan.scatters_pipeline_tensors() ? ctx.plan.tensor_parallel() : 1; }

  /// Receives `in` (its slice of it under scatter/gather): on the compute stream, blocking it,
  /// and waited for at once; or posted ahead on the comm stream once the last compute op is done,
  /// and waited for by the unit that needs it (wait_for).
  static Posted receive(RankContext& ctx, const Incoming& in, bool ahead) {
    const OpId recv = p2p(ctx, OpKind::kRecv, in.peer_stage, in.tag, in.bytes / slices(ctx), "recv " + in.what, ahead);
    if (!ahead) wait_for(ctx, recv, in.bytes, in.what, false);
    return Posted{recv, in.bytes, in.what};
  }

  /// The next compute op waits for `recv` (its all-gather of the slices under scatter/gather; a
  /// receive on the compute stream, by stream order).
  static void wait_for(RankContext& ctx, OpId recv, double bytes, const std::string& what, bool ahead) {
    if (slices(ctx) > 1)
      ctx.pending.push_back(ctx.collective(ctx.tensor_group(), program::CollectiveKind::kAllGather, bytes,
                                           "pp allgather ", what, {recv}, program::CollectiveAlgorithm::kRing));
    else if (ahead)
      ctx.pending.push_back(recv);
  }

  static OpId p2p(RankContext& ctx, OpKind kind, int peer_stage, std::int64_t t, double bytes, std::string name,
                  bool ahead = false) {
    std::vector<OpId> deps;
    if (kind == OpKind::kSend) {
      deps.reserve(ctx.pending.size() + 1);
      deps = ctx.pending;
    }
    if ((kind == OpKind::kSend || ahead) && ctx.computes > 0) deps.push_back(ctx.last_compute);
    const Stream stream = kind == OpKind::kRecv && !ahead ? Stream::kCompute : Stream::kComm;
    return ctx.builder().add(kind, stream, std::move(name), std::move(deps),
                             program::PointToPoint{ctx.rank_of_stage(peer_stage), t, bytes, ahead});
  }

  std::map<int, Posted> posted_;  ///< unit index → its receive, posted ahead
  std::array<std::optional<OpId>, 2> last_send_;  ///< per direction (backward, forward): the send the next unit waits for
};

}  // namespace

std::unique_ptr<LoweringPass> make_pipeline_pass() { return std::make_unique<PipelinePass>(); }

}  // namespace frugal::policies::lowering

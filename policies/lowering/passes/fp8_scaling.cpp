// fp8 scaling pass (Transformer Engine's delayed scaling, as Megatron-Core runs it): each model
// chunk's transformer block runs inside one fp8_autocast region, and when a micro-batch's forward
// leaves that region, or its backward reaches the end of the region's first module, Transformer
// Engine all-reduces (max) the amaxes the region's fp8 GEMMs recorded, blocking, on the compute
// stream, over the amax reduction group (policies/fp8_scaling.hpp). The next compute op and the
// unit's pipeline send wait for it. It carries a few bytes per fp8 GEMM: the latency of a
// collective over the whole stage is what it costs, and that grows with the data-parallel size.
// Forwards replayed for recomputation reduce nothing (Transformer Engine skips their amaxes).
#include "policies/fp8_scaling.hpp"
#include "policies/lowering/pass.hpp"

namespace frugal::policies::lowering {
namespace {

using program::OpId;

class Fp8ScalingPass final : public LoweringPass {
 public:
  std::string name() const override { return "fp8_scaling"; }

  void after_unit(RankContext& ctx, const UnitStep& u) override {
    if (ctx.amax_group() < 0) return;  // not fp8, no reduction, or a group of one rank
    int gemms = 0;
    for (int l = u.first_layer; l < u.end_layer; ++l) gemms += fp8_gemms(ctx.chain.layers[static_cast<std::size_t>(l)]);
    if (gemms == 0) return;  // a chunk without transformer layers runs no fp8 region
    const bool forward = u.unit.forward;
    std::vector<OpId> deps = ctx.pending;
    if (ctx.computes > 0) deps.push_back(ctx.last_compute);
    const std::string what = join({forward ? "fwd " : "bwd ", Decimal(u.virtual_stage), " ", u.mb});
    ctx.pending.push_back(ctx.collective(ctx.amax_group(), program::CollectiveKind::kAllReduce, amax_bytes(gemms, forward),
                                         "fp8 amax ", what, std::move(deps), program::CollectiveAlgorithm::kAuto));
  }
};

}  // namespace

std::unique_ptr<LoweringPass> make_fp8_scaling_pass() { return std::make_unique<Fp8ScalingPass>(); }

}  // namespace frugal::policies::lowering

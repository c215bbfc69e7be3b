// A lowering pass: one concern of turning a plan into a rank's ops (pipeline transfers, tensor-
// parallel communication, ZeRO, gradient reduction, memory, optimizer). The schedule walk
// (lowering.cpp) visits the rank's schedule and calls every pass at the same points, in pass
// order; a new technique is a new pass, not an edit of the others.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policies/lowering/lowering.hpp"
#include "policies/lowering/rank_context.hpp"
#include "policies/memory/remat_schedule.hpp"
#include "policies/schedule.hpp"

namespace frugal::policies::lowering {

/// One forward or backward unit of the schedule: a micro-batch through one model chunk.
struct UnitStep {
  ScheduleUnit unit;
  /// The rank's whole schedule and this unit's index in it.
  const std::vector<ScheduleUnit>* schedule = nullptr;
  int index = 0;
  int virtual_stage = 0;     ///< chunk × p + pipeline rank
  int virtual_stages = 1;    ///< p × v
  std::int64_t samples = 0;  ///< sequences in the micro-batch
  std::string mb;            ///< "mb<i>", for op names
  bool last_micro_batch = false;
  int first_layer = 0, end_layer = 0;  ///< chain layers [first, end) of the virtual stage
};

/// One layer inside a unit (forward: first → end; backward: end → first), or a forward the
/// stage's rematerialization schedule replays inside a backward unit.
struct LayerStep {
  const UnitStep& unit;
  int index = 0;                  ///< chain layer index
  const workloads::Layer& layer;
  bool replay = false;            ///< a forward replayed before a later backward of the unit
  /// Under a schedule (Plan::memory.schedules): what this forward or replay keeps. Empty: the
  /// layer's own recomputation (Layer::recompute) decides.
  std::optional<Keep> keep;
  bool runs_forward() const { return unit.unit.forward || replay; }
  bool runs_backward() const { return !unit.unit.forward && !replay; }
  /// A backward that first replays the layer's whole forward (Layer::recompute kFull): the memory
  /// pass emits the recompute op, the communication passes the forward's collectives after it.
  bool replays_full_forward() const {
    return runs_backward() && layer.recompute == workloads::Recompute::kFull;
  }
};

/// Hooks, each called for every pass in pass order. Passes append ops through the context;
/// `compute_deps` are the dependencies the layer's compute op will take (a pass may add its own
/// ops' ids, or emit a compute op itself and take them over).
class LoweringPass {
 public:
  virtual ~LoweringPass() = default;
  virtual std::string name() const = 0;
  virtual void begin_rank(RankContext&) {}                 ///< resident memory
  virtual void before_unit(RankContext&, const UnitStep&) {}
  virtual void before_layer(RankContext&, const LayerStep&, std::vector<program::OpId>& compute_deps) {}
  /// `compute`: the layer's last compute op; for a backward split by Plan::splits_weight_gradients,
  /// its weight-gradient op, which waits for the rest of the backward (its first dependency) and
  /// RankContext::weight_gradient_deps.
  virtual void after_layer(RankContext&, const LayerStep&, program::OpId compute) {}
  virtual void after_unit(RankContext&, const UnitStep&) {}
  virtual void before_step(RankContext&) {}                ///< after the schedule: last gradient syncs
  virtual void step(RankContext&) {}                       ///< the optimizer step
  virtual void after_step(RankContext&) {}                 ///< e.g. ZeRO 1–2 weight all-gather
};

/// The passes, in order. Each lives in passes/<name>.cpp.
std::unique_ptr<LoweringPass> make_memory_pass();            ///< resident state, activation lifetimes, recomputation
std::unique_ptr<LoweringPass> make_offload_pass();           ///< activations to host memory and back (copy stream)
std::unique_ptr<LoweringPass> make_pipeline_pass();          ///< activation/gradient send and receive
std::unique_ptr<LoweringPass> make_zero_pass();              ///< ZeRO-3 weight gathers, ZeRO 1–2 weight all-gather
std::unique_ptr<LoweringPass> make_tensor_parallel_pass();   ///< Megatron TP/SP collectives after each layer
std::unique_ptr<LoweringPass> make_context_parallel_pass();  ///< K/V all-gather and gradient reduce-scatter (CP)
std::unique_ptr<LoweringPass> make_fp8_scaling_pass();       ///< fp8 amax all-reduce after each chunk's forward and backward
std::unique_ptr<LoweringPass> make_gradient_sync_pass();     ///< bucketed DP gradient reduction, tied embeddings
std::unique_ptr<LoweringPass> make_optimizer_pass();         ///< the optimizer step

}  // namespace frugal::policies::lowering

// Lowering: the schedule walk over the passes, groups and program metadata.
#include "policies/lowering/lowering.hpp"

#include <algorithm>
#include <utility>

#include "policies/lowering/pass.hpp"
#include "sim/cost/compute_cost.hpp"

namespace frugal::policies {
namespace {

using program::OpId;
using program::Phase;
namespace lw = lowering;

/// Walks each rank's pipeline schedule, emits the layers' forward and backward compute ops and
/// calls the passes around them.
class ScheduleWalk {
 public:
  ScheduleWalk(const Plan& plan, lw::RankContext& ctx)
      : plan_(plan), ctx_(ctx), gemm_cache_(ctx.chain.layers.size()),
        ops_hint_(static_cast<std::size_t>(std::max(plan.pipeline_parallel(), 1)), 0) {
    passes_.push_back(lw::make_zero_pass());
    passes_.push_back(lw::make_memory_pass());
    passes_.push_back(lw::make_offload_pass());
    // Tensor-parallel before context-parallel: a backward's K/V gradient reduce-scatter, which
    // waits for the layer's backward, queues on the shared comm stream behind the tensor-parallel
    // collectives that overlap that backward (tp_comm_overlap, the split backward), not ahead.
    passes_.push_back(lw::make_tensor_parallel_pass());
    passes_.push_back(lw::make_context_parallel_pass());
    passes_.push_back(lw::make_fp8_scaling_pass());
    passes_.push_back(lw::make_gradient_sync_pass());
    passes_.push_back(lw::make_pipeline_pass());
    passes_.push_back(lw::make_optimizer_pass());
    const int n_layers = static_cast<int>(ctx.chain.layers.size());
    for (std::size_t vs = 0; vs < plan.memory.schedules.size(); ++vs) {
      const auto [first, end] = stage_layers(plan, static_cast<int>(vs), n_layers);
      steps_.push_back(schedule_steps(plan.memory.schedules[vs], end - first));
    }
  }

  /// Device bytes `rp` holds for the whole iteration (the passes' resident buffers).
  double resident_device_bytes(const RankPlan& rp) {
    program::RankProgram out;
    ctx_.begin(rp, out);
    for (auto& pass : passes_) pass->begin_rank(ctx_);
    double bytes = 0;
    for (const program::Memory& m : out.resident)
      if (m.location == program::Location::kDevice) bytes += m.bytes;
    return bytes;
  }

  program::RankProgram lower(const RankPlan& rp) {
    program::RankProgram out;
    ctx_.begin(rp, out);
    // Ranks of one pipeline stage usually have the same number of ops: reserve the last one's.
    std::size_t& hint = ops_hint_[static_cast<std::size_t>(ctx_.stage())];
    out.ops.reserve(hint);
    for (auto& pass : passes_) pass->begin_rank(ctx_);
    const int m = static_cast<int>(rp.micro_batches.size());
    const int p = plan_.pipeline_parallel();
    if (m > 0) {
      const std::vector<ScheduleUnit> schedule = pipeline_schedule(plan_.schedule, ctx_.stage(), p, m, plan_.virtual_pipeline);
      for (std::size_t i = 0; i < schedule.size(); ++i) {
        const ScheduleUnit& u = schedule[i];
        lw::UnitStep step;
        step.unit = u;
        step.schedule = &schedule;
        step.index = static_cast<int>(i);
        step.virtual_stage = u.chunk * p + ctx_.stage();
        step.virtual_stages = p * plan_.virtual_pipeline;
        step.samples = rp.micro_batches[static_cast<std::size_t>(u.micro_batch)];
        step.mb = lw::join({"mb", lw::Decimal(u.micro_batch)});
        step.last_micro_batch = u.micro_batch == m - 1;
        std::tie(step.first_layer, step.end_layer) =
            stage_layers(plan_, step.virtual_stage, static_cast<int>(ctx_.chain.layers.size()));
        unit(step);
      }
    }
    for (auto& pass : passes_) pass->before_step(ctx_);
    for (auto& pass : passes_) pass->step(ctx_);
    for (auto& pass : passes_) pass->after_step(ctx_);
    hint = out.ops.size();
    return out;
  }

 private:
  void unit(const lw::UnitStep& u) {
    for (auto& pass : passes_) pass->before_unit(ctx_, u);
    const ScheduleSteps* steps = steps_.empty() ? nullptr : &steps_[static_cast<std::size_t>(u.virtual_stage)];
    if (u.unit.forward) {
      for (int l = u.first_layer; l < u.end_layer; ++l)
        layer(u, l, false, steps ? std::optional(steps->first_forward[static_cast<std::size_t>(l - u.first_layer)]) : std::nullopt);
    } else {
      for (int l = u.end_layer - 1; l >= u.first_layer; --l) {
        if (steps)
          for (const RematOp& op : steps->before_backward[static_cast<std::size_t>(l - u.first_layer)])
            layer(u, u.first_layer + op.stage, true, op.keep);
        layer(u, l, false, std::nullopt);
      }
    }
    for (auto& pass : passes_) pass->after_unit(ctx_, u);
  }

  /// Layer `l`'s forward (forward unit, or `replay` inside a backward unit) or backward.
  void layer(const lw::UnitStep& u, int l, bool replay, std::optional<Keep> keep) {
    const auto& layer = ctx_.chain.layers[static_cast<std::size_t>(l)];
    const lw::LayerStep step{u, l, layer, replay, keep};
    std::vector<OpId> deps;
    for (auto& pass : passes_) pass->before_layer(ctx_, step, deps);
    const ScaledGemms& g = gemms(static_cast<std::size_t>(l), u.samples);
    OpId op;
    if (step.runs_forward()) {
      op = ctx_.compute(lw::join({replay ? "recompute " : "fwd ", layer.name, " ", u.mb}),
                        cost::forward_op(layer, u.samples, g.forward, replay ? Phase::kRecompute : Phase::kForward),
                        std::move(deps));
    } else {
      program::Compute backward = cost::backward_op(layer, u.samples, g.backward);
      if (plan_.splits_weight_gradients(layer)) {
        // The rest of the backward, then the column-parallel weight gradients (the op passes see):
        // the tensor-parallel pass reduces the input gradients beside them.
        cost::BackwardSplit split = cost::split_weight_gradients(layer, std::move(backward));
        ctx_.compute(lw::join({"bwd ", layer.name, " ", u.mb}), std::move(split.rest), std::move(deps));
        op = ctx_.continue_compute(lw::join({"bwd wgrad ", layer.name, " ", u.mb}), std::move(split.weight_gradients),
                                   std::exchange(ctx_.weight_gradient_deps, {}));
      } else {
        op = ctx_.compute(lw::join({"bwd ", layer.name, " ", u.mb}), std::move(backward), std::move(deps));
      }
    }
    for (auto& pass : passes_) pass->after_layer(ctx_, step, op);
  }

  /// GEMMs of layer `l` scaled to `n` samples, forward and backward (cached: a rank's
  /// micro-batches, and the ranks, mostly share their size).
  struct ScaledGemms {
    std::int64_t samples = -1;
    std::vector<program::Gemm> forward, backward;
  };
  const ScaledGemms& gemms(std::size_t l, std::int64_t n) {
    ScaledGemms& s = gemm_cache_[l];
    if (s.samples != n) {
      s.samples = n;
      s.forward.clear();
      s.backward.clear();
      cost::layer_gemms(ctx_.chain.layers[l], n, s.forward, s.backward);
    }
    return s;
  }

  const Plan& plan_;
  lw::RankContext& ctx_;
  std::vector<std::unique_ptr<lw::LoweringPass>> passes_;
  std::vector<ScaledGemms> gemm_cache_;  ///< per chain layer
  std::vector<ScheduleSteps> steps_;     ///< per virtual stage, under a rematerialization schedule
  std::vector<std::size_t> ops_hint_;    ///< per pipeline stage: ops of its last lowered rank
};

enum class Form { kExpanded, kCompact };

/// Word-embedding parameters per GPU of the copy a tied output layer on another pipeline rank
/// needs (0 when untied or p = 1).
double tied_embedding_params(const Plan& plan, const workloads::ModelSpec& model) {
  const bool tied = model.tie_word_embeddings && plan.pipeline_parallel() > 1;
  return tied ? static_cast<double>(model.vocab_size) * static_cast<double>(model.hidden_size) / plan.tensor_parallel()
              : 0.0;
}

/// Classes of `plan` with the maps from each representative's groups and peers to each member's.
std::vector<program::RankClass> rank_classes(const Plan& plan, const lw::Groups& groups) {
  std::vector<program::RankClass> out;
  const int p = plan.pipeline_parallel();
  for (const auto& members : plan.rank_classes()) {
    if (members.size() < 2) continue;  // a rank alone in its class keeps its own ops
    program::RankClass c;
    const core::RankId rep = members.front();
    c.representative = rep;
    const auto r = static_cast<std::size_t>(rep.value);
    for (std::size_t k = 1; k < members.size(); ++k) {
      const core::RankId m = members[k];
      const auto mi = static_cast<std::size_t>(m.value);
      program::RankClass::Member member;
      member.rank = m;
      for (const auto* kind : {&groups.tensor, &groups.data, &groups.embedding, &groups.context, &groups.amax})
        if ((*kind)[r] >= 0) member.groups.emplace_back((*kind)[r], (*kind)[mi]);
      for (int q = 0; q < p; ++q)
        if (q != plan.stage_of(rep))
          member.peers.emplace_back(plan.layout.along(rep, Dim::kPipeline, q), plan.layout.along(m, Dim::kPipeline, q));
      c.members.push_back(std::move(member));
    }
    out.push_back(std::move(c));
  }
  return out;
}

/// What every walk over a plan's ranks starts from: the layer chain, the groups (in `prog`), the
/// rank context and the walk. Members in initialisation order.
struct Lowering {
  Lowering(const Plan& plan, const workloads::ModelSpec& model, const TrainingSetup& setup)
      : chain((plan.check(), workloads::build_layer_chain(model, setup.seq_length, setup.precision, plan.shard))),
        tied_params(tied_embedding_params(plan, model)),
        groups(lw::build_groups(plan, setup, tied_params > 0, prog)),
        ctx(plan, chain, setup, groups, tied_params, model.hidden_size),
        walk(plan, ctx) {}
  const workloads::LayerChain chain;
  program::Program prog;
  const double tied_params;
  const lw::Groups groups;
  lw::RankContext ctx;
  ScheduleWalk walk;
};

program::Program lower_form(const Plan& plan, const workloads::ModelSpec& model, const TrainingSetup& setup, Form form) {
  Lowering lowering(plan, model, setup);
  program::Program& prog = lowering.prog;
  const lw::Groups& groups = lowering.groups;
  ScheduleWalk& walk = lowering.walk;
  if (form == Form::kCompact) {
    prog.classes = rank_classes(plan, groups);
    std::vector<core::RankId> represented_by(plan.ranks.size());
    for (const auto& c : prog.classes)
      for (const auto& m : c.members) represented_by[static_cast<std::size_t>(m.rank.value)] = c.representative;
    prog.ranks.reserve(plan.ranks.size());
    for (const RankPlan& rp : plan.ranks) {
      const core::RankId by = represented_by[static_cast<std::size_t>(rp.rank.value)];
      if (!by.valid()) {
        prog.ranks.push_back(walk.lower(rp));
        continue;
      }
      program::RankProgram member;  // runs its representative's ops, renamed (no ops of its own)
      member.rank = rp.rank;
      member.gpu = rp.gpu;
      member.represented_by = by;
      prog.ranks.push_back(std::move(member));
    }
  } else {
    prog.ranks.reserve(plan.ranks.size());
    for (const RankPlan& rp : plan.ranks) prog.ranks.push_back(walk.lower(rp));
  }

  const double samples = static_cast<double>(setup.global_batch_size);
  prog.metadata = {{"model", model.name},
                   {"precision", core::to_string(setup.precision)},
                   {"seq_length", setup.seq_length},
                   {"global_batch_size", setup.global_batch_size},
                   {"micro_batch_size", setup.micro_batch_size},
                   {"tokens_per_iteration", samples * static_cast<double>(setup.seq_length)},
                   {"model_flops_per_iteration", workloads::model_flops_per_iteration(model, setup.seq_length, samples)},
                   {"plan", plan.to_json()}};
  return std::move(prog);  // the Lowering member, not a copy
}

}  // namespace

std::pair<int, int> stage_layers(const Plan& plan, int virtual_stage, int chain_layers) {
  const auto& first = plan.stage_first_layer;
  const auto vs = static_cast<std::size_t>(virtual_stage);
  const int end = vs + 1 < first.size() ? first[vs + 1] : chain_layers;
  return {first.at(vs), end};
}

std::vector<int> pipeline_rank_layers(const Plan& plan, int stage, int chain_layers) {
  std::vector<int> out;
  for (int c = 0; c < plan.virtual_pipeline; ++c) {
    const auto [first, end] = stage_layers(plan, c * plan.pipeline_parallel() + stage, chain_layers);
    for (int l = first; l < end; ++l) out.push_back(l);
  }
  return out;
}

std::vector<double> resident_device_bytes(const Plan& plan, const workloads::ModelSpec& model, const TrainingSetup& setup) {
  Lowering lowering(plan, model, setup);
  std::vector<double> bytes;
  bytes.reserve(plan.ranks.size());
  for (const RankPlan& rp : plan.ranks) bytes.push_back(lowering.walk.resident_device_bytes(rp));
  return bytes;
}

program::Program lower(const Plan& plan, const workloads::ModelSpec& model, const TrainingSetup& setup) {
  return lower_form(plan, model, setup, Form::kExpanded);
}

program::Program lower_compact(const Plan& plan, const workloads::ModelSpec& model, const TrainingSetup& setup) {
  return lower_form(plan, model, setup, Form::kCompact);
}


}  // namespace frugal::policies

// Lowering of data-parallel plans to the Program IR.
#include "policies/lowering.hpp"

#include <algorithm>

namespace frugal::policies {
namespace {

using program::Collective;
using program::CollectiveKind;
using program::Compute;
using program::Memory;
using program::MemoryTag;
using program::OpId;
using program::Phase;

/// Backward GEMMs of a forward C = A·B [m×n×k]: dA = dC·Bᵀ [m×k×n] and dB = Aᵀ·dC [k×n×m].
void add_backward_gemms(const program::Gemm& f, std::vector<program::Gemm>& out) {
  out.push_back({f.m, f.k, f.n, f.batch});
  out.push_back({f.k, f.n, f.m, f.batch});
}

/// Adam step: reads gradients, fp32 master weights, m and v; writes master, m, v and the
/// training-precision weights. About 12 FLOPs per parameter; memory-bound in practice.
Compute optimizer_step(double parameters, const ModelStateBytes& state) {
  Compute c;
  c.phase = Phase::kOptimizer;
  c.layer = "optimizer";
  c.flops = 12.0 * parameters;
  c.memory_bytes = parameters * (state.gradients + 2.0 * state.optimizer + state.weights);
  return c;
}

}  // namespace

ModelStateBytes model_state_bytes(core::Precision precision) {
  const double w = core::bytes_per_element(precision);
  return ModelStateBytes{w, w, w < 4 ? 12.0 : 8.0};
}

program::Gemm scale_gemm(const workloads::GemmShape& g, std::int64_t samples) {
  const bool attention = g.name.rfind("attn_scores", 0) == 0 || g.name.rfind("attn_values", 0) == 0;
  if (attention) return {g.m, g.n, g.k, g.batch * samples};
  return {g.m * samples, g.n, g.k, g.batch};
}

program::Program lower(const Plan& plan, const workloads::ModelSpec& model, const TrainingSetup& setup) {
  if (plan.tensor_parallel != 1 || plan.pipeline_parallel != 1)
    throw core::InternalError("lowering supports data-parallel plans only (t = p = 1)");
  const auto chain = workloads::build_layer_chain(model, setup.seq_length, setup.precision);
  const ModelStateBytes state = model_state_bytes(setup.precision);
  const double parameters = chain.parameters();
  const auto n_layers = chain.layers.size();

  program::Program prog;
  program::Group dp{"dp", {}};
  for (const RankPlan& r : plan.ranks) dp.ranks.push_back(r.rank);
  prog.groups.push_back(dp);

  double max_transient = 0;
  for (const auto& l : chain.layers) max_transient = std::max(max_transient, l.transient_bytes);

  for (const RankPlan& rp : plan.ranks) {
    program::RankProgram out;
    out.rank = rp.rank;
    out.gpu = rp.gpu;
    const double largest_micro_batch =
        rp.micro_batches.empty() ? 0.0 : static_cast<double>(*std::max_element(rp.micro_batches.begin(), rp.micro_batches.end()));
    out.resident = {
        Memory{MemoryTag::kParameters, "weights", parameters * state.weights},
        Memory{MemoryTag::kGradients, "gradients", parameters * state.gradients},
        Memory{MemoryTag::kOptimizer, "optimizer_state", parameters * state.optimizer},
        Memory{MemoryTag::kWorkspace, "workspace", max_transient * largest_micro_batch},
        Memory{MemoryTag::kReserved, "reserved", setup.reserved_memory_bytes},
    };
    program::RankBuilder b(out);
    std::vector<OpId> bucket_ops;
    std::int64_t instance = 0;

    for (std::size_t mb = 0; mb < rp.micro_batches.size(); ++mb) {
      const std::int64_t n = rp.micro_batches[mb];
      const double scale = static_cast<double>(n);
      const std::string tag = "mb" + std::to_string(mb);
      const bool last = mb + 1 == rp.micro_batches.size();
      for (const auto& l : chain.layers) {
        if (l.activation_bytes > 0)
          b.alloc(Memory{MemoryTag::kActivations, l.name + "/" + tag, l.activation_bytes * scale});
        Compute c{Phase::kForward, l.name, l.forward_flops * scale, l.forward_memory_bytes * scale, {}};
        for (const auto& g : l.forward_gemms) c.gemms.push_back(scale_gemm(g, n));
        b.compute("fwd " + l.name + " " + tag, std::move(c));
      }
      double bucket_fill = 0;
      for (std::size_t i = n_layers; i-- > 0;) {
        const auto& l = chain.layers[i];
        if (l.recompute_flops > 0) {
          Compute rc{Phase::kRecompute, l.name, l.recompute_flops * scale, l.forward_memory_bytes * scale, {}};
          b.compute("recompute " + l.name + " " + tag, std::move(rc));
        }
        Compute c{Phase::kBackward, l.name, l.backward_flops * scale, l.backward_memory_bytes * scale, {}};
        for (const auto& g : l.forward_gemms) add_backward_gemms(scale_gemm(g, n), c.gemms);
        const OpId bwd = b.compute("bwd " + l.name + " " + tag, std::move(c));
        if (l.activation_bytes > 0) b.free(Memory{MemoryTag::kActivations, l.name + "/" + tag, l.activation_bytes * scale});
        if (!last || plan.data_parallel < 2) continue;
        // Gradients of this layer are final: add them to the open bucket (DDP's reducer).
        bucket_fill += l.parameters * state.gradients;
        if (bucket_fill >= plan.bucket_bytes || i == 0) {
          Collective ar;
          ar.kind = CollectiveKind::kAllReduce;
          ar.algorithm = plan.gradient_algorithm;
          ar.group = 0;
          ar.instance = instance;
          ar.bytes = bucket_fill;
          bucket_ops.push_back(b.collective("allreduce grads bucket " + std::to_string(instance), ar, {bwd}));
          ++instance;
          bucket_fill = 0;
        }
      }
    }
    b.compute("optimizer step", optimizer_step(parameters, state), bucket_ops);
    prog.ranks.push_back(std::move(out));
  }

  const double samples = static_cast<double>(setup.global_batch_size);
  prog.metadata = {{"model", model.name},
                   {"precision", core::to_string(setup.precision)},
                   {"seq_length", setup.seq_length},
                   {"global_batch_size", setup.global_batch_size},
                   {"micro_batch_size", setup.micro_batch_size},
                   {"tokens_per_iteration", samples * static_cast<double>(setup.seq_length)},
                   {"model_flops_per_iteration",
                    workloads::model_flops_per_iteration(model, setup.seq_length, samples)},
                   {"plan", plan.to_json()}};
  return prog;
}

}  // namespace frugal::policies

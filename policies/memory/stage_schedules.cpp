// schedule_rematerialization: the stage views (times by the cost model, sizes by the layer
// chain, budgets from the lowering's resident bytes) and the schedule policy's decisions.
#include "policies/memory/stage_schedules.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>

#include "policies/lowering/lowering.hpp"
#include "policies/schedule.hpp"
#include "sim/core/error.hpp"
#include "sim/core/units.hpp"
#include "sim/cost/compute_cost.hpp"

namespace frugal::policies {

int micro_batches_in_flight(const Plan& plan, int stage, int micro_batches) {
  if (micro_batches <= 0) return 0;
  int held = 0, most = 0;
  for (const ScheduleUnit& u :
       pipeline_schedule(plan.schedule, stage, plan.pipeline_parallel(), micro_batches, plan.virtual_pipeline)) {
    held += u.forward ? 1 : -1;
    most = std::max(most, held);
  }
  return most;
}

namespace {

/// Longest stage a schedule is made for (the replay model's schedules have up to n² ops).
constexpr int kMaxScheduledLayers = 4096;

/// Scan points between the even split of the memory over the micro-batches in flight and all of it.
constexpr int kBudgetSteps = 16;

/// Activation bytes a stage needs with `k` micro-batches in flight under a schedule of cost `c`:
/// the k − 1 waiting ones hold what their forward kept and one runs at its peak; interleaved
/// (micro-batches of several chunks in flight): each gets an even share, k × peak.
double activation_need(const ScheduleCost& c, int k, bool interleaved) {
  return interleaved ? k * c.peak_bytes : (k - 1) * c.forward_bytes + c.peak_bytes;
}

/// A schedule with its cost.
struct Choice {
  std::vector<RematOp> ops;
  ScheduleCost cost;
};

/// The cost of a policy's schedule, which must obey the replay model.
ScheduleCost checked_cost(const StageMemoryView& view, const std::vector<RematOp>& ops, const std::string& policy) {
  ScheduleCost c = evaluate(view.stages, ops, view.host);
  if (!c.valid) throw core::InternalError("memory policy " + policy + ": " + c.error);
  return c;
}

/// The stage's schedule from a budget-driven `memory` policy: a schedule fits when
/// activation_need ≤ activation_bytes. The policy is asked at per-micro-batch budgets from
/// activation_bytes / k up to activation_bytes; each answer, and its variants with the stages that
/// keep everything in the first forward deferred one by one (defer_keep_all, most bytes freed per
/// second of replay first), is a candidate; the fastest that fits is kept. With one micro-batch
/// in flight, or interleaving, only activation_bytes / k is asked. std::nullopt: nothing fits.
std::optional<Choice> choose(const MemoryPolicy& memory, const std::string& policy, StageMemoryView view,
                             double activation_bytes, int k, bool interleaved) {
  if (!(activation_bytes > 0)) return std::nullopt;
  const int steps = (k == 1 || interleaved) ? 0 : kBudgetSteps;
  std::optional<Choice> best;
  auto consider = [&](const std::vector<RematOp>& ops) {
    const ScheduleCost c = checked_cost(view, ops, policy);
    const bool fits = activation_need(c, k, interleaved) <= activation_bytes * (1 + 1e-12);
    if (fits && (!best || c.time_s < best->cost.time_s)) best = Choice{ops, c};
    return fits;
  };
  const std::size_t n = view.stages.size();
  for (int j = 0; j <= steps; ++j) {
    view.budget_bytes = activation_bytes / k + (steps ? (activation_bytes - activation_bytes / k) * j / steps : 0.0);
    auto ops = memory.schedule(view);
    if (!ops || consider(*ops) || steps == 0) continue;
    std::vector<std::size_t> kept_all;  // stages whose first forward keeps all, best ratio first
    for (std::size_t i = 0; i < n && i < ops->size(); ++i)
      if ((*ops)[i].keep == Keep::kAll && view.stages[i].all_bytes > view.stages[i].input_bytes) kept_all.push_back(i);
    auto ratio = [&](std::size_t i) {
      return (view.stages[i].all_bytes - view.stages[i].input_bytes) / std::max(view.stages[i].forward_s, 1e-30);
    };
    std::stable_sort(kept_all.begin(), kept_all.end(), [&](std::size_t a, std::size_t b) { return ratio(a) > ratio(b); });
    for (const std::size_t i : kept_all) {
      ops = defer_keep_all(std::move(*ops), static_cast<int>(i));
      if (consider(*ops)) break;
    }
  }
  return best;
}

}  // namespace

void schedule_rematerialization(Plan& plan, const workloads::ModelSpec& model, const platforms::Cluster& cluster,
                                const TrainingSetup& setup, const MemoryPolicy& memory) {
  if (!memory.schedules_stages()) return;
  const auto chain = workloads::build_layer_chain(model, setup.seq_length, setup.precision, plan.shard);
  const std::vector<double> resident = resident_device_bytes(plan, model, setup);
  const int p = plan.pipeline_parallel(), n_layers = static_cast<int>(chain.layers.size());
  const bool interleaved = plan.virtual_pipeline > 1;

  // Per pipeline rank: the largest micro-batch, the least memory its ranks leave to
  // activations, the most micro-batches they hold at once, the GPUs they run on.
  std::vector<std::int64_t> largest_mb(static_cast<std::size_t>(p), 0);
  std::vector<double> activation_bytes(static_cast<std::size_t>(p), std::numeric_limits<double>::infinity());
  std::vector<int> in_flight(static_cast<std::size_t>(p), 0);
  std::vector<std::map<std::string, const platforms::GpuSpec*>> gpus(static_cast<std::size_t>(p));
  // Per pipeline rank: the least copy bandwidth to host memory and host memory per GPU, and
  // whether a GPU runs one op at a time.
  std::vector<HostLink> host(static_cast<std::size_t>(p));
  for (const RankPlan& rp : plan.ranks) {
    const auto s = static_cast<std::size_t>(plan.stage_of(rp.rank));
    const platforms::GpuSpec& gpu = cluster.gpu_spec(rp.gpu);
    const platforms::NodeType& node = cluster.type_of_gpu(rp.gpu);
    const double gpus_on_node = std::max(1, node.gpus_per_node);
    host[s].bandwidth_Bps = std::min({host[s].bandwidth_Bps, node.host_link.bandwidth_bytes_per_s,
                                      node.host_side_bandwidth_bytes_per_s() / gpus_on_node});
    host[s].capacity_bytes = std::min(host[s].capacity_bytes, node.host_memory_bytes / gpus_on_node);
    host[s].serial = host[s].serial || gpu.serial_streams;
    gpus[s][gpu.name] = &gpu;
    for (const auto mb : rp.micro_batches) largest_mb[s] = std::max(largest_mb[s], mb);
    in_flight[s] = std::max(in_flight[s], micro_batches_in_flight(plan, static_cast<int>(s), static_cast<int>(rp.micro_batches.size())));
    activation_bytes[s] = std::min(activation_bytes[s], gpu.memory_bytes - resident[static_cast<std::size_t>(rp.rank.value)]);
  }

  std::ostringstream why;
  // Per pipeline rank: the activation bytes of the least-memory schedules (budget-driven policies)
  // or of the policy's own (the others).
  std::vector<double> need_per_stage(static_cast<std::size_t>(p), 0.0);
  plan.memory.schedules.assign(plan.stage_first_layer.size(), {});
  for (std::size_t vs = 0; vs < plan.stage_first_layer.size(); ++vs) {
    const auto [first, end] = stage_layers(plan, static_cast<int>(vs), n_layers);
    const auto s = vs % static_cast<std::size_t>(p);
    const std::int64_t b = std::max<std::int64_t>(1, largest_mb[s]);
    StageMemoryView view;
    view.virtual_stage = static_cast<int>(vs);
    for (int l = first; l < end; ++l) {
      const workloads::Layer& layer = chain.layers[static_cast<std::size_t>(l)];
      ChainStage stage{0, 0, layer.input_bytes * static_cast<double>(b), layer.activation_bytes * static_cast<double>(b),
                       layer.kind == workloads::LayerKind::kTransformer};
      for (const auto& [name, gpu] : gpus[s]) {
        const cost::LayerPassSeconds t = cost::layer_pass_seconds(layer, b, *gpu, setup.precision);
        stage.forward_s = std::max(stage.forward_s, t.forward_s);
        stage.backward_s = std::max(stage.backward_s, t.backward_s);
      }
      view.stages.push_back(stage);
    }
    const int n = end - first, k = std::max(1, in_flight[s]);
    view.host = HostLink{host[s].bandwidth_Bps, host[s].capacity_bytes / k, host[s].serial};
    if (n > kMaxScheduledLayers)
      throw core::ParamError("impl", "a pipeline stage of " + std::to_string(n) + " layers: rematerialization schedules "
                                     "handle at most " + std::to_string(kMaxScheduledLayers) + " layers per stage");
    const double budget = std::isfinite(activation_bytes[s]) ? activation_bytes[s] : 0.0;
    why << (vs ? "; " : "") << "stage " << vs << ": ";
    std::optional<Choice> chosen;
    if (memory.budget_driven()) {
      chosen = choose(memory, plan.memory.policy, view, budget, k, interleaved);
      // The schedule that needs least: least_memory_schedule, its last stage deferred when
      // micro-batches wait in a pipeline (they then hold only the two stages' inputs).
      std::vector<RematOp> least = least_memory_schedule(n);
      if (k > 1 && view.stages.back().all_bytes > view.stages.back().input_bytes) least = defer_keep_all(least, n - 1);
      Choice fallback{least, checked_cost(view, least, plan.memory.policy)};
      need_per_stage[s] = std::max(need_per_stage[s], activation_need(fallback.cost, k, interleaved));
      if (!chosen) {
        why << (budget > 0 ? "nothing fits " + core::format_bytes(budget) + " for " + std::to_string(k) + " micro-batch(es) in flight"
                           : std::string("no memory left beside the resident state"))
            << ": least-memory schedule, ";
        chosen = std::move(fallback);
      }
    } else {
      // The schedule whatever the memory: its own need is what it takes.
      view.budget_bytes = budget / k;
      std::optional<std::vector<RematOp>> ops = memory.schedule(view);
      if (!ops) throw core::InternalError("memory policy " + plan.memory.policy + " made no schedule for stage " + std::to_string(vs));
      chosen = Choice{*ops, checked_cost(view, *ops, plan.memory.policy)};
      need_per_stage[s] = std::max(need_per_stage[s], activation_need(chosen->cost, k, interleaved));
    }
    const ScheduleCost& cost = chosen->cost;
    double forward = 0;
    for (const ChainStage& c : view.stages) forward += c.forward_s;
    char figures[200];
    std::snprintf(figures, sizeof figures, "%.1f %% of the forward replayed, %s per micro-batch at its peak, %s while waiting",
                  forward > 0 ? 100 * cost.recompute_s / forward : 0.0, core::format_bytes(cost.peak_bytes).c_str(),
                  core::format_bytes(cost.forward_bytes).c_str());
    why << figures;
    if (cost.offloaded_bytes > 0) {
      std::snprintf(figures, sizeof figures, ", %s offloaded to host memory (%.3g ms of copies exposed)",
                    core::format_bytes(cost.offloaded_bytes).c_str(), 1e3 * cost.exposed_copy_s);
      why << figures;
    }
    // Layers whose forward keeps everything in host memory: the offload pass copies them.
    for (std::size_t i = 0; i < chosen->ops.size() && i < view.stages.size(); ++i) {
      if (chosen->ops[i].keep != Keep::kHost) continue;
      const auto transformer = static_cast<std::size_t>(first) + i - 1;  // chain layer l is transformer layer l − 1
      if (plan.memory.offload.size() <= transformer) plan.memory.offload.resize(static_cast<std::size_t>(model.num_hidden_layers), false);
      plan.memory.offload.at(transformer) = true;
    }
    plan.memory.schedules[vs] = std::move(chosen->ops);
  }
  plan.memory.min_budget_bytes = 0;
  for (const RankPlan& rp : plan.ranks)
    plan.memory.min_budget_bytes =
        std::max(plan.memory.min_budget_bytes, resident[static_cast<std::size_t>(rp.rank.value)] +
                                                   need_per_stage[static_cast<std::size_t>(plan.stage_of(rp.rank))]);
  plan.memory.reason += " (" + why.str() + "; least memory per GPU of these schedules: " + core::format_bytes(plan.memory.min_budget_bytes) + ")";
}

}  // namespace frugal::policies

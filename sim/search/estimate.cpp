// Closed-form estimate of one iteration of a plan (see estimate.hpp).
#include "sim/search/estimate.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "policies/fp8_scaling.hpp"
#include "policies/lowering/lowering.hpp"
#include "policies/memory/stage_schedules.hpp"
#include "policies/model_state.hpp"
#include "sim/cost/collective_algorithms.hpp"
#include "sim/cost/compute_cost.hpp"
#include "sim/cost/path.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal::search {
namespace {

using policies::Dim;
using program::CollectiveAlgorithm;
using program::CollectiveKind;

std::vector<int> gpus_of(const policies::Plan& plan, const std::vector<core::RankId>& ranks) {
  std::vector<int> out;
  out.reserve(ranks.size());
  for (const core::RankId r : ranks) out.push_back(plan.ranks[static_cast<std::size_t>(r.value)].gpu);
  return out;
}

/// Uncontended closed form of one collective over `gpus` (ring order), with the cluster's
/// per-collective overhead.
double collective_s(const platforms::Cluster& cluster, CollectiveKind kind, CollectiveAlgorithm algorithm, double bytes,
                    const std::vector<int>& gpus) {
  if (gpus.size() < 2 || bytes <= 0) return 0;
  const cost::GroupShape shape = cost::group_shape(cluster, gpus);
  return cost::collective_time_s(kind, algorithm, bytes, shape, shape.intra, shape.inter,
                                 cluster.network.collective_overhead(static_cast<int>(kind)));
}

}  // namespace

Estimate estimate_iteration(const policies::Plan& plan, const workloads::ModelSpec& model,
                            const platforms::Cluster& cluster, const policies::TrainingSetup& setup) {
  const auto chain = workloads::build_layer_chain(model, setup.seq_length, setup.precision, plan.shard);
  const int p = plan.pipeline_parallel(), v = plan.virtual_pipeline;
  const double element = core::stored_bytes_per_element(setup.precision);
  const auto state = policies::model_state_bytes(setup.precision, plan.state_convention);
  const double replicas = plan.gradient_replicas();
  const double hidden_bytes = static_cast<double>(setup.seq_length) / plan.context_parallel() *
                              static_cast<double>(model.hidden_size) * element;  // per sample

  // Per (GPU type, pipeline rank, micro-batch size): compute per micro-batch, parameters,
  // activations and transient memory of the rank's layers.
  struct StageCost {
    double compute_s = 0, backward_s = 0, parameters = 0, activation_bytes = 0, transient_bytes = 0;
    double largest_layer_parameters = 0;  // ZeRO-3 gathers one layer at a time
    int tensor_collectives = 0;  // all-reduce equivalents of s·b·h elements per micro-batch
    int layer_collectives = 0;   // of them, the transformer layers' (what tp_comm_overlap overlaps)
    int split_layers = 0;        // layers whose backward reduces beside its weight gradients
    double weight_gradient_s = 0;  // their column-parallel weight gradients, per micro-batch
    double split_rest_s = 0;       // the rest of their backward, per micro-batch
    int kv_gathers = 0;            // context parallelism: K/V all-gathers per micro-batch (forward, replay)
    int kv_reductions = 0;         // and K/V gradient reduce-scatters (backward)
    double kv_bytes = 0;           // one layer's K/V of all c ranks' tokens, per sample
    int fp8_gemms = 0;             // fp8 GEMMs of the rank's layers (each records amaxes)
  };
  std::map<std::tuple<const platforms::GpuSpec*, int, std::int64_t>, StageCost> stage_costs;
  const auto stage_cost = [&](const platforms::GpuSpec& gpu, int stage, std::int64_t b) -> const StageCost& {
    auto [it, fresh] = stage_costs.try_emplace({&gpu, stage, b});
    if (!fresh) return it->second;
    StageCost& c = it->second;
    for (const int l : policies::pipeline_rank_layers(plan, stage, static_cast<int>(chain.layers.size()))) {
      const workloads::Layer& layer = chain.layers[static_cast<std::size_t>(l)];
      c.compute_s += cost::layer_seconds(layer, b, gpu, setup.precision);
      const double backward_s = cost::layer_pass_seconds(layer, b, gpu, setup.precision).backward_s;
      c.backward_s += backward_s;
      c.parameters += layer.parameters;
      c.fp8_gemms += policies::fp8_gemms(layer);
      c.largest_layer_parameters = std::max(c.largest_layer_parameters, layer.parameters);
      c.activation_bytes += layer.activation_bytes * static_cast<double>(b);
      c.transient_bytes = std::max(c.transient_bytes, layer.transient_bytes * static_cast<double>(b));
      if (layer.kind == workloads::LayerKind::kTransformer) {
        // Forward, backward (and replay); sequence parallelism's backward re-gathers the two
        // column-parallel inputs: two all-gathers, one all-reduce's worth.
        const int collectives =
            (layer.recompute == workloads::Recompute::kFull ? 6 : 4) + (plan.shard.sequence_parallel ? 1 : 0);
        c.tensor_collectives += collectives;
        c.layer_collectives += collectives;
        c.kv_gathers += layer.recompute == workloads::Recompute::kFull ? 2 : 1;
        ++c.kv_reductions;
        c.kv_bytes = layer.kv_bytes * plan.context_parallel();  // the same for every transformer layer
        if (plan.splits_weight_gradients(layer)) {
          ++c.split_layers;
          const double weight_gradient_s = cost::compute_seconds(
              cost::split_weight_gradients(layer, cost::backward_op(layer, b)).weight_gradients, gpu, setup.precision);
          c.weight_gradient_s += weight_gradient_s;
          c.split_rest_s += std::max(0.0, backward_s - weight_gradient_s);
        }
      } else
        c.tensor_collectives += 1;  // the vocabulary-parallel embedding's and head's all-reduce
    }
    return c;
  };

  Estimate e;
  std::map<int, double> replica_time;  // data-parallel index → pipeline time
  std::map<std::pair<int, int>, double> amax_s;  // (stage, data index or −1) → fp8 amax reductions per micro-batch
  double sync_s = 0, busiest_compute_s = 0;
  std::vector<double> rank_compute_s(plan.ranks.size(), 0.0);
  for (const policies::RankPlan& r : plan.ranks) {
    const policies::Coord at = plan.coord(r.rank);
    const int stage = at[Dim::kPipeline];
    const platforms::GpuSpec& gpu = cluster.gpu_spec(r.gpu);
    const auto m = static_cast<std::int64_t>(r.micro_batches.size());
    const std::int64_t b = m > 0 ? *std::max_element(r.micro_batches.begin(), r.micro_batches.end()) : 0;
    if (m == 0) continue;
    const StageCost& c = stage_cost(gpu, stage, b);
    // Compute that a collective overlaps runs 1 + s times as long meanwhile: s/(1 + s) of the
    // overlapped collective's time comes on top (the closed form of one compute op beside it).
    const double overlap_stretch = gpu.overlap_slowdown / (1 + gpu.overlap_slowdown);

    // Per micro-batch: compute, tensor-parallel collectives, pipeline transfers.
    double per_micro_batch_s = c.compute_s;
    if (plan.tensor_parallel() > 1) {
      // Overlapped (tp_comm_overlap): only each reduce-scatter's last chunk, 1/t, is exposed.
      const auto tp = gpus_of(plan, plan.layout.group({Dim::kTensor}, r.rank));
      const double bytes = hidden_bytes * static_cast<double>(b);
      const int overlapped = plan.tp_comm_overlap ? c.layer_collectives : 0;
      const double all_reduce_s = collective_s(cluster, CollectiveKind::kAllReduce, CollectiveAlgorithm::kAuto, bytes, tp);
      const double last_chunk_s =
          collective_s(cluster, CollectiveKind::kReduceScatter, CollectiveAlgorithm::kRing, bytes / plan.tensor_parallel(), tp);
      per_micro_batch_s += (c.tensor_collectives - overlapped) * all_reduce_s + overlapped * last_chunk_s;
      if (overlapped > 0 && overlap_stretch > 0)  // the hidden part of each, beside the layer's GEMMs
        per_micro_batch_s +=
            overlap_stretch * overlapped *
            std::max(0.0, collective_s(cluster, CollectiveKind::kReduceScatter, CollectiveAlgorithm::kRing, bytes, tp) -
                              last_chunk_s);
      if (c.split_layers > 0) {
        // Asynchronous backward: a layer's two reductions beside its weight gradients; with
        // sequence parallelism its two output-gradient all-gathers (one all-reduce's worth) before,
        // and its re-gathers (one more) beside the rest of the backward.
        const double wgrad_s = c.weight_gradient_s / c.split_layers;
        const double rest_s = c.split_rest_s / c.split_layers;
        const double exposed_s = plan.shard.sequence_parallel ? all_reduce_s + std::max(0.0, all_reduce_s - rest_s) +
                                                                    std::max(0.0, all_reduce_s - wgrad_s)
                                                              : std::max(0.0, 2 * all_reduce_s - wgrad_s);
        per_micro_batch_s += c.split_layers * (exposed_s - (plan.shard.sequence_parallel ? 3 : 2) * all_reduce_s);
      }
    }
    if (plan.context_parallel() > 1) {
      // Each gather waits for the previous compute op and the layer for it; the next compute op
      // waits for each reduce-scatter: all exposed.
      const auto cp = gpus_of(plan, plan.layout.group({Dim::kContext}, r.rank));
      const double bytes = c.kv_bytes * static_cast<double>(b);
      per_micro_batch_s +=
          c.kv_gathers * collective_s(cluster, CollectiveKind::kAllGather, CollectiveAlgorithm::kRing, bytes, cp) +
          c.kv_reductions * collective_s(cluster, CollectiveKind::kReduceScatter, CollectiveAlgorithm::kRing, bytes, cp);
    }
    if (c.fp8_gemms > 0 && setup.precision == core::Precision::kFp8 &&
        setup.fp8_amax_reduction != policies::AmaxReduction::kNone) {
      // fp8: each chunk's forward and backward end with a blocking amax all-reduce over the stage
      // (or its tensor ranks: one group per data index), priced once per group.
      const int group = setup.fp8_amax_reduction == policies::AmaxReduction::kTensor ? at[Dim::kData] : -1;
      const auto [it, fresh] = amax_s.try_emplace({stage, group}, 0.0);
      if (fresh) {
        const auto amax = gpus_of(plan, policies::amax_reduction_group(plan, setup, r.rank));
        const int gemms = c.fp8_gemms / v;  // per chunk (the stage's layers split evenly)
        it->second = v * (collective_s(cluster, CollectiveKind::kAllReduce, CollectiveAlgorithm::kAuto,
                                       policies::amax_bytes(gemms, true), amax) +
                          collective_s(cluster, CollectiveKind::kAllReduce, CollectiveAlgorithm::kAuto,
                                       policies::amax_bytes(gemms, false), amax));
      }
      per_micro_batch_s += it->second;
    }
    double transfers_s = 0;  // a micro-batch's 2v receives (and their gathers)
    if (p > 1) {
      policies::Coord next = at;
      next[Dim::kPipeline] = (stage + 1) % p;
      const int peer = plan.ranks[static_cast<std::size_t>(plan.layout.rank(next).value)].gpu;
      const bool sliced = plan.shard.sequence_parallel || plan.scatters_pipeline_tensors();
      const double bytes = hidden_bytes * static_cast<double>(b);
      transfers_s += 2.0 * v * cost::gpu_path(cluster, r.gpu, peer).seconds(sliced ? bytes / plan.tensor_parallel() : bytes);
      if (plan.scatters_pipeline_tensors())  // the receiver gathers the slices
        transfers_s += 2.0 * v * collective_s(cluster, CollectiveKind::kAllGather, CollectiveAlgorithm::kRing, bytes,
                                              gpus_of(plan, plan.layout.group({Dim::kTensor}, r.rank)));
    }
    // Receives posted ahead (overlap_p2p_comm) run during the unit in between: in the steady
    // state only what outlasts the micro-batch's compute is exposed; the fill pays them whole.
    const double steady_transfers_s = plan.overlap_p2p_comm ? std::max(0.0, transfers_s - c.compute_s) : transfers_s;
    const double pipeline_s = static_cast<double>(m) * (per_micro_batch_s + steady_transfers_s) +
                              static_cast<double>(p - 1) / v * (per_micro_batch_s + transfers_s);
    double& replica = replica_time[at[Dim::kData]];
    replica = std::max(replica, pipeline_s);

    // Data parallelism and the optimizer.
    const auto dp = gpus_of(plan, plan.layout.group({Dim::kData, Dim::kContext}, r.rank));
    const double gradient_bytes = c.parameters * state.gradients, weight_bytes = c.parameters * state.weights;
    double exposed_s = 0, overlapped_s = 0;  // the data-parallel collectives' time beyond / beside the compute
    if (dp.size() > 1) {
      const double reduce_s = collective_s(
          cluster, plan.zero_stage >= 2 ? CollectiveKind::kReduceScatter : CollectiveKind::kAllReduce,
          plan.zero_stage >= 2 ? CollectiveAlgorithm::kRing : plan.gradient_algorithm, gradient_bytes, dp);
      if (plan.overlap_grad_reduce) {
        const double last_bucket_s = reduce_s * std::min(1.0, plan.bucket_bytes / std::max(gradient_bytes, 1.0));
        const double reduce_exposed_s = std::max(last_bucket_s, reduce_s - c.backward_s);
        exposed_s += reduce_exposed_s;
        overlapped_s += reduce_s - reduce_exposed_s;
      } else {
        exposed_s += reduce_s;
      }
      if (plan.zero_stage == 1 || plan.zero_stage == 2)
        (plan.overlap_param_gather ? overlapped_s : exposed_s) +=
            collective_s(cluster, CollectiveKind::kAllGather, CollectiveAlgorithm::kRing, weight_bytes, dp);
      if (plan.zero_stage == 3) {
        const double gathers_s =
            2.0 * static_cast<double>(m) * collective_s(cluster, CollectiveKind::kAllGather, CollectiveAlgorithm::kRing, weight_bytes, dp);
        // Without prefetch (prefetch_layers 0) every gather waits for the previous compute.
        exposed_s += plan.prefetch_layers == 0 ? gathers_s : std::max(0.0, gathers_s - pipeline_s);
      }
    }
    const double optimizer_s =
        policies::optimizer_step_bytes(setup.precision, state, c.parameters, plan.zero_stage, plan.gradient_replicas()) /
        gpu.hbm_bandwidth_bytes_per_s;
    sync_s = std::max(sync_s, exposed_s + overlap_stretch * overlapped_s + optimizer_s);
    rank_compute_s[static_cast<std::size_t>(r.rank.value)] = static_cast<double>(m) * c.compute_s + optimizer_s;
    busiest_compute_s = std::max(busiest_compute_s, rank_compute_s[static_cast<std::size_t>(r.rank.value)]);

    // Memory: resident state, the activations of the units in flight (each a chunk's share), the
    // largest transient, ZeRO-3's gathered weights (the layer computing and the prefetched ones),
    // the reserved part.
    const auto resident = policies::sharded_model_state(c.parameters, state, plan.zero_stage, plan.gradient_replicas());
    const double in_flight = policies::micro_batches_in_flight(plan, stage, static_cast<int>(m));
    const double gathered = plan.zero_stage >= 3 && replicas >= 2
                                ? (1.0 + plan.prefetch_layers) * c.largest_layer_parameters * state.weights
                                : 0.0;
    const double peak = resident.total_bytes() + in_flight * c.activation_bytes / v + c.transient_bytes + gathered +
                        setup.reserved_memory_bytes;
    e.peak_memory_bytes = std::max(e.peak_memory_bytes, peak);
    if (peak > gpu.memory_bytes) e.fits = false;
  }
  double slowest_replica_s = 0;
  for (const auto& [index, t] : replica_time) slowest_replica_s = std::max(slowest_replica_s, t);
  e.iteration_time_s = slowest_replica_s + sync_s;
  e.compute_s = busiest_compute_s;
  e.exposed_communication_s = std::max(0.0, e.iteration_time_s - busiest_compute_s);
  const double tokens = static_cast<double>(setup.global_batch_size) * static_cast<double>(setup.seq_length);
  e.tokens_per_s = e.iteration_time_s > 0 ? tokens / e.iteration_time_s : 0;
  double energy_j = 0, cost = 0;
  for (const policies::RankPlan& r : plan.ranks) {
    const platforms::GpuSpec& gpu = cluster.gpu_spec(r.gpu);
    const double busy = std::min(rank_compute_s[static_cast<std::size_t>(r.rank.value)], e.iteration_time_s);
    energy_j += gpu.idle_power_w * e.iteration_time_s + (gpu.max_power_w - gpu.idle_power_w) * busy;
    cost += cluster.type_of_gpu(r.gpu).billed_price_per_gpu_hour() / 3600.0 * e.iteration_time_s;
  }
  e.energy_j_per_token = tokens > 0 ? energy_j / tokens : 0;
  e.cost_per_token = tokens > 0 ? cost / tokens : 0;
  return e;
}

}  // namespace frugal::search

// The layout search's closed-form estimate (sim/search/estimate.hpp) against its own formulas
// at 1e-9: one GPU (micro-batches × the layers' cost + the optimizer's pass over the state), a
// two-stage pipeline ((m + p − 1) × the slowest stage, activations sent both ways), and the
// memory of 1F1B (the first stage holds p micro-batches), context parallelism's K/V gathers and
// gradient reduce-scatters, the compute slowed by the collectives it overlaps, fp8's amax
// all-reduces.
#include <gtest/gtest.h>

#include "policies/model_state.hpp"
#include "policies/parallelism/parallelism_policy.hpp"
#include "sim/cost/collective_algorithms.hpp"
#include "sim/cost/compute_cost.hpp"
#include "sim/cost/path.hpp"
#include "sim/search/estimate.hpp"
#include "tests/integration/campaign_support.hpp"
#include "workloads/layer_chain.hpp"

namespace {

using namespace frugal;
using frugal::campaign_test::small_cluster;

platforms::Cluster cluster(int gpus) {
  return platforms::read_cluster(small_cluster(1, gpus), "<test>", "", platforms::GpuCatalogue::shipped());
}

policies::Plan megatron(const workloads::ModelSpec& model, const platforms::Cluster& c, const policies::TrainingSetup& setup,
                        int p) {
  const nlohmann::json spec = {{"impl", "megatron"}, {"pipeline_model_parallel_size", p}};
  return policies::parallelism_policies().create(spec, "<test>", "/parallelism")->plan(model, c, setup);
}

policies::TrainingSetup setup(std::int64_t batch) {
  policies::TrainingSetup s;
  s.global_batch_size = batch;
  s.micro_batch_size = 2;
  s.seq_length = 512;
  s.precision = core::Precision::kBf16;
  return s;
}

}  // namespace

TEST(SearchEstimate, OneGpuIsMicroBatchesTimesTheChainPlusTheOptimizer) {
  const auto model = workloads::load_model("gpt3-125m");
  const auto c = cluster(1);
  const auto s = setup(8);
  const auto plan = megatron(model, c, s, 1);
  const auto e = search::estimate_iteration(plan, model, c, s);
  const auto chain = workloads::build_layer_chain(model, s.seq_length, s.precision, plan.shard);
  const auto& gpu = c.gpu_spec(0);
  double per_micro_batch = 0, parameters = 0, activations = 0, transient = 0;
  for (const auto& l : chain.layers) {
    per_micro_batch += cost::layer_seconds(l, 2, gpu, s.precision);
    parameters += l.parameters;
    activations += l.activation_bytes * 2;
    transient = std::max(transient, l.transient_bytes * 2);
  }
  const auto state = policies::model_state_bytes(s.precision, plan.state_convention);
  const double optimizer = policies::optimizer_step_bytes(s.precision, state, parameters, plan.zero_stage, plan.gradient_replicas()) / gpu.hbm_bandwidth_bytes_per_s;
  EXPECT_NEAR(e.iteration_time_s, 4 * per_micro_batch + optimizer, 1e-9 * e.iteration_time_s);
  EXPECT_NEAR(e.tokens_per_s, 8.0 * 512 / e.iteration_time_s, 1e-9 * e.tokens_per_s);
  // One micro-batch in flight.
  EXPECT_NEAR(e.peak_memory_bytes, parameters * state.total() + activations + transient + s.reserved_memory_bytes,
              1e-9 * e.peak_memory_bytes);
  EXPECT_TRUE(e.fits);
  // Energy: idle power all along, the rest while computing; cost: the price over the iteration.
  const double tokens = 8.0 * 512;
  EXPECT_NEAR(e.energy_j_per_token,
              (gpu.idle_power_w * e.iteration_time_s + (gpu.max_power_w - gpu.idle_power_w) * e.iteration_time_s) / tokens,
              1e-9 * e.energy_j_per_token);
  EXPECT_NEAR(e.cost_per_token, 4.0 / 3600 * e.iteration_time_s / tokens, 1e-9 * e.cost_per_token);
}

TEST(SearchEstimate, PipelineIsFillPlusMicroBatchesOfTheSlowestStage) {
  const auto model = workloads::load_model("gpt3-125m");
  const auto c = cluster(2);
  const auto s = setup(16);  // 8 micro-batches of 2
  const auto plan = megatron(model, c, s, 2);
  const auto e = search::estimate_iteration(plan, model, c, s);
  const auto chain = workloads::build_layer_chain(model, s.seq_length, s.precision, plan.shard);
  const auto& gpu = c.gpu_spec(0);
  const double hop = cost::gpu_path(c, 0, 1).seconds(512.0 * model.hidden_size * 2 * 2);
  const auto state = policies::model_state_bytes(s.precision, plan.state_convention);
  double slowest = 0, sync = 0, first_stage_bytes = 0;
  for (int stage = 0; stage < 2; ++stage) {
    const int first = plan.stage_first_layer[static_cast<std::size_t>(stage)];
    const int end = stage == 0 ? plan.stage_first_layer[1] : static_cast<int>(chain.layers.size());
    double t = 2 * hop, parameters = 0, activations = 0, transient = 0;
    for (int l = first; l < end; ++l) {
      t += cost::layer_seconds(chain.layers[static_cast<std::size_t>(l)], 2, gpu, s.precision);
      parameters += chain.layers[static_cast<std::size_t>(l)].parameters;
      activations += chain.layers[static_cast<std::size_t>(l)].activation_bytes * 2;
      transient = std::max(transient, chain.layers[static_cast<std::size_t>(l)].transient_bytes * 2);
    }
    slowest = std::max(slowest, t);
    sync = std::max(sync, policies::optimizer_step_bytes(s.precision, state, parameters, plan.zero_stage, plan.gradient_replicas()) / gpu.hbm_bandwidth_bytes_per_s);
    // 1F1B: stage 0 holds p = 2 micro-batches, stage 1 one.
    const double held = stage == 0 ? 2 : 1;
    first_stage_bytes = std::max(first_stage_bytes, parameters * state.total() + held * activations + transient + s.reserved_memory_bytes);
  }
  EXPECT_NEAR(e.iteration_time_s, (8 + 1) * slowest + sync, 1e-9 * e.iteration_time_s);
  EXPECT_NEAR(e.peak_memory_bytes, first_stage_bytes, 1e-9 * e.peak_memory_bytes);
}

TEST(SearchEstimate, ZeroThreeHoldsTheGatheredLayerAndItsPrefetchWindow) {
  // Two replicas, ZeRO-3: beside the sharded state, the largest layer's gathered weights, once for
  // the layer computing and once per layer of prefetch.
  const auto model = workloads::load_model("gpt3-125m");
  const auto c = cluster(2);
  const auto s = setup(8);
  const auto peak = [&](int zero_stage, int prefetch_layers) {
    const nlohmann::json spec = {{"impl", "megatron"}, {"zero_stage", zero_stage}, {"prefetch_layers", prefetch_layers}};
    const auto plan = policies::parallelism_policies().create(spec, "<test>", "/parallelism")->plan(model, c, s);
    return search::estimate_iteration(plan, model, c, s).peak_memory_bytes;
  };
  const auto plan = megatron(model, c, s, 1);
  const auto chain = workloads::build_layer_chain(model, s.seq_length, s.precision, plan.shard);
  double parameters = 0, largest = 0;
  for (const auto& l : chain.layers) {
    parameters += l.parameters;
    largest = std::max(largest, l.parameters);
  }
  const auto state = policies::model_state_bytes(s.precision, plan.state_convention);
  const auto sharded = [&](int stage) { return policies::sharded_model_state(parameters, state, stage, 2).total_bytes(); };
  // ZeRO-2 → ZeRO-3: half the weights go, one gathered layer comes (prefetch_layers 0).
  EXPECT_NEAR(peak(3, 0) - peak(2, 1), sharded(3) - sharded(2) + largest * state.weights, 1e-9 * peak(2, 1));
  EXPECT_NEAR(peak(3, 2) - peak(3, 0), 2 * largest * state.weights, 1e-9 * peak(3, 0));
}

TEST(SearchEstimate, ContextParallelismExposesEachLayersKeyValueGatherAndReduction) {
  // c = 2 on two GPUs: every micro-batch pays, per transformer layer, the all-gather of K and V
  // of both ranks' tokens and the reduce-scatter of their gradients (ring, over the context
  // group); the gradients of the two ranks (one data × context group) are all-reduced after the
  // backward (overlap_grad_reduce off).
  const auto model = workloads::load_model("gpt3-125m");
  const auto c = cluster(2);
  const auto s = setup(8);  // one replica: 4 micro-batches of 2
  const nlohmann::json spec = {{"impl", "megatron"}, {"context_parallel_size", 2}, {"overlap_grad_reduce", false}};
  const auto plan = policies::parallelism_policies().create(spec, "<test>", "/parallelism")->plan(model, c, s);
  ASSERT_EQ(plan.context_parallel(), 2);
  const auto e = search::estimate_iteration(plan, model, c, s);
  const auto chain = workloads::build_layer_chain(model, s.seq_length, s.precision, plan.shard);
  const auto& gpu = c.gpu_spec(0);
  const cost::GroupShape pair = cost::group_shape(c, {0, 1});
  const auto collective = [&](program::CollectiveKind kind, program::CollectiveAlgorithm algorithm, double bytes) {
    return cost::collective_time_s(kind, algorithm, bytes, pair, pair.intra, pair.inter,
                                   c.network.collective_overhead(static_cast<int>(kind)));
  };
  double per_micro_batch = 0, parameters = 0;
  int layers = 0;
  for (const auto& l : chain.layers) {
    per_micro_batch += cost::layer_seconds(l, 2, gpu, s.precision);
    parameters += l.parameters;
    if (l.kind != workloads::LayerKind::kTransformer) continue;
    ++layers;
    const double kv = l.kv_bytes * 2 * 2;  // c ranks' tokens, 2 samples
    ASSERT_GT(kv, 0);
    per_micro_batch += collective(program::CollectiveKind::kAllGather, program::CollectiveAlgorithm::kRing, kv) +
                       collective(program::CollectiveKind::kReduceScatter, program::CollectiveAlgorithm::kRing, kv);
  }
  EXPECT_EQ(layers, model.num_hidden_layers);
  const auto state = policies::model_state_bytes(s.precision, plan.state_convention);
  const double sync =
      collective(program::CollectiveKind::kAllReduce, plan.gradient_algorithm, parameters * state.gradients) +
      policies::optimizer_step_bytes(s.precision, state, parameters, plan.zero_stage, plan.gradient_replicas()) /
          gpu.hbm_bandwidth_bytes_per_s;
  EXPECT_NEAR(e.iteration_time_s, 4 * per_micro_batch + sync, 1e-9 * e.iteration_time_s);
}

TEST(SearchEstimate, ReceivesPostedAheadHideTheSteadyStateTransfersBehindTheCompute) {
  // p = 2, v = 2, 8 micro-batches: with overlap_p2p_comm each steady-state micro-batch's 2v
  // transfers (far shorter than its compute) are hidden; the fill's (p − 1)/v stay.
  const auto model = workloads::load_model("gpt3-125m");
  const auto c = cluster(2);
  const auto s = setup(16);
  const auto estimate = [&](bool overlap) {
    const nlohmann::json spec = {{"impl", "megatron"}, {"pipeline_model_parallel_size", 2},
                                 {"virtual_pipeline_model_parallel_size", 2}, {"overlap_p2p_comm", overlap}};
    const auto plan = policies::parallelism_policies().create(spec, "<test>", "/parallelism")->plan(model, c, s);
    EXPECT_EQ(plan.overlap_p2p_comm, overlap);
    return search::estimate_iteration(plan, model, c, s).iteration_time_s;
  };
  const double hop = cost::gpu_path(c, 0, 1).seconds(512.0 * model.hidden_size * 2 * 2);
  const double off = estimate(false), on = estimate(true);
  EXPECT_NEAR(off - on, 8 * 2 * 2 * hop, 1e-9 * off);
}

TEST(SearchEstimate, ACollectiveBesideTheComputeSlowsItByTheGpusOverlapSlowdown) {
  // Two data-parallel ranks with the distributed optimizer: its parameter all-gather (X) is
  // exposed whole without overlap_param_gather; with it, it runs beside the compute, which takes
  // s/(1 + s)·X longer on a GPU with overlap_slowdown s (with s = 0, X is saved whole). So the
  // saving is X/(1 + s).
  const auto model = workloads::load_model("gpt3-125m");
  const auto s = setup(8);
  const auto saving = [&](double slowdown) {
    auto c = cluster(2);
    for (auto& type : c.node_types) type.gpu.overlap_slowdown = slowdown;
    const auto estimate = [&](bool overlap) {
      const nlohmann::json spec = {{"impl", "megatron"}, {"zero_stage", 1}, {"overlap_param_gather", overlap}};
      const auto plan = policies::parallelism_policies().create(spec, "<test>", "/parallelism")->plan(model, c, s);
      return search::estimate_iteration(plan, model, c, s).iteration_time_s;
    };
    return estimate(false) - estimate(true);
  };
  const double free = saving(0), slowed = saving(0.25);
  EXPECT_GT(free, 0);
  EXPECT_NEAR(free / slowed, 1.25, 1e-9);
}

TEST(SearchEstimate, Fp8ReducesItsAmaxesAfterEveryForwardAndBackwardOverTheStage) {
  // Two data-parallel ranks, fp8: every micro-batch's forward and backward end with a blocking
  // all-reduce over both ranks of 4 B per tensor of GPT-3 125M's 12 layers × 4 fp8 GEMMs (3
  // tensors each forward, 2 backward); 2 micro-batches per replica. Without reduction, none.
  const auto model = workloads::load_model("gpt3-125m");
  auto spec = small_cluster(1, 2);
  spec["node_types"]["n"]["gpu"] = "H100-SXM";
  const auto c = platforms::read_cluster(spec, "<test>", "", platforms::GpuCatalogue::shipped());
  auto s = setup(8);
  s.precision = core::Precision::kFp8;
  const auto estimate = [&](policies::AmaxReduction reduction) {
    s.fp8_amax_reduction = reduction;
    const auto plan = megatron(model, c, s, 1);
    return search::estimate_iteration(plan, model, c, s).iteration_time_s;
  };
  const auto shape = cost::group_shape(c, {0, 1});
  const auto all_reduce = [&](double bytes) {
    return cost::collective_time_s(program::CollectiveKind::kAllReduce, program::CollectiveAlgorithm::kAuto, bytes, shape,
                                   shape.intra, shape.inter,
                                   c.network.collective_overhead(static_cast<int>(program::CollectiveKind::kAllReduce)));
  };
  const double reduced = estimate(policies::AmaxReduction::kData), alone = estimate(policies::AmaxReduction::kNone);
  EXPECT_NEAR(reduced - alone, 2 * (all_reduce(4.0 * 3 * 48) + all_reduce(4.0 * 2 * 48)), 1e-9 * reduced);
  EXPECT_GT(reduced - alone, 0);
  EXPECT_DOUBLE_EQ(estimate(policies::AmaxReduction::kTensor), alone);  // t = 1: a group of one
}

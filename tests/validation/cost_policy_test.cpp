// A calibrated GEMM-efficiency table changes the policies' decisions the way it changes the
// simulated speed: both read sim/cost/compute_cost. Two GPUs of the same peak, one calibrated
// with small GEMMs at 10-40 % instead of 50 %: the data-parallel batch split gives it fewer
// samples and the simulated compute times come out equal; the balanced pipeline partition gives
// its stage fewer layers and the simulated iteration is faster. One simulation per TEST.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "sim/cost/compute_cost.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/support/forked_run.hpp"
#include "tests/support/programs.hpp"
#include "tests/support/small_cluster.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal {
namespace {

/// Node 0: a plain GPU (100 TFLOP/s, matmul_efficiency 0.5); node 1: the same GPU, calibrated
/// when `calibrated` (GEMMs of ≤ 1e7 FLOPs at 10 %, ≥ 1e9 at 40 %, log-linear between).
platforms::Cluster two_gpus(bool calibrated) {
  testing::ClusterShape s;
  s.nodes = 2;
  s.gpu = testing::test_gpu(100e12, 2e12, 50, 400, 0.5);
  platforms::Cluster c = testing::make_cluster(s);
  platforms::NodeType t = c.node_types[0];
  t.name = "node-b";
  t.gpu.name = "calibrated-gpu";
  if (calibrated) t.gpu.gemm_efficiency = {{1e7, 0.1}, {1e9, 0.4}};
  c.node_types.push_back(t);
  c.node_type_of[1] = 1;
  c.gpus[1].node_type = 1;
  return c;
}

std::vector<std::int64_t> samples(const policies::Plan& plan) {
  std::vector<std::int64_t> out;
  for (const auto& r : plan.ranks) out.push_back(r.samples());
  return out;
}

/// Data parallel, proportional split; `plan_calibrated`: the plan sees the calibrated table
/// (else the policy plans as if there were none). Returns the simulated compute time per GPU
/// on the calibrated cluster.
std::vector<double> data_parallel_compute_s(bool plan_calibrated, std::vector<std::int64_t>* split) {
  const auto model = test_support::tiny_model();
  const auto setup = test_support::tiny_setup(96, 2);
  const policies::Plan plan = test_support::data_parallel_plan(model, two_gpus(plan_calibrated), setup,
                                                               core::Json{{"batch_split", "proportional"}});
  *split = samples(plan);
  engine::EngineOptions options;
  options.record_timeline = false;
  const engine::SimulationResult r = engine::simulate(two_gpus(true), policies::lower(plan, model, setup), options);
  return {r.ranks[0].compute_busy_s, r.ranks[1].compute_busy_s};
}

TEST(CostPolicy, CalibratedTableMovesTheBatchSplitAndBalancesSimulatedCompute) {
  std::vector<std::int64_t> split;
  const std::vector<double> t = data_parallel_compute_s(true, &split);
  const auto model = test_support::tiny_model();
  const auto chain = workloads::build_layer_chain(model, 128, core::Precision::kBf16);
  const double plain = cost::chain_seconds_per_sample(chain, 2, two_gpus(true).gpu_spec(0), core::Precision::kBf16);
  const double slow = cost::chain_seconds_per_sample(chain, 2, two_gpus(true).gpu_spec(1), core::Precision::kBf16);
  std::printf("per sample: plain %.6g s, calibrated %.6g s; split %lld / %lld; simulated compute %.6g / %.6g s\n", plain,
              slow, static_cast<long long>(split[0]), static_cast<long long>(split[1]), t[0], t[1]);
  EXPECT_GT(slow, 1.5 * plain);
  EXPECT_GT(split[0], split[1]);
  EXPECT_EQ(split[0] + split[1], 96);
  // The split follows the estimate: samples in proportion to 1 / seconds per sample (±1).
  EXPECT_NEAR(static_cast<double>(split[0]), 96 * slow / (plain + slow), 1.0);
  // ... and the estimate is the simulated speed: compute times agree within 5 %.
  EXPECT_LT(std::max(t[0], t[1]) / std::min(t[0], t[1]) - 1, 0.05);
}

TEST(CostPolicy, WithoutTheTableThePlanIsEqualAndSimulatedComputeIsNot) {
  std::vector<std::int64_t> split;
  const std::vector<double> t = data_parallel_compute_s(false, &split);
  std::printf("uncalibrated plan: split %lld / %lld; simulated compute %.6g / %.6g s\n", static_cast<long long>(split[0]),
              static_cast<long long>(split[1]), t[0], t[1]);
  EXPECT_EQ(split[0], 48);
  EXPECT_EQ(split[1], 48);
  EXPECT_GT(t[1] / t[0], 1.5);
}

/// Megatron, p = 2 (stage 0 on the plain GPU, stage 1 on the calibrated one), balanced partition
/// of 8 layers.
policies::Plan pipeline_plan(bool calibrated) {
  auto model = test_support::tiny_model();
  model.num_hidden_layers = 8;
  return policies::parallelism_policies()
      .create(core::Json{{"impl", "megatron"}, {"pipeline_model_parallel_size", 2}, {"partition", "balanced"}}, "test",
              "/parallelism")
      ->plan(model, two_gpus(calibrated), test_support::tiny_setup(8, 2));
}

double pipeline_iteration_s(bool plan_calibrated) {
  auto model = test_support::tiny_model();
  model.num_hidden_layers = 8;
  const policies::Plan plan = pipeline_plan(plan_calibrated);
  engine::EngineOptions options;
  options.record_timeline = false;
  return engine::simulate(two_gpus(true), policies::lower(plan, model, test_support::tiny_setup(8, 2)), options).makespan_s;
}

TEST(CostPolicy, CalibratedTableMovesThePartition) {
  const int plain = pipeline_plan(false).stage_first_layer.at(1);
  const int calibrated = pipeline_plan(true).stage_first_layer.at(1);
  std::printf("stage 1 starts at layer %d (no table) and %d (calibrated stage 1)\n", plain, calibrated);
  EXPECT_GT(calibrated, plain);
}

TEST(CostPolicy, CalibratedPartitionSimulatesFaster) {
  // The plan made without the table runs in a child (one simulation per process).
  const double plain = testing::run_forked([] { return std::vector<double>{pipeline_iteration_s(false)}; }).at(0);
  const double calibrated = pipeline_iteration_s(true);
  std::printf("iteration on the calibrated cluster: partition planned without the table %.6g s, with it %.6g s\n",
              plain, calibrated);
  EXPECT_LT(calibrated, 0.95 * plain);
}

}  // namespace
}  // namespace frugal

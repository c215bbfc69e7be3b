// Data-parallel policy and lowering: batch split, buckets, model-state memory, FLOPs.
#include <gtest/gtest.h>

#include "policies/model_state.hpp"
#include "sim/program/memory_ledger.hpp"
#include "tests/support/programs.hpp"
#include "workloads/layer_chain.hpp"

using namespace frugal;

namespace {

const platforms::Cluster& quickstart_cluster() {
  static const auto c = platforms::load_cluster("quickstart", platforms::GpuCatalogue::shipped());
  return c;
}

}  // namespace

TEST(DataParallel, ProportionalSplitGivesFastGpusMoreSamples) {
  const auto& cluster = quickstart_cluster();  // 4 A100 then 4 RTX 4090
  // A model large enough for compute, not the kernels' fixed costs, to set the GPUs' speeds.
  auto setup = test_support::tiny_setup(64, 2);
  setup.seq_length = 1024;
  const auto plan = test_support::data_parallel_plan(workloads::load_model("gpt3-125m"), cluster, setup);
  ASSERT_EQ(plan.ranks.size(), 8u);
  std::int64_t total = 0;
  for (const auto& r : plan.ranks) total += r.samples();
  EXPECT_EQ(total, 64);
  EXPECT_GT(plan.ranks[0].samples(), plan.ranks[7].samples());
  EXPECT_NE(plan.reason.find("proportional"), std::string::npos);
}

TEST(DataParallel, EqualSplitShowsArithmeticWhenNotDivisible) {
  try {
    test_support::data_parallel_plan(test_support::tiny_model(), quickstart_cluster(), test_support::tiny_setup(20, 2),
                                {{"batch_split", "equal"}});
    FAIL() << "no error";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/training/global_batch_size");
    EXPECT_NE(e.message().find("global_batch_size (20) is not a multiple of micro_batch_size (2) × data-parallel size (8) = 16"),
              std::string::npos)
        << e.message();
  }
}

TEST(DataParallel, UnknownParameterIsRejected) {
  EXPECT_THROW(test_support::data_parallel_plan(test_support::tiny_model(), quickstart_cluster(), test_support::tiny_setup(),
                                           {{"bucket_sise", "1 MiB"}}),
               core::ConfigError);
}

TEST(Lowering, ModelStateIsSixteenBytesPerParameterInMixedPrecision) {
  const auto b = policies::model_state_bytes(core::Precision::kBf16);
  EXPECT_DOUBLE_EQ(b.weights + b.gradients + b.optimizer, 16.0);
  // ZeRO paper test vector (stage 0): Ψ = 7.5e9 → 120 GB per GPU.
  EXPECT_DOUBLE_EQ((b.weights + b.gradients + b.optimizer) * 7.5e9, 120e9);
  const auto f = policies::model_state_bytes(core::Precision::kFp32);
  EXPECT_DOUBLE_EQ(f.weights + f.gradients + f.optimizer, 16.0);
}

TEST(Lowering, BucketsCoverAllGradientsAndGateTheOptimizer) {
  const auto model = test_support::tiny_model();
  const auto setup = test_support::tiny_setup(16, 2);
  const auto plan = test_support::data_parallel_plan(model, quickstart_cluster(), setup, {{"bucket_size", "64 KiB"}});
  const auto prog = policies::lower(plan, model, setup);
  EXPECT_NO_THROW(program::validate(prog));
  const double params = workloads::build_layer_chain(model, setup.seq_length, setup.precision).parameters();
  for (const auto& rp : prog.ranks) {
    double reduced = 0;
    std::vector<core::OpId> buckets;
    for (const auto& op : rp.ops) {
      if (op.kind != program::OpKind::kCollective) continue;
      reduced += op.collective().bytes;
      buckets.push_back(op.id);
      ASSERT_EQ(op.deps.size(), 1u);
      EXPECT_EQ(rp.ops[static_cast<std::size_t>(op.deps[0].value)].compute().phase, program::Phase::kBackward);
    }
    EXPECT_NEAR(reduced, 2.0 * params, 1e-6 * params);
    EXPECT_GT(buckets.size(), 1u);
    EXPECT_EQ(rp.ops.back().compute().phase, program::Phase::kOptimizer);
    EXPECT_EQ(rp.ops.back().deps, buckets);
  }
}

TEST(Lowering, ComputeFlopsAddUpToModelFlops) {
  const auto model = test_support::tiny_model();
  const auto setup = test_support::tiny_setup(16, 2);
  const auto plan = test_support::data_parallel_plan(model, quickstart_cluster(), setup);
  const auto prog = policies::lower(plan, model, setup);
  double flops = 0;
  for (const auto& rp : prog.ranks)
    for (const auto& op : rp.ops)
      if (op.kind == program::OpKind::kCompute && op.compute().phase != program::Phase::kOptimizer) flops += op.compute().flops;
  const double expected = workloads::model_flops_per_iteration(model, setup.seq_length, 16);
  EXPECT_NEAR(flops / expected, 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(prog.metadata.at("model_flops_per_iteration").get<double>(), expected);
}

TEST(Lowering, ActivationsPeakAtOneMicroBatch) {
  const auto model = test_support::tiny_model();
  const auto setup = test_support::tiny_setup(16, 2);
  const auto plan = test_support::data_parallel_plan(model, quickstart_cluster(), setup, {{"batch_split", "equal"}});
  const auto prog = policies::lower(plan, model, setup);
  const auto chain = workloads::build_layer_chain(model, setup.seq_length, setup.precision);
  const auto ledger = program::static_memory_profile(prog.ranks[0]);
  // Forward-then-backward per micro-batch: at most one micro-batch of activations is alive.
  EXPECT_NEAR(ledger.peak_breakdown().at(program::MemoryTag::kActivations), chain.activation_bytes() * 2, 1.0);
}

// Megatron-style 3D layouts: ZeRO memory and traffic, pipeline activation memory, layout errors,
// and the out-of-memory / fits contrast for GPT-3 175B.
#include <gtest/gtest.h>

#include "policies/model_state.hpp"
#include "sim/program/memory_ledger.hpp"
#include "tests/support/programs.hpp"
#include "workloads/layer_chain.hpp"

using namespace frugal;

namespace {

/// `nodes` DGX-A100-like nodes (8 × A100-80GB).
using test_support::dgx_nodes;

policies::Plan megatron(const workloads::ModelSpec& model, const platforms::Cluster& cluster,
                        const policies::TrainingSetup& setup, core::Json params, const std::string& memory = "none") {
  return test_support::megatron_plan(model, cluster, setup, std::move(params), memory);
}

/// Per-rank traffic of the data-parallel group's collectives, in units of bytes × (n−1)/n.
double data_parallel_traffic(const program::Program& prog) {
  double traffic = 0;
  for (const auto& op : prog.ranks[0].ops) {
    if (op.kind != program::OpKind::kCollective) continue;
    if (prog.groups[static_cast<std::size_t>(op.collective().group)].name.rfind("dp", 0) != 0) continue;
    traffic += op.collective().bytes * (op.collective().kind == program::CollectiveKind::kAllReduce ? 2.0 : 1.0);
  }
  return traffic;
}

}  // namespace

TEST(Zero, ModelStateMatchesPaperTestVector) {
  // Rajbhandari et al. SC'20, Figure 1: Ψ = 7.5e9, N_d = 64.
  const double psi = 7.5e9;
  const auto zero = policies::model_state_bytes(core::Precision::kBf16, policies::StateConvention::kZero);
  EXPECT_NEAR(policies::sharded_model_state(psi, zero, 0, 64).total_bytes() / 1e9, 120.0, 0.05);
  EXPECT_NEAR(policies::sharded_model_state(psi, zero, 1, 64).total_bytes() / 1e9, 31.4, 0.05);
  EXPECT_NEAR(policies::sharded_model_state(psi, zero, 2, 64).total_bytes() / 1e9, 16.6, 0.05);
  EXPECT_NEAR(policies::sharded_model_state(psi, zero, 3, 64).total_bytes() / 1e9, 1.9, 0.05);
}

TEST(Megatron, ModelStateMatchesTheDistributedOptimizerTable) {
  // Megatron-LM docs (distrib_optimizer.md), bytes per parameter without and with the
  // distributed optimizer over d replicas: bf16 params with fp32 grads 18 / 6 + 12/d, fp16
  // params and grads 20 / 4 + 16/d, fp32 16 / 8 + 8/d.
  using policies::StateConvention;
  const double d = 8;
  const struct {
    core::Precision precision;
    double plain, fixed, sharded;
  } table[] = {{core::Precision::kBf16, 18, 6, 12}, {core::Precision::kFp16, 20, 4, 16}, {core::Precision::kFp32, 16, 8, 8}};
  for (const auto& row : table) {
    const auto b = policies::model_state_bytes(row.precision, StateConvention::kMegatron);
    EXPECT_DOUBLE_EQ(b.total(), row.plain) << core::to_string(row.precision);
    EXPECT_DOUBLE_EQ(policies::sharded_model_state(1.0, b, 1, static_cast<int>(d)).total_bytes(), row.fixed + row.sharded / d)
        << core::to_string(row.precision);
  }
  EXPECT_EQ(policies::state_convention_from_string("megatron"), StateConvention::kMegatron);
  EXPECT_THROW(policies::state_convention_from_string("deepspeed-ish"), std::invalid_argument);
}

TEST(Zero, SixteenBitOptimizerStateIsTenBytesPerParameter) {
  // NeMo's distributed Adam with optim.dtype bf16: bf16 weights and gradients, Adam m and v in
  // bf16 and the master weights' 16-bit remainders: 2 + 2 + 6; the distributed optimizer shards
  // the 6 over d.
  const auto b = policies::model_state_bytes(core::Precision::kBf16, policies::StateConvention::kZero16BitOptimizer);
  EXPECT_DOUBLE_EQ(b.weights, 2);
  EXPECT_DOUBLE_EQ(b.gradients, 2);
  EXPECT_DOUBLE_EQ(b.optimizer, 6);
  EXPECT_DOUBLE_EQ(policies::sharded_model_state(1.0, b, 1, 4).total_bytes(), 4 + 6.0 / 4);
  EXPECT_EQ(policies::state_convention_from_string("zero_16bit_optimizer"), policies::StateConvention::kZero16BitOptimizer);
  EXPECT_EQ(policies::to_string(policies::StateConvention::kZero16BitOptimizer), "zero_16bit_optimizer");
}

TEST(Megatron, DistributedOptimizerReduceScattersFp32GradientsAndGathersBf16Weights) {
  // Per rank, in units of bytes × (n−1)/n: stage 0 all-reduces the fp32 main gradients (2 × 4Ψ);
  // the distributed optimizer reduce-scatters them (4Ψ) and all-gathers the bf16 weights (2Ψ).
  const auto model = test_support::tiny_model();
  const auto setup = test_support::tiny_setup(8, 1);
  double traffic[2];
  for (int stage = 0; stage <= 1; ++stage) {
    const auto plan = megatron(model, dgx_nodes(1), setup, {{"zero_stage", stage}});
    EXPECT_EQ(plan.state_convention, policies::StateConvention::kMegatron);
    const auto prog = policies::lower(plan, model, setup);
    program::validate(prog);
    traffic[stage] = data_parallel_traffic(prog);
  }
  EXPECT_NEAR(traffic[1] / traffic[0], 6.0 / 8.0, 1e-9);
}

TEST(Zero, StageThreeMovesOneAndAHalfTimesStageZero) {
  const auto model = test_support::tiny_model();
  const auto cluster = dgx_nodes(1);
  const auto setup = test_support::tiny_setup(8, 1);  // one micro-batch per replica
  double traffic[4];
  for (int stage = 0; stage <= 3; ++stage) {
    const auto plan = megatron(model, cluster, setup, {{"zero_stage", stage}, {"model_state", "zero"}});
    const auto prog = policies::lower(plan, model, setup);
    program::validate(prog);
    traffic[stage] = data_parallel_traffic(prog);
  }
  EXPECT_NEAR(traffic[1] / traffic[0], 1.0, 1e-9);
  EXPECT_NEAR(traffic[2] / traffic[0], 1.0, 1e-9);
  EXPECT_NEAR(traffic[3] / traffic[0], 1.5, 1e-9);
}

TEST(Pipeline, OneFOneBHoldsPMicroBatchesGPipeHoldsM) {
  auto model = test_support::tiny_model();
  model.num_hidden_layers = 8;
  const auto cluster = dgx_nodes(1);
  const auto setup = test_support::tiny_setup(16, 1);  // p = 4, d = 2: 8 micro-batches per replica
  const auto chain = workloads::build_layer_chain(model, setup.seq_length, setup.precision);
  const double stage0_activations = chain.layers[0].activation_bytes + 2 * chain.layers[1].activation_bytes;
  for (const char* schedule : {"1f1b", "gpipe"}) {
    const auto plan = megatron(model, cluster, setup, {{"pipeline_model_parallel_size", 4}, {"schedule", schedule}});
    const auto prog = policies::lower(plan, model, setup);
    program::validate(prog);
    const auto ledger = program::static_memory_profile(prog.ranks[0]);
    ASSERT_EQ(plan.stage_of(plan.ranks[0].rank), 0);
    const double expected = stage0_activations * (std::string(schedule) == "1f1b" ? 4 : 8);
    EXPECT_NEAR(ledger.peak_breakdown().at(program::MemoryTag::kActivations), expected, 1.0) << schedule;
  }
}

TEST(Layout, InvalidLayoutsShowArithmetic) {
  const auto model = test_support::tiny_model();  // 4 heads, 2 layers
  const auto cluster = dgx_nodes(1);              // 8 GPUs
  const auto setup = test_support::tiny_setup(8, 1);
  // The policy names its parameter (core::ParamError); the parameters it was read from locate it.
  auto message = [&](core::Json params) {
    params["impl"] = "megatron";
    std::optional<core::PluginParams> read;
    const auto policy = policies::parallelism_policies().create(params, "test", "/parallelism", &read);
    try {
      policy->plan(model, cluster, setup);
    } catch (const core::ParamError& e) {
      const core::ConfigError located = read->locate(e);
      return located.pointer() + ": " + located.message();
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({{"tensor_model_parallel_size", 3}}),
            "/parallelism/pipeline_model_parallel_size: GPUs (8) not divisible by tensor_model_parallel_size (3) × "
            "pipeline_model_parallel_size (1) = 3");
  EXPECT_EQ(message({{"tensor_model_parallel_size", 8}}),
            "/parallelism/tensor_model_parallel_size: num_attention_heads (4) not divisible by tensor_model_parallel_size (8)");
  EXPECT_EQ(message({{"pipeline_model_parallel_size", 4}}),
            "/parallelism/pipeline_model_parallel_size: num_hidden_layers (2) < pipeline stages (4 × 1 chunks = 4)");
  EXPECT_NE(message({{"tensor_model_parallel_size", 2}, {"pipeline_model_parallel_size", 2}}).find("no error"), std::string::npos);
  const auto odd = test_support::tiny_setup(6, 1);
  try {
    megatron(model, cluster, odd, {{"tensor_model_parallel_size", 2}});
    FAIL();
  } catch (const core::ConfigError& e) {
    EXPECT_NE(e.message().find("global_batch_size (6) is not a multiple of micro_batch_size (1) × data-parallel size (4) = 4"),
              std::string::npos)
        << e.message();
  }
}

TEST(Layout, TensorParallelStaysInsideANode) {
  const auto cluster = dgx_nodes(2);
  const auto plan = megatron(test_support::tiny_model(), cluster, test_support::tiny_setup(8, 1),
                             {{"tensor_model_parallel_size", 4}, {"pipeline_model_parallel_size", 2}});
  for (const auto& r : plan.ranks) {
    const int first_of_group = r.gpu - plan.coord(r.rank)[policies::Dim::kTensor];
    EXPECT_EQ(cluster.gpus[static_cast<std::size_t>(r.gpu)].node, cluster.gpus[static_cast<std::size_t>(first_of_group)].node);
  }
}

TEST(Memory, Gpt3_175BOverflowsInDataParallelButFitsWithTensorAndPipeline) {
  const auto model = workloads::load_model("gpt3-175b");
  const auto cluster = dgx_nodes(8);  // 64 × A100-80GB
  policies::TrainingSetup setup;
  setup.global_batch_size = 64;
  setup.micro_batch_size = 1;
  setup.seq_length = 2048;
  setup.reserved_memory_bytes = 1024.0 * 1024 * 1024;

  const auto dp_plan = megatron(model, cluster, setup, {});
  const auto dp = program::static_memory_profile(policies::lower(dp_plan, model, setup).ranks[0]);
  EXPECT_GT(dp.peak_bytes(), 80e9);
  EXPECT_GT(dp.peak_breakdown().at(program::MemoryTag::kOptimizer), 2e12);  // 12 B × 175e9

  const auto plan3d = megatron(model, cluster, setup,
                               {{"tensor_model_parallel_size", 8}, {"pipeline_model_parallel_size", 8},
                                {"sequence_parallel", true}},
                               "selective");
  const auto prog = policies::lower(plan3d, model, setup);
  for (const auto& rp : prog.ranks) EXPECT_LT(program::static_memory_profile(rp).peak_bytes(), 80e9) << "rank " << rp.rank.value;
}

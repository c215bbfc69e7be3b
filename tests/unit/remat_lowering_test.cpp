// Rematerialization schedules lowered to a program: the replayed forwards are recompute ops with
// their tensor-parallel collectives, the kept activations are allocations that the schedule's
// replay model predicts byte for byte, and the optimal policy fits the memory it is given.
#include <gtest/gtest.h>

#include "sim/program/memory_ledger.hpp"
#include "tests/support/programs.hpp"
#include "workloads/layer_chain.hpp"

using namespace frugal;

namespace {

const core::Json kTensorParallel = {{"tensor_model_parallel_size", 2}, {"sequence_parallel", true}};

std::size_t count_ops(const program::RankProgram& rp, const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& op : rp.ops)
    if (op.name.rfind(prefix, 0) == 0) ++n;
  return n;
}

/// The chain stages of virtual stage `vs` for micro-batches of `b` sequences (sizes only).
std::vector<policies::ChainStage> stage_sizes(const policies::Plan& plan, const workloads::ModelSpec& model,
                                              const policies::TrainingSetup& setup, int vs, double b) {
  const auto chain = workloads::build_layer_chain(model, setup.seq_length, setup.precision, plan.shard);
  const auto [first, end] = policies::stage_layers(plan, vs, static_cast<int>(chain.layers.size()));
  std::vector<policies::ChainStage> stages;
  for (int l = first; l < end; ++l) {
    const auto& layer = chain.layers[static_cast<std::size_t>(l)];
    stages.push_back({1.0, 2.0, layer.input_bytes * b, layer.activation_bytes * b});
  }
  return stages;
}

double resident_bytes(const program::RankProgram& rp) {
  double bytes = 0;
  for (const auto& m : rp.resident) bytes += m.bytes;
  return bytes;
}

}  // namespace

TEST(RematLowering, EveryLayerCheckpointedReplaysEachForwardWithItsCollectives) {
  const auto model = test_support::tiny_model();  // chain: embedding, layer_0, layer_1, head
  const auto setup = test_support::tiny_setup(16, 2);
  const auto cluster = test_support::dgx_nodes(1);
  const auto plan = test_support::megatron_plan(model, cluster, setup, kTensorParallel, {{"impl", "every_k"}, {"k", 1}});
  ASSERT_EQ(plan.memory.schedules.size(), 1u);
  EXPECT_EQ(plan.memory.schedules[0], policies::every_k_schedule(4, 1));
  EXPECT_EQ(plan.to_json().at("recompute_granularity"), "schedule");
  const auto prog = policies::lower(plan, model, setup);
  const auto& rp = prog.ranks[0];
  const std::size_t micro_batches = plan.ranks[0].micro_batches.size();
  ASSERT_EQ(micro_batches, 2u);
  // Every chain layer replayed once per micro-batch; each transformer replay runs its two
  // blocks' all-gather and reduce-scatter again.
  EXPECT_EQ(count_ops(rp, "recompute "), 4 * micro_batches);
  EXPECT_EQ(count_ops(rp, "tp allgather layer_0 recompute"), 2 * micro_batches);
  EXPECT_EQ(count_ops(rp, "tp reducescatter layer_1 recompute"), 2 * micro_batches);
  // The static peak is the resident state plus the schedule's peak for one micro-batch (p = 1:
  // one micro-batch in flight), and every activation is freed.
  const program::MemoryLedger ledger = program::static_memory_profile(rp);
  const policies::ScheduleCost cost = policies::evaluate(stage_sizes(plan, model, setup, 0, 2), plan.memory.schedules[0]);
  ASSERT_TRUE(cost.valid) << cost.error;
  EXPECT_NEAR(ledger.peak_bytes(), resident_bytes(rp) + cost.peak_bytes, 1e-9 * ledger.peak_bytes());
  for (const auto& [name, m] : ledger.live()) EXPECT_NE(m.tag, program::MemoryTag::kActivations) << name;
}

TEST(RematLowering, OptimalWithRoomToSpareIsKeepingEverything) {
  const auto model = test_support::tiny_model();
  const auto setup = test_support::tiny_setup(16, 2);
  const auto cluster = test_support::dgx_nodes(1);
  const auto none = policies::lower(test_support::megatron_plan(model, cluster, setup, kTensorParallel, "none"), model, setup);
  const auto optimal = policies::lower(test_support::megatron_plan(model, cluster, setup, kTensorParallel, "optimal"), model, setup);
  const auto& a = none.ranks[0];
  const auto& b = optimal.ranks[0];
  EXPECT_EQ(count_ops(b, "recompute "), 0u);
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    EXPECT_EQ(a.ops[i].name, b.ops[i].name);
    if (a.ops[i].kind == program::OpKind::kCompute) {
      EXPECT_EQ(a.ops[i].compute(), b.ops[i].compute());
    }
  }
  EXPECT_DOUBLE_EQ(program::static_memory_profile(a).peak_bytes(), program::static_memory_profile(b).peak_bytes());
}

TEST(RematLowering, OptimalFitsEachPipelineStageInTheMemoryGiven) {
  const auto model = test_support::tiny_model();
  const auto setup = test_support::tiny_setup(16, 1);
  auto cluster = test_support::dgx_nodes(1);
  const core::Json layout = {{"tensor_model_parallel_size", 2}, {"pipeline_model_parallel_size", 2}};
  auto peaks = [&](const policies::Plan& plan) {
    std::vector<double> out;
    for (const auto& rp : policies::lower(plan, model, setup).ranks) out.push_back(program::static_memory_profile(rp).peak_bytes());
    return out;
  };
  const auto keep_all = peaks(test_support::megatron_plan(model, cluster, setup, layout, "none"));
  const auto every = peaks(test_support::megatron_plan(model, cluster, setup, layout, "every_k"));
  const double most_all = *std::max_element(keep_all.begin(), keep_all.end());
  const double most_every = *std::max_element(every.begin(), every.end());
  ASSERT_LT(most_every, most_all);
  // Between checkpointing every layer and keeping everything: every GPU stays within it, and
  // some layer is recomputed.
  const double budget = 0.5 * (most_every + most_all);
  for (auto& type : cluster.node_types) type.gpu.memory_bytes = budget;
  const auto plan = test_support::megatron_plan(model, cluster, setup, layout, "optimal");
  ASSERT_EQ(plan.memory.schedules.size(), 2u);
  const auto prog = policies::lower(plan, model, setup);
  std::size_t replays = 0;
  for (const auto& rp : prog.ranks) {
    EXPECT_LE(program::static_memory_profile(rp).peak_bytes(), budget) << "rank " << rp.rank.value;
    replays += count_ops(rp, "recompute ");
  }
  EXPECT_GT(replays, 0u);
  EXPECT_LE(plan.memory.min_budget_bytes, budget);
}

TEST(RematLowering, NothingFitsRunsTheLeastMemorySchedule) {
  const auto model = test_support::tiny_model();
  const auto setup = test_support::tiny_setup(16, 2);
  auto cluster = test_support::dgx_nodes(1);
  const auto resident = policies::lower(test_support::megatron_plan(model, cluster, setup, kTensorParallel, "none"), model, setup)
                            .ranks[0]
                            .resident;
  double resident_total = 0;
  for (const auto& m : resident) resident_total += m.bytes;
  for (auto& type : cluster.node_types) type.gpu.memory_bytes = resident_total + 1;  // 1 byte for activations
  const auto plan = test_support::megatron_plan(model, cluster, setup, kTensorParallel, "optimal");
  EXPECT_EQ(plan.memory.schedules[0], policies::least_memory_schedule(4));
  EXPECT_NE(plan.memory.reason.find("least-memory schedule"), std::string::npos) << plan.memory.reason;
  // One micro-batch in flight: the least memory is exactly the program's static peak.
  const auto prog = policies::lower(plan, model, setup);
  EXPECT_NEAR(plan.memory.min_budget_bytes, program::static_memory_profile(prog.ranks[0]).peak_bytes(),
              1e-9 * plan.memory.min_budget_bytes);
  EXPECT_GT(plan.memory.min_budget_bytes, resident_total + 1);
}

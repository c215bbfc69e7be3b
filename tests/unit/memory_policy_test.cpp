// Memory policies: the registered family, uniform decisions, and a per-layer decision carried
// through the plan into the layer chain and the lowered program.
#include <gtest/gtest.h>

#include "sim/program/memory_ledger.hpp"
#include "tests/support/programs.hpp"
#include "workloads/layer_chain.hpp"

using namespace frugal;
using workloads::Recompute;

namespace {

std::size_t count_phase(const program::RankProgram& rp, program::Phase phase) {
  std::size_t n = 0;
  for (const auto& op : rp.ops)
    if (op.kind == program::OpKind::kCompute && op.compute().phase == phase) ++n;
  return n;
}

/// Full recomputation on even transformer layers only: a policy written in a test.
class EvenLayersFull final : public policies::MemoryPolicy {
 public:
  policies::MemoryDecision decide(const policies::MemoryView& view) const override {
    policies::MemoryDecision d;
    d.policy = "even_layers_full";
    for (std::int64_t i = 0; i < view.model.num_hidden_layers; ++i) d.recompute.push_back(i % 2 == 0 ? Recompute::kFull : Recompute::kNone);
    return d;
  }
};

}  // namespace

TEST(MemoryPolicy, FamilyListsItsPolicies) {
  EXPECT_EQ(policies::memory_policies().names(), (std::vector<std::string>{"every_k", "full", "none", "offload", "optimal", "selective"}));
  EXPECT_THROW(policies::memory_policies().create({{"impl", "fulll"}}, "s.json", "/memory"), core::ConfigError);
  EXPECT_THROW(policies::memory_policies().create({{"impl", "full"}, {"layers", 2}}, "s.json", "/memory"), core::ConfigError);
}

TEST(MemoryPolicy, UniformDecisionsMatchTheShardSpecOfThatRecomputation) {
  const auto model = test_support::tiny_model();
  const auto setup = test_support::tiny_setup();
  for (const char* name : {"none", "selective", "full"}) {
    const auto policy = policies::memory_policies().create({{"impl", name}}, "s.json", "/memory");
    workloads::ShardSpec shard;
    shard.tensor_parallel = 2;
    const auto decision = policy->decide({model, setup, shard});
    EXPECT_EQ(decision.policy, name);
    ASSERT_EQ(decision.recompute.size(), static_cast<std::size_t>(model.num_hidden_layers));
    // Per-layer spelling and the uniform spelling give the same chain.
    workloads::ShardSpec per_layer = shard, uniform = shard;
    per_layer.per_layer = decision.recompute;
    uniform.recompute = decision.recompute.front();
    const auto a = workloads::build_layer_chain(model, setup.seq_length, setup.precision, per_layer);
    const auto b = workloads::build_layer_chain(model, setup.seq_length, setup.precision, uniform);
    EXPECT_EQ(a.activation_bytes(), b.activation_bytes()) << name;
    EXPECT_EQ(a.recompute_flops(), b.recompute_flops()) << name;
  }
}

TEST(MemoryPolicy, FullRecomputationReplaysEveryTransformerForward) {
  const auto model = test_support::tiny_model();  // 2 layers
  const auto setup = test_support::tiny_setup(16, 2);
  const auto cluster = test_support::dgx_nodes(1);
  const auto plan = test_support::megatron_plan(model, cluster, setup, {{"tensor_model_parallel_size", 2}}, "full");
  EXPECT_EQ(plan.memory.policy, "full");
  EXPECT_EQ(plan.to_json().at("recompute_granularity"), "full");
  const auto prog = policies::lower(plan, model, setup);
  const auto& rp = prog.ranks[0];
  const std::size_t micro_batches = plan.ranks[0].micro_batches.size();
  EXPECT_EQ(count_phase(rp, program::Phase::kRecompute), 2 * micro_batches);
  // Each layer keeps only its input: 2·s·b·h bytes in 16-bit (Korthikanti Table 2, last row).
  const double s = static_cast<double>(setup.seq_length), h = static_cast<double>(model.hidden_size);
  for (const auto& op : rp.ops)
    if (op.kind == program::OpKind::kAlloc && op.memory().buffer.rfind("layer_", 0) == 0)
      EXPECT_DOUBLE_EQ(op.memory().bytes, 2 * s * 2 * h);
}

TEST(MemoryPolicy, PerLayerDecisionsReachTheProgram) {
  auto model = test_support::tiny_model();
  model.num_hidden_layers = 4;
  const auto setup = test_support::tiny_setup(8, 1);
  const auto cluster = test_support::dgx_nodes(1);
  const auto policy = policies::parallelism_policies().create({{"impl", "data_parallel"}, {"batch_split", "equal"}}, "t", "/parallelism");
  const auto plan = policy->plan(model, cluster, setup, EvenLayersFull{});
  EXPECT_EQ(plan.to_json().at("recompute_granularity"), "per_layer");
  EXPECT_EQ(plan.to_json().at("memory").at("policy"), "even_layers_full");
  const auto prog = policies::lower(plan, model, setup);
  std::vector<std::string> recomputed;
  for (const auto& op : prog.ranks[0].ops)
    if (op.kind == program::OpKind::kCompute && op.compute().phase == program::Phase::kRecompute) recomputed.push_back(op.compute().layer);
  EXPECT_EQ(recomputed, (std::vector<std::string>{"layer_2", "layer_0"}));  // one micro-batch, backward order
  // Fewer activations than storing everything, more than recomputing everything.
  const auto peak = [&](const char* name) {
    const auto p = test_support::megatron_plan(model, cluster, setup, core::Json::object(), name);
    return program::static_memory_profile(policies::lower(p, model, setup).ranks[0]).peak_breakdown().at(program::MemoryTag::kActivations);
  };
  const double mixed = program::static_memory_profile(prog.ranks[0]).peak_breakdown().at(program::MemoryTag::kActivations);
  EXPECT_LT(mixed, peak("none"));
  EXPECT_GT(mixed, peak("full"));
}

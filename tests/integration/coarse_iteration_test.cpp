// Coarse simulation of a whole 3D-parallel iteration (aggregate collectives + one representative
// per class of identical ranks) against the op-by-op reference (step-by-step collectives, every
// rank simulated, in a forked child): iteration time within 2 %, per-rank metrics copied from
// the representatives and close to the reference, far fewer activities.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "policies/lowering/lowering.hpp"
#include "policies/parallelism/parallelism_policy.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/program/rank_classes.hpp"
#include "tests/support/forked_run.hpp"
#include "tests/support/programs.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using engine::CollectiveModel;
using engine::IdenticalRanks;

struct Layout {
  int nodes = 2;
  int gpus_per_node = 4;
  int nics_per_node = 1;
  double backbone_bytes_per_s = 0;
  double nvls_bytes_per_s = 0;  ///< the nodes' NVLink SHARP bandwidth (0: none)
  double overlap_slowdown = 0;  ///< the GPUs' (GpuSpec::overlap_slowdown)
  core::Json parallelism;  ///< megatron parameters
  std::int64_t global_batch = 8;
};

/// A 4-layer GPT (h=1024) on nodes of 4 GPUs (NVLink 300 GB/s) sharing `nics_per_node` NICs of
/// 25 GB/s, so tensor-parallel traffic stays inside nodes while pipeline and data-parallel
/// traffic contend for the NICs.
struct Case {
  platforms::Cluster cluster;
  program::Program program;  ///< every rank lowered
  program::Program compact;  ///< one lowered program per class of identical ranks
};

Case make_case(const Layout& layout) {
  testing::ClusterShape shape;
  shape.nodes = layout.nodes;
  shape.gpus_per_node = layout.gpus_per_node;
  shape.nics_per_node = layout.nics_per_node;
  shape.gpu = testing::test_gpu(100e12, 2e12);
  shape.gpu.overlap_slowdown = layout.overlap_slowdown;
  shape.gpu_link = {300e9, 1e-6};
  shape.nic = {25e9, 5e-6};
  shape.switch_latency_s = 1e-6;
  shape.backbone_bandwidth_bytes_per_s = layout.backbone_bytes_per_s;
  Case c{testing::make_cluster(shape), {}, {}};
  c.cluster.node_types[0].nvls_bandwidth_bytes_per_s = layout.nvls_bytes_per_s;

  workloads::ModelSpec model = test_support::tiny_model();
  model.hidden_size = 1024;
  model.num_attention_heads = 16;
  model.num_key_value_heads = 16;
  model.intermediate_size = 4096;
  model.num_hidden_layers = 4;
  model.vocab_size = 32000;
  model.max_position_embeddings = 1024;
  policies::TrainingSetup setup = test_support::tiny_setup(layout.global_batch, 1);
  setup.seq_length = 1024;
  core::Json params = layout.parallelism;
  params["impl"] = "megatron";
  auto policy = policies::parallelism_policies().create(params, "test", "/parallelism");
  const auto plan = policy->plan(model, c.cluster, setup);
  c.program = policies::lower(plan, model, setup);
  program::validate(c.program);
  c.compact = policies::lower_compact(plan, model, setup);
  program::validate(c.compact);
  return c;
}

engine::SimulationResult run(const Case& c, CollectiveModel model, IdenticalRanks ranks, bool compact = false,
                             bool closed_form = true) {
  engine::EngineOptions options;
  options.record_timeline = false;
  options.collective_model = model;
  options.identical_ranks = ranks;
  options.closed_form_collectives = closed_form;
  return engine::simulate(c.cluster, compact ? c.compact : c.program, options);
}

/// Makespan, activities, simulated ranks, then per rank compute busy, communication busy,
/// exposed communication, peak memory and energy.
std::vector<double> figures(const engine::SimulationResult& r) {
  std::vector<double> out = {r.makespan_s, static_cast<double>(r.activities), static_cast<double>(r.simulated_ranks)};
  for (const auto& s : r.ranks)
    out.insert(out.end(), {s.compute_busy_s, s.communication_busy_s, s.exposed_communication_s, s.peak_memory_bytes, s.energy_j});
  return out;
}

/// The compact program (classes lowered once) simulates exactly as the expanded one, with
/// representatives (taken from the classes) and with every rank (expanded by the engine).
void expect_compact_matches(const Layout& layout, CollectiveModel model, IdenticalRanks ranks) {
  const Case c = make_case(layout);
  ASSERT_TRUE(c.compact.compact());
  ASSERT_EQ(program::expand(c.compact), c.program);
  const std::vector<double> expanded = testing::run_forked([&c, model, ranks] { return figures(run(c, model, ranks)); });
  const std::vector<double> compact = figures(run(c, model, ranks, true));
  ASSERT_EQ(compact.size(), expanded.size());
  for (std::size_t i = 0; i < compact.size(); ++i)
    EXPECT_NEAR(compact[i], expanded[i], 1e-9 * std::abs(expanded[i])) << "figure " << i;
}

/// Reference in a child: makespan, activities, then per rank compute and communication busy
/// time and peak memory.
std::vector<double> reference(const Case& c) {
  return testing::run_forked([&c] {
    const engine::SimulationResult r = run(c, CollectiveModel::kStepByStep, IdenticalRanks::kSimulateAll);
    std::vector<double> out = {r.makespan_s, static_cast<double>(r.activities)};
    for (const auto& s : r.ranks) {
      out.push_back(s.compute_busy_s);
      out.push_back(s.communication_busy_s);
      out.push_back(s.peak_memory_bytes);
    }
    return out;
  });
}

void expect_coarse_matches(const Layout& layout, int expected_simulated) {
  const Case c = make_case(layout);
  const std::vector<double> ref = reference(c);
  const std::size_t n = c.program.ranks.size();
  ASSERT_EQ(ref.size(), 2 + 3 * n);
  const engine::SimulationResult r = run(c, CollectiveModel::kAggregate, IdenticalRanks::kRepresentatives);
  std::printf("%zu ranks: coarse %.9g s (%d simulated, %llu activities), op by op %.9g s (%.0f activities): "
              "%+.4f %%\n",
              n, r.makespan_s, r.simulated_ranks, static_cast<unsigned long long>(r.activities), ref[0], ref[1],
              100 * (r.makespan_s / ref[0] - 1));
  ASSERT_EQ(r.representatives_note, "");
  EXPECT_EQ(r.simulated_ranks, expected_simulated);
  EXPECT_NEAR(r.makespan_s / ref[0], 1.0, 0.02) << "coarse " << r.makespan_s << " s, op by op " << ref[0] << " s";
  EXPECT_LT(static_cast<double>(r.activities), ref[1] / 2) << "coarse " << r.activities << ", op by op " << ref[1];
  ASSERT_EQ(r.ranks.size(), n);
  ASSERT_EQ(r.representative.size(), n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& s = r.ranks[i];
    const auto& rep = r.ranks[static_cast<std::size_t>(r.representative[i])];
    EXPECT_EQ(s.compute_busy_s, rep.compute_busy_s) << "rank " << i;  // copied
    EXPECT_NEAR(s.compute_busy_s, ref[2 + 3 * i], 0.02 * ref[2 + 3 * i]) << "rank " << i;
    EXPECT_NEAR(s.communication_busy_s, ref[3 + 3 * i], 0.05 * ref[0]) << "rank " << i;
    EXPECT_EQ(s.peak_memory_bytes, ref[4 + 3 * i]) << "rank " << i;
  }
}

/// t=2, p=2, d=2 on 2 nodes (one pipeline stage per node), 1F1B with 4 micro-batches, ZeRO-0:
/// one representative per stage.
TEST(CoarseIteration, TensorPipelineDataOnTwoNodes) {
  Layout l;
  l.parallelism = {{"tensor_model_parallel_size", 2}, {"pipeline_model_parallel_size", 2}};
  expect_coarse_matches(l, 2);
}

/// t=2, p=2, d=4 on 4 nodes: data-parallel groups span two nodes (the all-reduce algorithm
/// chosen per size), sequence parallelism and ZeRO-1; the copies of the data-parallel and pipeline
/// traffic share the single NIC of each node with the representatives'.
Layout four_nodes_sequence_parallel_zero_one() {
  Layout l;
  l.nodes = 4;
  l.global_batch = 16;
  l.parallelism = {{"tensor_model_parallel_size", 2},
                   {"pipeline_model_parallel_size", 2},
                   {"sequence_parallel", true},
                   {"zero_stage", 1}};
  return l;
}

TEST(CoarseIteration, SequenceParallelZeroOneAcrossFourNodes) {
  expect_coarse_matches(four_nodes_sequence_parallel_zero_one(), 2);
}

/// t=1, p=2, d=4 with interleaving off and GPipe, behind an oversubscribed backbone: every
/// copy's inter-node transfer is injected (the backbone is shared by all).
TEST(CoarseIteration, GPipeBehindABackbone) {
  Layout l;
  l.nodes = 2;
  l.backbone_bytes_per_s = 30e9;
  l.nics_per_node = 4;
  l.parallelism = {{"pipeline_model_parallel_size", 2}, {"schedule", "gpipe"}};
  expect_coarse_matches(l, 2);
}

/// t=2, c=2 (context parallel), p=2, d=1 on 2 nodes: K/V all-gathers on context groups
/// inside each node, gradients reduced over the context group.
Layout context_parallel_layout() {
  Layout l;
  l.global_batch = 4;
  l.parallelism = {{"tensor_model_parallel_size", 2}, {"context_parallel_size", 2}, {"pipeline_model_parallel_size", 2}};
  return l;
}

TEST(CoarseIteration, ContextParallelInsideNodes) { expect_coarse_matches(context_parallel_layout(), 2); }

TEST(CompactProgram, ContextParallelSimulatesAsTheExpandedProgram) {
  expect_compact_matches(context_parallel_layout(), CollectiveModel::kAggregate, IdenticalRanks::kRepresentatives);
}

TEST(CompactProgram, SimulatesAsTheExpandedProgramWithRepresentatives) {
  expect_compact_matches(four_nodes_sequence_parallel_zero_one(), CollectiveModel::kAggregate,
                         IdenticalRanks::kRepresentatives);
}

TEST(CompactProgram, SimulatesAsTheExpandedProgramRankByRank) {
  Layout l;
  l.parallelism = {{"tensor_model_parallel_size", 2}, {"pipeline_model_parallel_size", 2}};
  expect_compact_matches(l, CollectiveModel::kStepByStep, IdenticalRanks::kSimulateAll);
}

TEST(CompactProgram, SimulatesAsTheExpandedProgramBehindABackbone) {
  Layout l;
  l.backbone_bytes_per_s = 30e9;
  l.nics_per_node = 4;
  l.parallelism = {{"pipeline_model_parallel_size", 2}, {"schedule", "gpipe"}};
  expect_compact_matches(l, CollectiveModel::kAggregate, IdenticalRanks::kRepresentatives);
}

/// t=4 fills each of 4 nodes (4 NICs each), p=2, d=2, sequence parallelism: one representative
/// per stage, alone on its node; its GPU links carry only its tensor-parallel collectives, one at
/// a time, and its other GPUs' NICs only the copies' traffic.
Layout quiet_nodes_layout() {
  Layout l;
  l.nodes = 4;
  l.nics_per_node = 4;
  l.global_batch = 16;
  l.parallelism = {{"tensor_model_parallel_size", 4}, {"pipeline_model_parallel_size", 2}, {"sequence_parallel", true}};
  return l;
}

/// Every figure but the activity count, per expect_compact_matches' figures().
void expect_same_figures(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i != 1) EXPECT_NEAR(a[i], b[i], 1e-9 * std::abs(b[i])) << "figure " << i;
  }
}

/// Collectives priced in closed form on quiet GPU links (quiet_links.hpp), consecutive ones as
/// one sleep, against the same collectives run as transfers: the same figures, far fewer
/// activities.
/// t=4 fills each of 4 nodes whose switch reduces (NVLS: the tensor-parallel all-reduces' auto
/// choice), d=4 across the nodes with the tree all-reduce: collapsed groups inject the switch's
/// flows, representatives the copies' tree edges.
TEST(CoarseIteration, NvlsInsideNodesAndTreesAcrossThem) {
  Layout l;
  l.nodes = 4;
  l.global_batch = 16;
  l.nvls_bytes_per_s = 200e9;
  l.parallelism = {{"tensor_model_parallel_size", 4}, {"gradient_algorithm", "tree"}};
  expect_coarse_matches(l, 1);
}

TEST(CoarseIteration, ClosedFormCollectivesOnQuietNodesMatchTheirTransfers) {
  const Case c = make_case(quiet_nodes_layout());
  const std::vector<double> transfers = testing::run_forked([&c] {
    return figures(run(c, CollectiveModel::kAggregate, IdenticalRanks::kRepresentatives, true, false));
  });
  const std::vector<double> closed = figures(run(c, CollectiveModel::kAggregate, IdenticalRanks::kRepresentatives, true));
  std::printf("closed form: %.0f activities, transfers: %.0f\n", closed[1], transfers[1]);
  expect_same_figures(closed, transfers);
  EXPECT_LT(closed[1], 0.6 * transfers[1]);
}

/// As above on GPUs whose compute slows while a collective overlaps it (overlap_slowdown): a
/// collective priced in closed form slows the compute beside it as its transfers do.
TEST(CoarseIteration, ClosedFormCollectivesSlowTheComputeTheyOverlapAsTheirTransfersDo) {
  Layout l = quiet_nodes_layout();
  l.parallelism["tp_comm_overlap"] = true;
  const Case fast = make_case(l);
  l.overlap_slowdown = 0.25;
  const Case c = make_case(l);
  const std::vector<double> transfers = testing::run_forked([&c] {
    return figures(run(c, CollectiveModel::kAggregate, IdenticalRanks::kRepresentatives, true, false));
  });
  const std::vector<double> unslowed = testing::run_forked([&fast] {
    return figures(run(fast, CollectiveModel::kAggregate, IdenticalRanks::kRepresentatives, true));
  });
  const std::vector<double> closed = figures(run(c, CollectiveModel::kAggregate, IdenticalRanks::kRepresentatives, true));
  std::printf("closed form %.9g s, transfers %.9g s, without the slowdown %.9g s\n", closed[0], transfers[0], unslowed[0]);
  expect_same_figures(closed, transfers);
  EXPECT_GT(closed[3], unslowed[3] * 1.001);  // rank 0's compute busy time
}

/// Copies' transfers on NICs that carry no modelled traffic are not injected (the node uplinks
/// never bind): representatives give the figures of every rank simulated, to 1e-9.
TEST(CoarseIteration, CopiesOffWatchedNicsChangeNothing) {
  const Case c = make_case(quiet_nodes_layout());
  const std::vector<double> all = testing::run_forked([&c] {
    return figures(run(c, CollectiveModel::kAggregate, IdenticalRanks::kSimulateAll, true));
  });
  const engine::SimulationResult r = run(c, CollectiveModel::kAggregate, IdenticalRanks::kRepresentatives, true);
  ASSERT_EQ(r.simulated_ranks, 2);
  const std::vector<double> reps = figures(r);
  EXPECT_NEAR(reps[0], all[0], 1e-9 * all[0]);
  for (std::size_t i = 3; i < reps.size(); ++i)
    if ((i - 3) % 5 != 4) EXPECT_NEAR(reps[i], all[i], 1e-9 * std::abs(all[i]) + 1e-15) << "figure " << i;
}

/// Identical ranks that exchange among themselves (a ring of sends on one node) cannot be
/// represented by one of them: the engine says why and simulates every rank.
TEST(CoarseIteration, FallsBackWhenIdenticalRanksExchange) {
  const platforms::Cluster cluster = testing::single_node_cluster(4, {100e9, 1e-6});
  program::Program p = testing::make_program(4);
  for (int r = 0; r < 4; ++r) {
    testing::add_send(p.ranks[r], (r + 1) % 4, 7, 1e8);
    testing::add_recv(p.ranks[r], (r + 3) % 4, 7, 1e8);
  }
  engine::EngineOptions options;
  options.identical_ranks = IdenticalRanks::kRepresentatives;
  const engine::SimulationResult r = engine::simulate(cluster, p, options);
  EXPECT_NE(r.representatives_note.find("own class"), std::string::npos) << r.representatives_note;
  EXPECT_EQ(r.simulated_ranks, 4);
  EXPECT_NEAR(r.makespan_s, 2e-6 + 1e8 / 100e9, 1e-9);
}

}  // namespace
}  // namespace frugal

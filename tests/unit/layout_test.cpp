// The rank grid: rank order parsing, coordinates, groups, and the classes of identical ranks of
// a plan (ranks of a class lower to the same ops up to the renaming of groups and peers).
#include <gtest/gtest.h>

#include "policies/layout.hpp"
#include "tests/support/programs.hpp"

using namespace frugal;
using policies::Dim;
using policies::Layout;

TEST(Layout, OrderNamesEveryDimensionWithTheMissingOnesAfterTensor) {
  EXPECT_EQ(Layout({1, 1, 1, 1, 1}, Layout::parse_order("tp-dp-pp")).order_string(), "tp-cp-ep-dp-pp");
  EXPECT_EQ(Layout({1, 1, 1, 1, 1}, Layout::parse_order("tp-pp-dp")).order_string(), "tp-cp-ep-pp-dp");
  EXPECT_EQ(Layout({1, 1, 1, 1, 1}, Layout::parse_order("dp-pp")).order_string(), "tp-cp-ep-dp-pp");
  EXPECT_EQ(Layout({1, 1, 1, 1, 1}, Layout::parse_order("pp-cp-tp-ep-dp")).order_string(), "pp-cp-tp-ep-dp");
  EXPECT_THROW(Layout::parse_order("tp-xp-pp"), std::invalid_argument);
  EXPECT_THROW(Layout::parse_order("tp-tp"), std::invalid_argument);
  EXPECT_THROW(Layout({1, 0, 1, 1, 1}, policies::kAllDims), std::invalid_argument);
}

TEST(Layout, CoordinatesAreMixedRadixFastestFirst) {
  const int t = 2, d = 3, p = 4;
  for (const char* order : {"tp-dp-pp", "tp-pp-dp"}) {
    const Layout layout({t, 1, 1, d, p}, Layout::parse_order(order));
    ASSERT_EQ(layout.world(), t * d * p);
    for (int r = 0; r < layout.world(); ++r) {
      const auto c = layout.coord(core::RankId(r));
      EXPECT_EQ(layout.rank(c), core::RankId(r));
      EXPECT_EQ(c[Dim::kTensor], r % t);
      EXPECT_EQ(c[Dim::kContext], 0);
      if (std::string(order) == "tp-dp-pp") {
        EXPECT_EQ(c[Dim::kData], (r / t) % d);
        EXPECT_EQ(c[Dim::kPipeline], r / (t * d));
      } else {
        EXPECT_EQ(c[Dim::kPipeline], (r / t) % p);
        EXPECT_EQ(c[Dim::kData], r / (t * p));
      }
    }
  }
}

TEST(Layout, GroupsPartitionTheRanks) {
  const Layout layout({2, 2, 1, 3, 2}, policies::kAllDims);  // 24 ranks, tp fastest
  for (auto dims : {std::initializer_list<Dim>{Dim::kTensor}, std::initializer_list<Dim>{Dim::kData},
                    std::initializer_list<Dim>{Dim::kPipeline}, std::initializer_list<Dim>{Dim::kTensor, Dim::kContext}}) {
    std::vector<int> seen(24, 0);
    int size = 1;
    for (Dim d : dims) size *= layout.size(d);
    for (int r = 0; r < 24; ++r) {
      const auto g = layout.group(dims, core::RankId(r));
      ASSERT_EQ(static_cast<int>(g.size()), size);
      // The group holds r, and every member agrees with r off the varied dimensions.
      EXPECT_NE(std::find(g.begin(), g.end(), core::RankId(r)), g.end());
      for (const auto m : g) {
        EXPECT_EQ(layout.group_index(dims, m), layout.group_index(dims, core::RankId(r)));
        for (Dim d : policies::kAllDims) {
          bool varied = false;
          for (Dim v : dims) varied = varied || v == d;
          if (!varied) EXPECT_EQ(layout.coord(m)[d], layout.coord(core::RankId(r))[d]);
        }
      }
      if (g.front() == core::RankId(r)) ++seen[static_cast<std::size_t>(layout.group_index(dims, core::RankId(r)))];
    }
    // One group per index 0 .. 24/size − 1.
    for (int i = 0; i < 24; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i < 24 / size ? 1 : 0);
  }
  EXPECT_EQ(layout.group({Dim::kTensor}, core::RankId(5)), (std::vector<core::RankId>{core::RankId(4), core::RankId(5)}));
  EXPECT_EQ(layout.along(core::RankId(1), Dim::kPipeline, 1), core::RankId(13));
}

namespace {

/// Op-by-op equality up to names, groups and peers: kinds, streams, dependencies, sizes.
void expect_same_shape(const program::RankProgram& a, const program::RankProgram& b) {
  ASSERT_EQ(a.ops.size(), b.ops.size());
  EXPECT_EQ(a.resident, b.resident);
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    const auto &x = a.ops[i], &y = b.ops[i];
    ASSERT_EQ(x.kind, y.kind) << i;
    EXPECT_EQ(x.stream, y.stream) << i;
    EXPECT_EQ(x.deps, y.deps) << i;
    switch (x.kind) {
      case program::OpKind::kCompute: EXPECT_EQ(x.compute(), y.compute()) << i; break;
      case program::OpKind::kCollective:
        EXPECT_EQ(x.collective().kind, y.collective().kind) << i;
        EXPECT_EQ(x.collective().bytes, y.collective().bytes) << i;
        EXPECT_EQ(x.collective().instance, y.collective().instance) << i;
        break;
      case program::OpKind::kSend:
      case program::OpKind::kRecv:
        EXPECT_EQ(x.p2p().tag, y.p2p().tag) << i;
        EXPECT_EQ(x.p2p().bytes, y.p2p().bytes) << i;
        break;
      default: EXPECT_EQ(x.payload.index(), y.payload.index()) << i;
    }
  }
}

}  // namespace

TEST(Layout, RanksOfAClassLowerToTheSameOps) {
  auto model = test_support::tiny_model();
  model.num_hidden_layers = 4;
  const auto cluster = test_support::dgx_nodes(2);  // 16 GPUs: t 2, p 2, d 4
  const auto setup = test_support::tiny_setup(16, 1);
  const auto plan = test_support::megatron_plan(
      model, cluster, setup, {{"tensor_model_parallel_size", 2}, {"pipeline_model_parallel_size", 2}, {"zero_stage", 1}});
  const auto classes = plan.rank_classes();
  ASSERT_EQ(classes.size(), 2u);  // one per pipeline stage
  const auto prog = policies::lower(plan, model, setup);
  for (const auto& c : classes) {
    EXPECT_EQ(c.size(), 8u);
    for (const auto r : c) {
      EXPECT_EQ(plan.stage_of(r), plan.stage_of(c.front()));
      expect_same_shape(prog.ranks[static_cast<std::size_t>(c.front().value)], prog.ranks[static_cast<std::size_t>(r.value)]);
    }
  }
  // The compact form lowers each class's first rank only, with every group.
  const auto compact = policies::lower_compact(plan, model, setup);
  EXPECT_EQ(compact.groups, prog.groups);
  for (const auto& c : classes)
    EXPECT_EQ(compact.ranks[static_cast<std::size_t>(c.front().value)], prog.ranks[static_cast<std::size_t>(c.front().value)]);
}

TEST(Layout, UnequalSharesMakeDifferentClasses) {
  const auto cluster = platforms::load_cluster("quickstart", platforms::GpuCatalogue::shipped());  // 4 A100 + 4 RTX 4090
  // A model large enough for compute, not the kernels' fixed costs, to set the GPUs' speeds.
  auto setup = test_support::tiny_setup(64, 2);
  setup.seq_length = 1024;
  const auto plan = test_support::data_parallel_plan(workloads::load_model("gpt3-125m"), cluster, setup);
  const auto classes = plan.rank_classes();
  ASSERT_GE(classes.size(), 2u);
  std::size_t members = 0;
  for (const auto& c : classes) {
    members += c.size();
    for (const auto r : c)
      EXPECT_EQ(plan.ranks[static_cast<std::size_t>(r.value)].micro_batches, plan.ranks[static_cast<std::size_t>(c.front().value)].micro_batches);
  }
  EXPECT_EQ(members, 8u);
}

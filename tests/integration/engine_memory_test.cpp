// Memory tracked op by op: resident buffers once, per-iteration allocs and frees, the peak and
// what filled memory at the peak (by tag).
#include <gtest/gtest.h>

#include "sim/core/error.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using program::MemoryTag;
using testing::buffer;

TEST(Memory, PeakAndBreakdownFromAllocAndFree) {
  program::Program p = testing::make_program(1);
  program::RankProgram& rp = p.ranks[0];
  rp.resident.push_back(buffer(MemoryTag::kParameters, "params", 10e9));
  rp.resident.push_back(buffer(MemoryTag::kOptimizer, "adam", 4e9));
  program::RankBuilder b(rp);
  b.alloc(buffer(MemoryTag::kActivations, "act1", 2e9));
  b.compute("fwd1", testing::compute_op(1e12));
  b.alloc(buffer(MemoryTag::kActivations, "act2", 3e9));  // peak: 10 + 4 + 2 + 3 = 19 GB
  b.compute("fwd2", testing::compute_op(1e12));
  b.free(buffer(MemoryTag::kActivations, "act1", 2e9));
  b.alloc(buffer(MemoryTag::kWorkspace, "ws", 1e9));       // 18 GB, below the peak
  b.free(buffer(MemoryTag::kWorkspace, "ws", 1e9));
  b.free(buffer(MemoryTag::kActivations, "act2", 3e9));
  engine::EngineOptions options;
  options.iterations = 2;  // the iteration frees what it allocates: same peak
  const engine::SimulationResult r = engine::simulate(testing::single_node_cluster(1, {100e9, 1e-6}), p, options);
  const auto& s = r.ranks[0];
  EXPECT_DOUBLE_EQ(s.peak_memory_bytes, 19e9);
  EXPECT_DOUBLE_EQ(s.peak_breakdown.at(MemoryTag::kParameters), 10e9);
  EXPECT_DOUBLE_EQ(s.peak_breakdown.at(MemoryTag::kOptimizer), 4e9);
  EXPECT_DOUBLE_EQ(s.peak_breakdown.at(MemoryTag::kActivations), 5e9);
  EXPECT_EQ(s.peak_breakdown.count(MemoryTag::kWorkspace), 0u);
  // Allocs and frees take no time and appear in the timeline.
  EXPECT_NEAR(r.makespan_s, 2 * 2 * 1e12 / 100e12, 1e-12);
  int allocs = 0;
  for (const auto& e : r.timeline) allocs += e.category == "alloc" ? 1 : 0;
  EXPECT_EQ(allocs, 2 * 3);
}

TEST(Memory, FreeOfUnknownBufferIsAnInternalError) {
  program::Program p = testing::make_program(1);
  program::RankBuilder(p.ranks[0]).free(buffer(MemoryTag::kActivations, "never", 1e9));
  EXPECT_THROW(engine::simulate(testing::single_node_cluster(1, {100e9, 1e-6}), p, {}), core::InternalError);
}

}  // namespace
}  // namespace frugal

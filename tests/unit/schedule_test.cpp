// Pipeline schedules: every unit once, order constraints, Megatron warm-up counts.
#include <gtest/gtest.h>

#include <set>

#include "policies/schedule.hpp"

using namespace frugal::policies;

namespace {

void expect_complete(const std::vector<ScheduleUnit>& units, int m, int v) {
  std::set<std::tuple<bool, int, int>> seen;
  std::set<std::pair<int, int>> forwarded;
  for (const auto& u : units) {
    EXPECT_TRUE(seen.insert({u.forward, u.micro_batch, u.chunk}).second);
    if (u.forward) forwarded.insert({u.micro_batch, u.chunk});
    else EXPECT_TRUE(forwarded.count({u.micro_batch, u.chunk})) << "backward before forward";
  }
  EXPECT_EQ(static_cast<int>(units.size()), 2 * m * v);
}

int max_in_flight(const std::vector<ScheduleUnit>& units) {
  int live = 0, peak = 0;
  for (const auto& u : units) peak = std::max(peak, live += u.forward ? 1 : -1);
  return peak;
}

}  // namespace

TEST(Schedule, GPipeRunsAllForwardsFirst) {
  const auto u = pipeline_schedule(PipelineSchedule::kGPipe, 1, 4, 6);
  expect_complete(u, 6, 1);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(u[static_cast<std::size_t>(i)].forward);
  EXPECT_EQ(max_in_flight(u), 6);
}

TEST(Schedule, OneFOneBHoldsAtMostPMinusStageMicroBatches) {
  for (int stage = 0; stage < 4; ++stage) {
    const auto u = pipeline_schedule(PipelineSchedule::kOneFOneB, stage, 4, 8);
    expect_complete(u, 8, 1);
    EXPECT_EQ(max_in_flight(u), 4 - stage);
  }
}

TEST(Schedule, InterleavedCoversChunksAndNeedsDivisibleMicroBatches) {
  const auto u = pipeline_schedule(PipelineSchedule::kOneFOneB, 0, 2, 4, 2);
  expect_complete(u, 4, 2);
  EXPECT_EQ(u[0], (ScheduleUnit{true, 0, 0}));
  EXPECT_EQ(u[2], (ScheduleUnit{true, 0, 1}));  // after p forwards of chunk 0 comes chunk 1
  EXPECT_THROW(pipeline_schedule(PipelineSchedule::kOneFOneB, 0, 2, 3, 2), std::invalid_argument);
  EXPECT_THROW(pipeline_schedule(PipelineSchedule::kGPipe, 0, 2, 4, 2), std::invalid_argument);
}

TEST(Schedule, IdealBubbleFractions) {
  EXPECT_DOUBLE_EQ(ideal_bubble_fraction(4, 8), 3.0 / 11.0);
  EXPECT_DOUBLE_EQ(ideal_bubble_fraction(4, 8, 2), 3.0 / 19.0);
}

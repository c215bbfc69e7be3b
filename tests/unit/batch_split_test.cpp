// Batch splitting over replicas of different speeds.
#include <gtest/gtest.h>

#include <numeric>

#include "policies/batch_split.hpp"

using frugal::policies::micro_batches_of;
using frugal::policies::split_proportional;

TEST(BatchSplit, ProportionalSumsToTotalAndFollowsSpeed) {
  const auto s = split_proportional(100, {2.0, 1.0, 1.0});
  EXPECT_EQ(std::accumulate(s.begin(), s.end(), std::int64_t{0}), 100);
  EXPECT_EQ(s, (std::vector<std::int64_t>{50, 25, 25}));
  const auto r = split_proportional(10, {1.0, 1.0, 1.0});
  EXPECT_EQ(r, (std::vector<std::int64_t>{4, 3, 3}));  // largest remainder, ties to the lower index
}

TEST(BatchSplit, ProportionalKeepsMinimum) {
  const auto s = split_proportional(4, {1000.0, 1.0, 1.0});
  EXPECT_EQ(s, (std::vector<std::int64_t>{2, 1, 1}));
  EXPECT_THROW(split_proportional(2, {1.0, 1.0, 1.0}), std::invalid_argument);
  EXPECT_THROW(split_proportional(4, {1.0, 0.0}), std::invalid_argument);
}

TEST(BatchSplit, MicroBatchesCoverSamples) {
  EXPECT_EQ(micro_batches_of(7, 2), (std::vector<std::int64_t>{2, 2, 2, 1}));
  EXPECT_EQ(micro_batches_of(8, 4), (std::vector<std::int64_t>{4, 4}));
  EXPECT_TRUE(micro_batches_of(0, 4).empty());
}

// Batch splitting over replicas of different speeds.
#include <gtest/gtest.h>

#include <numeric>

#include "policies/batch_split.hpp"
#include "sim/core/error.hpp"

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

TEST(BatchSplit, BySpeedGivesEveryReplicaAFullMicroBatch) {
  using frugal::policies::split_by_speed;
  // Proportional alone would give the slow replica 1 sample: a micro-batch smaller than 4.
  EXPECT_EQ(split_proportional(16, {10.0, 1.0}), (std::vector<std::int64_t>{15, 1}));
  EXPECT_EQ(split_by_speed(16, 4, {10.0, 1.0}), (std::vector<std::int64_t>{12, 4}));
  // Where proportional shares are all at least a micro-batch, the split is the proportional one.
  EXPECT_EQ(split_by_speed(100, 2, {2.0, 1.0, 1.0}), split_proportional(100, {2.0, 1.0, 1.0}));
  try {
    split_by_speed(64, 4, std::vector<double>(32, 1.0), " (d = GPUs 32 / (t 1 × p 1))");
    FAIL() << "no error";
  } catch (const frugal::core::ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/training/micro_batch_size");
    EXPECT_EQ(e.message(), "micro_batch_size (4) × data-parallel size (32) (d = GPUs 32 / (t 1 × p 1)) = 128 > "
                           "global_batch_size (64): every replica needs at least one full micro-batch");
  }
}

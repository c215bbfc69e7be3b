// micro_batch_size is honoured by every batch split: a replica's share is cut into micro-batches
// of that size (one smaller remainder micro-batch at most), and a global batch too small to give
// every replica a full micro-batch is refused at /training/micro_batch_size.
#include <gtest/gtest.h>

#include <numeric>

#include "tests/support/programs.hpp"

namespace frugal {
namespace {

using test_support::data_parallel_plan;
using test_support::megatron_plan;
using test_support::tiny_model;
using test_support::tiny_setup;

platforms::Cluster mixed_cluster() {  // 4 A100 + 4 RTX 4090: the proportional split is uneven
  return platforms::load_cluster("quickstart", platforms::GpuCatalogue::shipped());
}

std::vector<std::size_t> micro_batch_counts(const policies::Plan& plan) {
  std::vector<std::size_t> out;
  for (const auto& r : plan.ranks) out.push_back(r.micro_batches.size());
  return out;
}

// Every micro-batch but the last of a rank is full, the last is not larger, every rank has at
// least one full one, and the ranks' samples add up to the global batch.
void expect_honoured(const policies::Plan& plan, std::int64_t global, std::int64_t micro) {
  std::int64_t total = 0;
  for (const auto& r : plan.ranks) {
    ASSERT_FALSE(r.micro_batches.empty());
    EXPECT_EQ(r.micro_batches.front(), micro) << "rank " << r.rank.value;
    for (std::size_t i = 0; i + 1 < r.micro_batches.size(); ++i) EXPECT_EQ(r.micro_batches[i], micro);
    EXPECT_LE(r.micro_batches.back(), micro);
    total += r.samples();
  }
  EXPECT_EQ(total, global);
}

TEST(MicroBatchSize, ProportionalDataParallelHonoursIt) {
  const auto cluster = mixed_cluster();
  const auto two = data_parallel_plan(tiny_model(), cluster, tiny_setup(64, 2));
  const auto eight = data_parallel_plan(tiny_model(), cluster, tiny_setup(64, 8));
  expect_honoured(two, 64, 2);
  expect_honoured(eight, 64, 8);
  EXPECT_NE(micro_batch_counts(two), micro_batch_counts(eight));
  const auto counts = micro_batch_counts(two);
  const auto eights = micro_batch_counts(eight);
  EXPECT_GE(std::accumulate(counts.begin(), counts.end(), std::size_t{0}), 32u);  // 64 / 2, plus remainders
  EXPECT_LE(std::accumulate(eights.begin(), eights.end(), std::size_t{0}), 16u);  // 64 / 8 = 8 plus at most 8
}

TEST(MicroBatchSize, TooSmallAGlobalBatchIsRefusedAtTheKey) {
  const auto cluster = test_support::dgx_nodes(4);  // 32 GPUs
  for (const char* split : {"proportional", "equal"}) {
    try {
      data_parallel_plan(tiny_model(), cluster, tiny_setup(64, 4), {{"batch_split", split}});
      FAIL() << split << ": no error";
    } catch (const core::ConfigError& e) {
      EXPECT_NE(e.message().find("128"), std::string::npos) << e.what();  // 4 × 32
    }
  }
  try {
    data_parallel_plan(tiny_model(), cluster, tiny_setup(64, 4));
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/training/micro_batch_size");
  }
  EXPECT_NO_THROW(data_parallel_plan(tiny_model(), cluster, tiny_setup(64, 2)));
}

TEST(MicroBatchSize, ProportionalMegatronHonoursIt) {
  const auto cluster = mixed_cluster();
  const core::Json params = {{"tensor_model_parallel_size", 2}, {"batch_split", "proportional"}};
  const auto two = megatron_plan(tiny_model(), cluster, tiny_setup(32, 2), params);
  const auto eight = megatron_plan(tiny_model(), cluster, tiny_setup(32, 8), params);
  expect_honoured(two, 32 * 2, 2);  // each sample counted on both ranks of its tensor-parallel pair
  expect_honoured(eight, 32 * 2, 8);
  EXPECT_NE(micro_batch_counts(two), micro_batch_counts(eight));
  try {
    megatron_plan(tiny_model(), cluster, tiny_setup(8, 4), params);  // 4 replicas × 4 > 8
    FAIL() << "no error";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/training/micro_batch_size");
    EXPECT_NE(e.message().find("(d = GPUs 8 / (t 2 × p 1))"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace frugal

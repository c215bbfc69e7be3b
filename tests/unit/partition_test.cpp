// Heterogeneity-aware pipeline partitioning: the dynamic program matches brute force, respects
// memory and beats the equal split on mixed devices.
#include <gtest/gtest.h>

#include <random>

#include "policies/partition.hpp"

using namespace frugal::policies;

namespace {

/// `layers` layers of random cost on `speeds.size()` stages (stage time = cost / speed).
PartitionProblem random_problem(int layers, const std::vector<double>& speeds, unsigned seed, double capacity = 1e30) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> cost(1.0, 3.0);
  std::vector<double> c(static_cast<std::size_t>(layers));
  for (auto& x : c) x = cost(rng);
  PartitionProblem p;
  for (double s : speeds) {
    std::vector<double> t, m;
    for (double x : c) {
      t.push_back(x / s);
      m.push_back(x);
    }
    p.layer_time_s.push_back(t);
    p.layer_memory_bytes.push_back(m);
    p.capacity_bytes.push_back(capacity);
  }
  p.boundary_time_s.assign(static_cast<std::size_t>(layers), 0.1);
  return p;
}

}  // namespace

TEST(Partition, DynamicProgramMatchesBruteForce) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const auto p = random_problem(9, {2.0, 1.0, 1.0, 0.5}, seed);
    const auto dp = partition_balanced(p);
    const auto bf = partition_brute_force(p);
    ASSERT_TRUE(dp.feasible);
    EXPECT_NEAR(dp.bottleneck_s, bf.bottleneck_s, 1e-12) << "seed " << seed;
  }
}

TEST(Partition, RespectsMemoryAndReportsInfeasible) {
  auto p = random_problem(8, {1.0, 1.0}, 3, 9.0);
  const auto dp = partition_balanced(p);
  const auto bf = partition_brute_force(p);
  EXPECT_EQ(dp.feasible, bf.feasible);
  if (dp.feasible) {
    EXPECT_NEAR(dp.bottleneck_s, bf.bottleneck_s, 1e-12);
  }
  p.capacity_bytes = {1.0, 1.0};
  EXPECT_FALSE(partition_balanced(p).feasible);
}

TEST(Partition, BeatsEqualSplitOnMixedDevices) {
  const auto p = random_problem(16, {2.0, 2.0, 1.0, 1.0}, 7);
  const auto best = partition_balanced(p);
  const auto equal = evaluate_partition(p, {0, 4, 8, 12});
  EXPECT_LT(best.bottleneck_s, equal.bottleneck_s);
  // Faster stages get more layers.
  EXPECT_GT(best.first[1] - best.first[0], best.first[3] - best.first[2]);
}

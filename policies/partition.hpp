// Layer-to-stage partitioning of a layer chain over pipeline stages whose devices may differ in
// speed and memory: minimise the slowest stage (compute + boundary communication) subject to
// each stage's memory (PipeDream / MadPipe-style dynamic program over (stage, layer prefix)).
#pragma once

#include <vector>

namespace frugal::policies {

struct PartitionProblem {
  /// [stage][layer]: seconds per micro-batch (forward + backward + recompute) of the layer on
  /// the stage's device.
  std::vector<std::vector<double>> layer_time_s;
  /// [stage][layer]: bytes the layer needs on the stage (model state + stored activations).
  std::vector<std::vector<double>> layer_memory_bytes;
  std::vector<double> capacity_bytes;   ///< per stage, after fixed costs (reserve, workspace)
  std::vector<double> boundary_time_s;  ///< [layer]: sending its output to the next stage
};

struct Partition {
  bool feasible = false;
  std::vector<int> first;   ///< stage s holds layers [first[s], first[s+1]); first[0] = 0
  double bottleneck_s = 0;  ///< time of the slowest stage
};

/// Stage time of layers [a, b) on stage s (adds the boundary send unless s is the last stage).
double stage_time_s(const PartitionProblem& problem, int stage, int first_layer, int end_layer);

/// Optimal partition by dynamic programming, O(stages × layers²). Infeasible when no split fits
/// memory (or there are fewer layers than stages).
Partition partition_balanced(const PartitionProblem& problem);

/// Exhaustive search over all splits (tests only: exponential).
Partition partition_brute_force(const PartitionProblem& problem);

/// Bottleneck and feasibility of a given split.
Partition evaluate_partition(const PartitionProblem& problem, const std::vector<int>& first);

}  // namespace frugal::policies

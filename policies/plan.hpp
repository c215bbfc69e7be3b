// A Plan: what the policies decided for a training run — layout, placement of ranks on GPUs,
// per-rank micro-batches, stages, and collective choices — before lowering to a Program.
// Pure data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/ids.hpp"
#include "sim/core/json_reader.hpp"
#include "sim/core/precision.hpp"
#include "sim/program/program.hpp"
#include "policies/schedule.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal::policies {

/// What the study asks for, independent of policy.
struct TrainingSetup {
  std::int64_t global_batch_size = 0;  ///< sequences per iteration (B)
  std::int64_t micro_batch_size = 1;   ///< sequences per micro-batch (b)
  std::int64_t seq_length = 0;         ///< tokens per sequence (s)
  core::Precision precision = core::Precision::kBf16;
  double reserved_memory_bytes = 0;    ///< per GPU: CUDA context, allocator slack, framework
};

struct RankPlan {
  core::RankId rank;
  int gpu = 0;                     ///< global GPU index (node-major)
  int data_parallel_index = 0;
  int stage = 0;                   ///< pipeline stage
  int tensor_parallel_index = 0;
  std::vector<std::int64_t> micro_batches;  ///< sizes (sequences) of this rank's micro-batches
  std::int64_t samples() const;
};

struct Plan {
  std::string policy;   ///< implementation that made it
  std::string reason;   ///< human-readable why (e.g. the split and the speeds behind it)
  int tensor_parallel = 1;
  int pipeline_parallel = 1;
  int data_parallel = 1;
  int virtual_pipeline = 1;             ///< model chunks per pipeline rank (interleaving)
  PipelineSchedule schedule = PipelineSchedule::kOneFOneB;
  int zero_stage = 0;                   ///< ZeRO stage over the data-parallel group (0–3)
  workloads::ShardSpec shard;           ///< tensor split, sequence parallelism, recomputation
  std::string rank_order = "tp-dp-pp";  ///< fastest-varying coordinate first
  std::vector<RankPlan> ranks;          ///< indexed by rank
  /// Virtual stage i (i = chunk × p + pipeline rank) holds layers [first[i], first[i+1]) of
  /// the layer chain (embedding = 0, transformer layers, head = last); size p × v.
  std::vector<int> stage_first_layer;
  double bucket_bytes = 25.0 * 1024 * 1024;  ///< gradient all-reduce bucket size
  program::CollectiveAlgorithm gradient_algorithm = program::CollectiveAlgorithm::kRing;

  core::Json to_json() const;
};

}  // namespace frugal::policies

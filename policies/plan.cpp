// Plan: summary form for summary.json and program metadata.
#include "policies/plan.hpp"

#include <numeric>

namespace frugal::policies {

std::int64_t RankPlan::samples() const {
  return std::accumulate(micro_batches.begin(), micro_batches.end(), std::int64_t{0});
}

core::Json Plan::to_json() const {
  core::Json samples = core::Json::array();
  core::Json micro = core::Json::array();
  core::Json gpus = core::Json::array();
  core::Json coordinates = core::Json::array();
  for (const RankPlan& r : ranks) {
    coordinates.push_back({r.tensor_parallel_index, r.stage, r.data_parallel_index});
    samples.push_back(r.samples());
    micro.push_back(r.micro_batches.size());
    gpus.push_back(r.gpu);
  }
  return core::Json{{"policy", policy},
                    {"reason", reason},
                    {"tensor_model_parallel_size", tensor_parallel},
                    {"pipeline_model_parallel_size", pipeline_parallel},
                    {"data_parallel_size", data_parallel},
                    {"virtual_pipeline_model_parallel_size", virtual_pipeline},
                    {"schedule", schedule == PipelineSchedule::kGPipe ? "gpipe" : "1f1b"},
                    {"zero_stage", zero_stage},
                    {"sequence_parallel", shard.sequence_parallel},
                    {"recompute_granularity", shard.recompute == workloads::Recompute::kNone        ? "none"
                                              : shard.recompute == workloads::Recompute::kSelective ? "selective"
                                                                                                    : "full"},
                    {"rank_order", rank_order},
                    {"stage_first_layer", stage_first_layer},
                    {"rank_gpus", gpus},
                    {"rank_coordinates_tp_pp_dp", coordinates},
                    {"samples_per_rank", samples},
                    {"micro_batches_per_rank", micro},
                    {"bucket_size_bytes", bucket_bytes},
                    {"gradient_algorithm", program::to_string(gradient_algorithm)}};
}

}  // namespace frugal::policies

// Plan: invariants, classes of identical ranks, and the summary form for summary.json and
// program metadata.
#include "policies/plan.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <stdexcept>

#include "sim/core/error.hpp"

namespace frugal::policies {

const std::vector<std::string>& amax_reduction_names() {
  static const std::vector<std::string> names = {"data", "tensor", "none"};
  return names;
}

std::string to_string(AmaxReduction a) { return amax_reduction_names()[static_cast<std::size_t>(a)]; }

AmaxReduction parse_amax_reduction(const std::string& name) {
  const auto& names = amax_reduction_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<AmaxReduction>(i);
  throw std::invalid_argument("unknown amax reduction \"" + name + "\"");
}

std::int64_t RankPlan::samples() const {
  return std::accumulate(micro_batches.begin(), micro_batches.end(), std::int64_t{0});
}

std::vector<std::vector<core::RankId>> Plan::rank_classes() const {
  std::map<std::pair<int, std::vector<std::int64_t>>, std::size_t> index;
  std::vector<std::vector<core::RankId>> classes;
  for (const RankPlan& r : ranks) {
    const auto [it, fresh] = index.try_emplace({stage_of(r.rank), r.micro_batches}, classes.size());
    if (fresh) classes.emplace_back();
    classes[it->second].push_back(r.rank);
  }
  return classes;
}

void Plan::check() const {
  auto fail = [](const std::string& what) { throw core::InternalError("plan: " + what); };
  if (static_cast<int>(ranks.size()) != layout.world())
    fail(std::to_string(ranks.size()) + " ranks, the layout has " + std::to_string(layout.world()));
  for (std::size_t i = 0; i < ranks.size(); ++i)
    if (ranks[i].rank.value != static_cast<std::int64_t>(i)) fail("ranks[" + std::to_string(i) + "] is rank " + std::to_string(ranks[i].rank.value));
  if (static_cast<int>(stage_first_layer.size()) != pipeline_parallel() * virtual_pipeline)
    fail(std::to_string(stage_first_layer.size()) + " stage boundaries, expected p×v = " +
         std::to_string(pipeline_parallel() * virtual_pipeline));
  if (!memory.schedules.empty() && memory.schedules.size() != stage_first_layer.size())
    fail(std::to_string(memory.schedules.size()) + " rematerialization schedules for " +
         std::to_string(stage_first_layer.size()) + " virtual stages");
  if (layout.size(Dim::kExpert) != 1) fail("expert parallelism is not lowered yet");
  if (shard.context_parallel != context_parallel())
    fail("shard.context_parallel (" + std::to_string(shard.context_parallel) + ") differs from the layout's (" +
         std::to_string(context_parallel()) + ")");
}

namespace {

/// "none" (on the device), "cpu" (host memory), "nvme": the values of megatron's offload options.
std::string tier_name(program::Location where) {
  return where == program::Location::kDevice ? "none" : where == program::Location::kHost ? "cpu" : "nvme";
}

std::string recompute_summary(const workloads::ShardSpec& shard) {
  if (shard.per_layer.empty()) return workloads::to_string(shard.recompute);
  for (auto r : shard.per_layer)
    if (r != shard.per_layer.front()) return "per_layer";
  return workloads::to_string(shard.per_layer.front());
}

}  // namespace

core::Json Plan::to_json() const {
  core::Json samples = core::Json::array();
  core::Json micro = core::Json::array();
  core::Json gpus = core::Json::array();
  core::Json coordinates = core::Json::array();
  for (const RankPlan& r : ranks) {
    const Coord c = layout.coord(r.rank);
    coordinates.push_back({c[Dim::kTensor], c[Dim::kPipeline], c[Dim::kData]});
    samples.push_back(r.samples());
    micro.push_back(r.micro_batches.size());
    gpus.push_back(r.gpu);
  }
  core::Json memory_json{{"policy", memory.policy}, {"reason", memory.reason}};
  if (!memory.offload.empty())
    memory_json["offloaded_layers"] = std::count(memory.offload.begin(), memory.offload.end(), true);
  if (!memory.schedules.empty()) {
    // One line per virtual stage: "F<k>/<keep>" forwards and "B<k>" backwards in order.
    core::Json schedules = core::Json::array();
    for (const auto& ops : memory.schedules) {
      std::string line;
      for (const RematOp& op : ops) {
        if (!line.empty()) line += ' ';
        line += (op.backward ? "B" : "F") + std::to_string(op.stage) + (op.backward ? "" : "/" + to_string(op.keep));
      }
      schedules.push_back(std::move(line));
    }
    memory_json["schedules"] = std::move(schedules);
    memory_json["min_budget_bytes"] = memory.min_budget_bytes;
  }
  return core::Json{{"policy", policy},
                    {"reason", reason},
                    {"tensor_model_parallel_size", tensor_parallel()},
                    {"pipeline_model_parallel_size", pipeline_parallel()},
                    {"data_parallel_size", data_parallel()},
                    {"context_parallel_size", layout.size(Dim::kContext)},
                    {"expert_model_parallel_size", layout.size(Dim::kExpert)},
                    {"virtual_pipeline_model_parallel_size", virtual_pipeline},
                    {"schedule", schedule == PipelineSchedule::kGPipe ? "gpipe" : "1f1b"},
                    {"zero_stage", zero_stage},
                    {"model_state", to_string(state_convention)},
                    {"sequence_parallel", shard.sequence_parallel},
                    {"attention", workloads::to_string(shard.attention)},
                    {"recompute_granularity", memory.schedules.empty() ? recompute_summary(shard) : std::string("schedule")},
                    {"memory", std::move(memory_json)},
                    {"rank_order", layout.order_string()},
                    {"stage_first_layer", stage_first_layer},
                    {"rank_gpus", gpus},
                    {"rank_coordinates_tp_pp_dp", coordinates},
                    {"samples_per_rank", samples},
                    {"micro_batches_per_rank", micro},
                    {"bucket_size_bytes", bucket_bytes},
                    {"overlap_grad_reduce", overlap_grad_reduce},
                    {"overlap_param_gather", overlap_param_gather},
                    {"prefetch_layers", prefetch_layers},
                    {"tp_comm_overlap", tp_comm_overlap},
                    {"async_tensor_model_parallel_allreduce", async_tensor_model_parallel_allreduce},
                    {"scatter_gather_tensors_in_pipeline", scatter_gather_tensors_in_pipeline},
                    {"overlap_p2p_comm", overlap_p2p_comm},
                    {"offload_optimizer", tier_name(optimizer_state)},
                    {"offload_param", tier_name(parameter_state)},
                    {"gradient_algorithm", program::to_string(gradient_algorithm)}};
}

}  // namespace frugal::policies

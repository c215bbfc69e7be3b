// data_parallel: every GPU holds the whole model and a share of the batch; gradients are
// all-reduced in buckets that overlap the backward pass (PyTorch DDP). On mixed GPUs the batch
// is split proportionally to each GPU's per-sample compute speed, so fast GPUs do not wait; each
// GPU's share is cut into micro-batches of micro_batch_size (every GPU gets at least one full one).
#include <algorithm>
#include <sstream>

#include "policies/batch_split.hpp"
#include "policies/parallelism/parallelism_policy.hpp"
#include "sim/cost/collective_algorithms.hpp"
#include "sim/cost/compute_cost.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal::policies {
namespace {

using core::ParamSpec;
using core::ParamType;

class DataParallel final : public ParallelismPolicy {
 public:
  explicit DataParallel(const core::PluginParams& p)
      : proportional_(p.string("batch_split") == "proportional"),
        bucket_bytes_(p.number("bucket_size")),
        algorithm_(p.string("algorithm")) {}

  Plan plan(const workloads::ModelSpec& model, const platforms::Cluster& cluster, const TrainingSetup& setup,
            const MemoryPolicy& memory) const override {
    const int world = cluster.gpu_count();
    Plan plan;
    plan.policy = "data_parallel";
    plan.layout = Layout({1, 1, 1, world, 1}, kAllDims);
    plan.shard.attention = setup.attention;
    plan.memory = memory.decide(MemoryView{model, setup, plan.shard});
    plan.shard.per_layer = plan.memory.recompute;
    plan.stage_first_layer = {0};
    plan.bucket_bytes = bucket_bytes_;
    plan.gradient_algorithm = cost::parse_algorithm(algorithm_);  // auto: chosen per bucket by its size

    std::vector<std::int64_t> samples;
    std::ostringstream why;
    if (proportional_) {
      const auto chain = workloads::build_layer_chain(model, setup.seq_length, setup.precision, plan.shard);
      std::vector<double> speeds;
      for (int g = 0; g < world; ++g)
        speeds.push_back(1.0 / cost::chain_seconds_per_sample(chain, setup.micro_batch_size, cluster.gpu_spec(g), setup.precision));
      samples = split_by_speed(setup.global_batch_size, setup.micro_batch_size, speeds);
      why << "batch split proportionally to per-sample speed:";
      std::map<std::string, std::pair<double, std::int64_t>> by_gpu;
      for (int g = 0; g < world; ++g) by_gpu[cluster.gpu_spec(g).name] = {speeds[static_cast<std::size_t>(g)], samples[static_cast<std::size_t>(g)]};
      for (const auto& [name, v] : by_gpu) why << " " << name << " " << v.first << " samples/s -> " << v.second << ";";
    } else {
      const std::int64_t per_step = setup.micro_batch_size * world;
      if (setup.global_batch_size % per_step != 0) {
        throw core::ConfigError(
            "", "/training/global_batch_size",
            "global_batch_size (" + std::to_string(setup.global_batch_size) + ") is not a multiple of micro_batch_size (" +
                std::to_string(setup.micro_batch_size) + ") × data-parallel size (" + std::to_string(world) +
                ") = " + std::to_string(per_step) + "; gradient accumulation steps would be " +
                std::to_string(setup.global_batch_size / static_cast<double>(per_step)));
      }
      samples.assign(static_cast<std::size_t>(world), setup.global_batch_size / world);
      why << "equal split: " << samples.front() << " samples per GPU ("
          << samples.front() / setup.micro_batch_size << " micro-batches of " << setup.micro_batch_size << ")";
    }
    why << " gradient all-reduce: " << program::to_string(plan.gradient_algorithm);
    plan.reason = why.str();

    check_schedule_size(samples, setup.micro_batch_size, 1, model.num_hidden_layers + 2);  // + embedding, head
    for (int g = 0; g < world; ++g) {
      RankPlan r;
      r.rank = core::RankId(g);
      r.gpu = g;
      r.micro_batches = micro_batches_of(samples[static_cast<std::size_t>(g)], setup.micro_batch_size);
      plan.ranks.push_back(std::move(r));
    }
    return plan;
  }

 private:
  bool proportional_;
  double bucket_bytes_;
  std::string algorithm_;
};

}  // namespace

core::PluginInfo data_parallel_parallelism_info() {
  core::PluginInfo info;
  info.name = "data_parallel";
  info.summary = "whole model on every GPU, batch split over GPUs, bucketed gradient all-reduce overlapping backward";
  info.params = {
      ParamSpec{"batch_split", ParamType::kChoice, {}, "proportional", -1e300, 1e300, {"proportional", "equal"},
                "proportional: samples per GPU proportional to its per-sample speed, at least micro_batch_size each "
                "(global_batch_size >= micro_batch_size × GPUs), cut into micro-batches of micro_batch_size and a "
                "smaller remainder one where the share is not a multiple; equal: the same on every GPU "
                "(global_batch_size must be a multiple of micro_batch_size × GPUs)"},
      ParamSpec{"bucket_size", ParamType::kQuantity, core::Dimension::kBytes, 25.0 * 1024 * 1024, 1, 1e15, {},
                "gradient bytes per all-reduce bucket (PyTorch DDP's bucket_cap_mb, 25 MiB by default)"},
      ParamSpec{"algorithm", ParamType::kChoice, {}, "auto", -1e300, 1e300, {"auto", "ring", "hierarchical", "tree", "nvls"},
                "gradient all-reduce algorithm; auto: per bucket, the fastest the group allows for its size (NCCL's "
                "tuning; see the collective algorithms)"},
  };
  return info;
}

std::unique_ptr<ParallelismPolicy> make_data_parallel_parallelism(const core::PluginParams& params) {
  return std::make_unique<DataParallel>(params);
}

}  // namespace frugal::policies

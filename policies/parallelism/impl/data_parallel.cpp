// data_parallel: every GPU holds the whole model and a share of the batch; gradients are
// all-reduced in buckets that overlap the backward pass (PyTorch DDP). On mixed GPUs the batch
// is split proportionally to each GPU's per-sample compute speed, so fast GPUs do not wait.
#include <algorithm>
#include <sstream>

#include "policies/batch_split.hpp"
#include "policies/parallelism/parallelism_policy.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal::policies {
namespace {

using core::ParamSpec;
using core::ParamType;

/// Seconds one GPU needs per sample for forward + backward, from the layer chain: the same
/// cost model as the simulator's compute ops (FLOPs at effective speed + bytes at HBM speed).
double seconds_per_sample(const workloads::LayerChain& chain, const platforms::GpuSpec& gpu,
                          core::Precision precision) {
  double flops = 0, bytes = 0;
  for (const auto& l : chain.layers) {
    flops += l.forward_flops + l.backward_flops + l.recompute_flops;
    bytes += l.forward_memory_bytes + l.backward_memory_bytes;
  }
  return flops / gpu.effective_flops_per_s(gpu.runs_as(precision)) + bytes / gpu.hbm_bandwidth_bytes_per_s;
}

class DataParallel final : public ParallelismPolicy {
 public:
  explicit DataParallel(const core::PluginParams& p)
      : proportional_(p.string("batch_split") == "proportional"),
        bucket_bytes_(p.number("bucket_size")),
        algorithm_(p.string("algorithm")) {}

  Plan plan(const workloads::ModelSpec& model, const platforms::Cluster& cluster,
            const TrainingSetup& setup) const override {
    const int world = cluster.gpu_count();
    Plan plan;
    plan.policy = "data_parallel";
    plan.data_parallel = world;
    plan.stage_first_layer = {0};
    plan.bucket_bytes = bucket_bytes_;
    plan.gradient_algorithm = choose_algorithm(cluster);

    std::vector<std::int64_t> samples;
    std::ostringstream why;
    if (proportional_) {
      const auto chain = workloads::build_layer_chain(model, setup.seq_length, setup.precision);
      std::vector<double> speeds;
      for (int g = 0; g < world; ++g)
        speeds.push_back(1.0 / seconds_per_sample(chain, cluster.gpu_spec(g), setup.precision));
      try {
        samples = split_proportional(setup.global_batch_size, speeds, 1);
      } catch (const std::invalid_argument& e) {
        throw core::ConfigError("", "/training/global_batch_size", e.what());
      }
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

    for (int g = 0; g < world; ++g) {
      RankPlan r;
      r.rank = core::RankId(g);
      r.gpu = g;
      r.data_parallel_index = g;
      r.micro_batches = micro_batches_of(samples[static_cast<std::size_t>(g)], setup.micro_batch_size);
      plan.ranks.push_back(std::move(r));
    }
    return plan;
  }

 private:
  /// Hierarchical when the group spans several nodes with the same GPU count each.
  program::CollectiveAlgorithm choose_algorithm(const platforms::Cluster& cluster) const {
    if (algorithm_ == "ring") return program::CollectiveAlgorithm::kRing;
    if (algorithm_ == "hierarchical") return program::CollectiveAlgorithm::kHierarchical;
    if (cluster.node_count() < 2) return program::CollectiveAlgorithm::kRing;
    const int per_node = cluster.type_of_node(core::NodeId(0)).gpus_per_node;
    for (int n = 1; n < cluster.node_count(); ++n)
      if (cluster.type_of_node(core::NodeId(n)).gpus_per_node != per_node) return program::CollectiveAlgorithm::kRing;
    return per_node > 1 ? program::CollectiveAlgorithm::kHierarchical : program::CollectiveAlgorithm::kRing;
  }

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
                "proportional: samples per GPU proportional to its per-sample speed; equal: the same on every "
                "GPU (global_batch_size must be a multiple of micro_batch_size × GPUs)"},
      ParamSpec{"bucket_size", ParamType::kQuantity, core::Dimension::kBytes, 25.0 * 1024 * 1024, 1, 1e15, {},
                "gradient bytes per all-reduce bucket (PyTorch DDP's bucket_cap_mb, 25 MiB by default)"},
      ParamSpec{"algorithm", ParamType::kChoice, {}, "auto", -1e300, 1e300, {"auto", "ring", "hierarchical"},
                "gradient all-reduce algorithm; auto: hierarchical when GPUs span nodes of equal size"},
  };
  return info;
}

std::unique_ptr<ParallelismPolicy> make_data_parallel_parallelism(const core::PluginParams& params) {
  return std::make_unique<DataParallel>(params);
}

}  // namespace frugal::policies

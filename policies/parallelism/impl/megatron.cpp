// megatron: 3D parallelism in Megatron-LM's vocabulary — tensor (optionally sequence-parallel),
// pipeline (GPipe, 1F1B, interleaved 1F1B) and data parallelism with ZeRO stages — with
// heterogeneity-aware choices: layer-to-stage partition by stage speed and memory, and batch
// split over data-parallel replicas by replica speed. Invalid layouts are errors that show the
// arithmetic.
#include <algorithm>
#include <sstream>

#include "policies/batch_split.hpp"
#include "policies/model_state.hpp"
#include "policies/parallelism/parallelism_policy.hpp"
#include "policies/partition.hpp"
#include "sim/cost/collective_algorithms.hpp"
#include "sim/cost/compute_cost.hpp"

namespace frugal::policies {
namespace {

using core::ConfigError;
using core::ParamSpec;
using core::ParamType;

/// A layout this policy cannot plan, blamed on one of its parameters; the caller locates it.
[[noreturn]] void fail(const std::string& param, const std::string& message) {
  throw core::ParamError(param, message);
}

std::string str(std::int64_t v) { return std::to_string(v); }

class Megatron final : public ParallelismPolicy {
 public:
  explicit Megatron(const core::PluginParams& p)
      : t_(static_cast<int>(p.integer("tensor_model_parallel_size"))),
        p_(static_cast<int>(p.integer("pipeline_model_parallel_size"))),
        c_(static_cast<int>(p.integer("context_parallel_size"))),
        v_(static_cast<int>(p.integer("virtual_pipeline_model_parallel_size"))),
        sequence_parallel_(p.boolean("sequence_parallel")),
        schedule_(p.string("schedule") == "gpipe" ? PipelineSchedule::kGPipe : PipelineSchedule::kOneFOneB),
        zero_stage_(static_cast<int>(p.integer("zero_stage"))),
        state_convention_(state_convention_from_string(p.string("model_state"))),
        balanced_(p.string("partition") == "balanced"),
        proportional_(p.string("batch_split") == "proportional"),
        bucket_bytes_(p.number("bucket_size")),
        overlap_grad_reduce_(p.boolean("overlap_grad_reduce")),
        overlap_param_gather_(p.boolean("overlap_param_gather")),
        tp_comm_overlap_(p.boolean("tp_comm_overlap")),
        async_tp_allreduce_(p.boolean("async_tensor_model_parallel_allreduce")),
        scatter_gather_(p.boolean("scatter_gather_tensors_in_pipeline")),
        overlap_p2p_(p.boolean("overlap_p2p_comm")),
        prefetch_layers_(static_cast<int>(p.integer("prefetch_layers"))),
        optimizer_state_(p.string("offload_optimizer") == "cpu"    ? program::Location::kHost
                         : p.string("offload_optimizer") == "nvme" ? program::Location::kNvme
                                                                    : program::Location::kDevice),
        parameter_state_(p.string("offload_param") == "cpu"    ? program::Location::kHost
                         : p.string("offload_param") == "nvme" ? program::Location::kNvme
                                                               : program::Location::kDevice),
        algorithm_(p.string("gradient_algorithm")),
        rank_order_(p.string("rank_order")) {}

  void check_cluster(const platforms::Cluster& cluster) const override {
    for (const auto& [param, where, what] : {std::tuple{"offload_optimizer", optimizer_state_, "the optimizer state"},
                                             std::tuple{"offload_param", parameter_state_, "the weight shards"}}) {
      if (where != program::Location::kNvme) continue;
      for (const auto& type : cluster.node_types)
        if (!type.has_nvme())
          fail(param, std::string("\"nvme\" keeps ") + what + " on the nodes' NVMe, and node type \"" + type.name +
                          "\" of the cluster declares none (\"nvme\": {\"capacity\", \"bandwidth\"})");
    }
  }

  Plan plan(const workloads::ModelSpec& model, const platforms::Cluster& cluster, const TrainingSetup& setup,
            const MemoryPolicy& memory) const override {
    const int world = cluster.gpu_count();
    check_layout(model, world, setup);
    Plan plan;
    plan.policy = "megatron";
    const int d = world / (t_ * c_ * p_);
    plan.layout = Layout({t_, c_, 1, d, p_}, Layout::parse_order(rank_order_));
    plan.virtual_pipeline = v_;
    plan.schedule = schedule_;
    plan.zero_stage = zero_stage_;
    plan.state_convention = state_convention_;
    plan.shard = shard(setup);
    plan.memory = memory.decide(MemoryView{model, setup, plan.shard});
    plan.shard.per_layer = plan.memory.recompute;
    plan.bucket_bytes = bucket_bytes_;
    plan.overlap_grad_reduce = overlap_grad_reduce_;
    plan.overlap_param_gather = overlap_param_gather_;
    plan.prefetch_layers = prefetch_layers_;
    plan.tp_comm_overlap = tp_comm_overlap_;
    plan.async_tensor_model_parallel_allreduce = async_tp_allreduce_;
    plan.scatter_gather_tensors_in_pipeline = scatter_gather_;
    plan.overlap_p2p_comm = overlap_p2p_ && plan.virtual_pipeline >= 2;  // as Megatron-Core, interleaved only
    plan.optimizer_state = optimizer_state_;
    plan.parameter_state = parameter_state_;

    for (int r = 0; r < world; ++r) {
      RankPlan rp;
      rp.rank = core::RankId(r);
      rp.gpu = r;
      plan.ranks.push_back(std::move(rp));
    }
    plan.gradient_algorithm = cost::parse_algorithm(algorithm_);  // auto: chosen per bucket by its size

    const auto chain = workloads::build_layer_chain(model, setup.seq_length, setup.precision, plan.shard);
    std::ostringstream why;
    why << "t=" << t_ << (c_ > 1 ? " c=" + str(c_) : "") << " p=" << p_ << " d=" << d << (v_ > 1 ? " v=" + str(v_) : "") << " ("
        << (schedule_ == PipelineSchedule::kGPipe ? "gpipe" : v_ > 1 ? "interleaved 1f1b" : "1f1b") << ", ZeRO-"
        << zero_stage_ << "); ";
    plan.stage_first_layer = partition(chain, cluster, plan, setup, why);
    split_batch(chain, cluster, plan, setup, why);
    plan.reason = why.str();
    return plan;
  }

 private:
  workloads::ShardSpec shard(const TrainingSetup& setup) const {
    workloads::ShardSpec s;
    s.attention = setup.attention;
    s.tensor_parallel = t_;
    s.sequence_parallel = sequence_parallel_;
    s.context_parallel = c_;
    return s;
  }

  void check_layout(const workloads::ModelSpec& model, int world, const TrainingSetup& setup) const {
    if (world % (t_ * c_ * p_) != 0)
      fail(c_ > 1 ? "context_parallel_size" : "pipeline_model_parallel_size",
           "GPUs (" + str(world) + ") not divisible by tensor_model_parallel_size (" + str(t_) + ") × " +
               (c_ > 1 ? "context_parallel_size (" + str(c_) + ") × " : std::string()) + "pipeline_model_parallel_size (" +
               str(p_) + ") = " + str(t_ * c_ * p_));
    if (setup.seq_length % c_ != 0)
      fail("context_parallel_size", "seq_length (" + str(setup.seq_length) + ") not divisible by context_parallel_size (" +
                                        str(c_) + ")");
    if (model.num_attention_heads % t_ != 0)
      fail("tensor_model_parallel_size", "num_attention_heads (" + str(model.num_attention_heads) +
                                             ") not divisible by tensor_model_parallel_size (" + str(t_) + ")");
    if (model.num_key_value_heads % t_ != 0)
      fail("tensor_model_parallel_size", "num_key_value_heads (" + str(model.num_key_value_heads) +
                                             ") not divisible by tensor_model_parallel_size (" + str(t_) + ")");
    if (model.intermediate_size % t_ != 0)
      fail("tensor_model_parallel_size", "intermediate_size (" + str(model.intermediate_size) +
                                             ") not divisible by tensor_model_parallel_size (" + str(t_) +
                                             "): the MLP's columns split evenly over the tensor-parallel ranks");
    if (model.num_hidden_layers < static_cast<std::int64_t>(p_) * v_)
      fail("pipeline_model_parallel_size", "num_hidden_layers (" + str(model.num_hidden_layers) + ") < pipeline stages (" +
                                               str(p_) + " × " + str(v_) + " chunks = " + str(p_ * v_) + ")");
    if (v_ > 1 && schedule_ == PipelineSchedule::kGPipe)
      fail("virtual_pipeline_model_parallel_size", "interleaving (v = " + str(v_) + ") needs schedule \"1f1b\"");
    if (v_ > 1 && balanced_)
      fail("partition", "\"balanced\" partitions one chunk per stage; use \"equal\" with virtual_pipeline_model_parallel_size > 1");
    if (!overlap_grad_reduce_ && zero_stage_ >= 2)
      fail("overlap_grad_reduce", "ZeRO stage " + str(zero_stage_) +
                                      " reduces gradients bucket by bucket as the backward frees them; "
                                      "overlap_grad_reduce false needs zero_stage 0 or 1");
    if (overlap_param_gather_ && (zero_stage_ < 1 || zero_stage_ > 2))
      fail("overlap_param_gather", "gathering updated weights needs the distributed optimizer's sharding: zero_stage 1 or 2 "
                                   "(ZeRO-3 gathers every layer before its forward anyway), got " + str(zero_stage_));
    if (prefetch_layers_ != 1 && zero_stage_ != 3)
      fail("prefetch_layers", "prefetching gathered weights needs ZeRO-3's per-layer all-gathers: zero_stage 3, got " +
                                  str(zero_stage_));
    if (sequence_parallel_ && t_ < 2) fail("sequence_parallel", "sequence parallelism needs tensor_model_parallel_size > 1");
    if (optimizer_state_ != program::Location::kDevice && zero_stage_ < 1)
      fail("offload_optimizer", "ZeRO-Offload keeps the optimizer's partition on the CPU: zero_stage 1, 2 or 3, got " +
                                    str(zero_stage_));
    if (parameter_state_ != program::Location::kDevice && zero_stage_ != 3)
      fail("offload_param", "parameter offload keeps each rank's ZeRO-3 weight shard off the GPU: zero_stage 3, got " +
                                str(zero_stage_));
    if (tp_comm_overlap_ && !sequence_parallel_)
      fail("tp_comm_overlap", "overlapping tensor-parallel communication with the GEMMs needs sequence_parallel true "
                              "(its all-gathers and reduce-scatters are what Transformer Engine pipelines)");
  }

  /// Slowest GPU of each pipeline stage (all replicas share the layer-to-stage mapping).
  std::vector<const platforms::GpuSpec*> stage_gpus(const platforms::Cluster& cluster, const Plan& plan,
                                                    core::Precision precision) const {
    std::vector<const platforms::GpuSpec*> out(static_cast<std::size_t>(p_), nullptr);
    for (const RankPlan& r : plan.ranks) {
      const auto* g = &cluster.gpu_spec(r.gpu);
      auto& slot = out[static_cast<std::size_t>(plan.stage_of(r.rank))];
      if (!slot || g->effective_flops_per_s(g->runs_as(precision)) < slot->effective_flops_per_s(slot->runs_as(precision))) slot = g;
    }
    return out;
  }

  std::vector<int> partition(const workloads::LayerChain& chain, const platforms::Cluster& cluster, const Plan& plan,
                             const TrainingSetup& setup, std::ostringstream& why) const {
    const int layers = static_cast<int>(chain.layers.size());  // embedding + L + head
    const int transformer = layers - 2;
    const int stages = p_ * v_;
    std::vector<int> equal(static_cast<std::size_t>(stages), 0);
    if (transformer % stages != 0 && !balanced_)
      fail("pipeline_model_parallel_size", "num_hidden_layers (" + str(transformer) + ") not divisible by pipeline stages (" +
                                               str(p_) + " × " + str(v_) + " = " + str(stages) +
                                               ") for the equal partition (use \"partition\": \"balanced\")");
    for (int s = 1; s < stages; ++s) equal[static_cast<std::size_t>(s)] = 1 + s * (transformer / std::max(stages, 1));
    if (!balanced_ || p_ == 1) {
      why << "equal partition; ";
      return equal;
    }
    // Balanced: per-stage device speed and memory (1F1B keeps p − s micro-batches in flight on
    // stage s, GPipe all of them).
    const auto gpus = stage_gpus(cluster, plan, setup.precision);
    const auto b = static_cast<double>(setup.micro_batch_size);
    const auto state = model_state_bytes(setup.precision, plan.state_convention);
    const double micro_batches = static_cast<double>(setup.global_batch_size) / (b * plan.data_parallel());
    PartitionProblem problem;
    for (int s = 0; s < p_; ++s) {
      const auto& gpu = *gpus[static_cast<std::size_t>(s)];
      const double in_flight = schedule_ == PipelineSchedule::kGPipe ? micro_batches : std::min<double>(p_ - s, micro_batches);
      std::vector<double> time, memory;
      for (const auto& l : chain.layers) {
        time.push_back(cost::layer_seconds(l, setup.micro_batch_size, gpu, setup.precision));
        memory.push_back(sharded_model_state(l.parameters, state, zero_stage_, plan.gradient_replicas()).total_bytes() +
                         l.activation_bytes * b * in_flight);
      }
      problem.layer_time_s.push_back(std::move(time));
      problem.layer_memory_bytes.push_back(std::move(memory));
      double transient = 0;
      for (const auto& l : chain.layers) transient = std::max(transient, l.transient_bytes * b);
      problem.capacity_bytes.push_back(gpu.memory_bytes - setup.reserved_memory_bytes - transient);
    }
    const auto& link = cluster.type_of_gpu(plan.ranks.back().gpu).nic;
    for (const auto& l : chain.layers) problem.boundary_time_s.push_back(link.latency_s + l.output_bytes * b / link.bandwidth_bytes_per_s);
    const Partition best = partition_balanced(problem);
    if (!best.feasible) {
      why << "balanced partition infeasible in memory, equal partition used; ";
      return equal;
    }
    const Partition eq = evaluate_partition(problem, equal);
    why << "balanced partition (slowest stage " << best.bottleneck_s * 1e3 << " ms per micro-batch vs "
        << eq.bottleneck_s * 1e3 << " ms equal); ";
    return best.first;
  }

  void split_batch(const workloads::LayerChain& chain, const platforms::Cluster& cluster, Plan& plan, const TrainingSetup& setup,
                   std::ostringstream& why) const {
    const int d = plan.data_parallel();
    const std::int64_t b = setup.micro_batch_size;
    std::vector<std::int64_t> samples;
    if (!proportional_) {
      if (setup.global_batch_size % (b * d) != 0)
        throw ConfigError("", "/training/global_batch_size",
                          "global_batch_size (" + str(setup.global_batch_size) + ") is not a multiple of micro_batch_size (" +
                              str(b) + ") × data-parallel size (" + str(d) + ") = " + str(b * d) + " (d = GPUs " +
                              str(cluster.gpu_count()) + " / (t " + str(t_) + (c_ > 1 ? " × c " + str(c_) : "") + " × p " +
                              str(p_) + "))");
      samples.assign(static_cast<std::size_t>(d), setup.global_batch_size / d);
      why << "equal batch split: " << samples.front() << " samples per replica";
    } else {
      // A replica runs at the pace of its slowest stage.
      std::vector<double> stage_time(static_cast<std::size_t>(d * p_), 0.0);
      for (const RankPlan& r : plan.ranks) {
        const Coord at = plan.coord(r.rank);
        double t = 0;
        for (int c = 0; c < v_; ++c) {
          const int vs = c * p_ + at[Dim::kPipeline];
          const int first = plan.stage_first_layer[static_cast<std::size_t>(vs)];
          const int end = vs + 1 < p_ * v_ ? plan.stage_first_layer[static_cast<std::size_t>(vs + 1)] : static_cast<int>(chain.layers.size());
          for (int l = first; l < end; ++l) t += cost::layer_seconds_per_sample(chain.layers[static_cast<std::size_t>(l)], b, cluster.gpu_spec(r.gpu), setup.precision);
        }
        auto& slot = stage_time[static_cast<std::size_t>(at[Dim::kData] * p_ + at[Dim::kPipeline])];
        slot = std::max(slot, t);
      }
      std::vector<double> speeds;
      for (int dp = 0; dp < d; ++dp) {
        const auto begin = stage_time.begin() + dp * p_;
        speeds.push_back(1.0 / *std::max_element(begin, begin + p_));
      }
      samples = split_by_speed(setup.global_batch_size, b, speeds,
                               " (d = GPUs " + str(cluster.gpu_count()) + " / (t " + str(t_) +
                                   (c_ > 1 ? " × c " + str(c_) : "") + " × p " + str(p_) + "))");
      why << "batch split by replica speed:";
      for (std::size_t i = 0; i < samples.size(); ++i) why << " " << samples[i];
    }
    check_schedule_size(samples, b, static_cast<std::int64_t>(t_) * c_ * p_, static_cast<std::int64_t>(chain.layers.size()));
    for (RankPlan& r : plan.ranks) {
      r.micro_batches = micro_batches_of(samples[static_cast<std::size_t>(plan.coord(r.rank)[Dim::kData])], b);
      const auto m = static_cast<std::int64_t>(r.micro_batches.size());
      if (v_ > 1 && m % p_ != 0)
        fail("virtual_pipeline_model_parallel_size", "interleaved 1F1B needs micro-batches per replica (" + str(m) +
                                                         ") to be a multiple of pipeline_model_parallel_size (" + str(p_) + ")");
    }
  }

  int t_, p_, c_, v_;
  bool sequence_parallel_;
  PipelineSchedule schedule_;
  int zero_stage_;
  StateConvention state_convention_;
  bool balanced_, proportional_;
  double bucket_bytes_;
  bool overlap_grad_reduce_, overlap_param_gather_, tp_comm_overlap_, async_tp_allreduce_, scatter_gather_,
      overlap_p2p_;
  int prefetch_layers_;
  program::Location optimizer_state_, parameter_state_;
  std::string algorithm_, rank_order_;
};

ParamSpec int_param(const std::string& name, std::int64_t def, double min, double max, const std::string& what) {
  return ParamSpec{name, ParamType::kInteger, {}, def, min, max, {}, what};
}

ParamSpec choice_param(const std::string& name, const std::string& def, std::vector<std::string> choices, const std::string& what) {
  return ParamSpec{name, ParamType::kChoice, {}, def, -1e300, 1e300, std::move(choices), what};
}

}  // namespace

core::PluginInfo megatron_parallelism_info() {
  core::PluginInfo info;
  info.name = "megatron";
  info.summary = "tensor × pipeline × data parallelism (Megatron-LM), ZeRO stages, heterogeneity-aware partition and batch split";
  info.params = {
      int_param("tensor_model_parallel_size", 1, 1, 1024, "t: GPUs sharing each layer (Megatron column/row split)"),
      int_param("pipeline_model_parallel_size", 1, 1, 1024, "p: pipeline stages"),
      int_param("context_parallel_size", 1, 1, 1024,
                "c: GPUs sharing each sequence (s/c tokens each; K/V all-gathered per layer, gradients reduced over d × c)"),
      int_param("virtual_pipeline_model_parallel_size", 1, 1, 64, "v: model chunks per pipeline rank (interleaved 1F1B)"),
      ParamSpec{"sequence_parallel", ParamType::kBoolean, {}, false, 0, 1, {},
                "shard norms/dropout over t (all-gather + reduce-scatter around each block; the backward re-gathers "
                "each column-parallel input for its weight gradient)"},
      choice_param("schedule", "1f1b", {"1f1b", "gpipe"}, "pipeline schedule (1f1b becomes interleaved when v > 1)"),
      int_param("zero_stage", 0, 0, 3,
                "ZeRO stage over the data-parallel group (1: optimizer, Megatron's distributed optimizer; 2: + gradients; 3: + weights)"),
      choice_param("model_state", "megatron", state_convention_names(),
                   "bytes per parameter: megatron keeps fp32 main gradients and reduces them in fp32 (bf16: 2 + 4 + 12 = 18 B, "
                   "distributed optimizer 6 + 12/d), zero counts the ZeRO paper's 2 + 2 + 12 = 16 B (DeepSpeed, NeMo's "
                   "distributed Adam with bf16 gradient reduction), zero_16bit_optimizer keeps Adam's state and the master "
                   "weights' remainders in 16 bits: 2 + 2 + 6 = 10 B (NeMo's distributed Adam with optim.dtype bf16)"),
      choice_param("partition", "equal", {"equal", "balanced"},
                   "layers per stage: equal, or balanced by each stage's GPU speed and memory (dynamic program)"),
      choice_param("batch_split", "equal", {"equal", "proportional"}, "samples per data-parallel replica: equal, or by replica speed with at least micro_batch_size each, cut into micro-batches of micro_batch_size (a smaller remainder one where a share is not a multiple)"),
      ParamSpec{"bucket_size", ParamType::kQuantity, core::Dimension::kBytes, 25.0 * 1024 * 1024, 1, 1e15, {},
                "gradient bytes per data-parallel bucket"},
      ParamSpec{"overlap_grad_reduce", ParamType::kBoolean, {}, true, 0, 1, {},
                "reduce each gradient bucket as soon as the last micro-batch's backward fills it, overlapping the rest of "
                "the backward (Megatron-Core's --overlap-grad-reduce, on in NeMo's recipes); false: one collective of all "
                "gradients after the whole backward, as Megatron-LM without the flag (zero_stage < 2)"},
      ParamSpec{"overlap_param_gather", ParamType::kBoolean, {}, false, 0, 1, {},
                "ZeRO 1-2 (distributed optimizer): all-gather the updated weights layer by layer during the next "
                "iteration's forward, each layer's first forward waiting for its own (Megatron-Core's "
                "--overlap-param-gather); false: all at once after the optimizer step"},
      int_param("prefetch_layers", 1, 0, kMaxPrefetchLayers,
                "ZeRO-3: layers ahead of the compute each weight all-gather (and offloaded shard copy) may run; the "
                "device holds that many layers' gathered weights beside the current one's (FSDP's prefetch: 1; "
                "DeepSpeed's stage3 prefetch bucket: its bytes / a layer's); 0: each gather waits for the previous "
                "layer's compute"),
      ParamSpec{"tp_comm_overlap", ParamType::kBoolean, {}, false, 0, 1, {},
                "sequence parallelism: run each layer's tensor-parallel all-gathers and reduce-scatters during its compute "
                "on the tensor-parallel stream (Transformer Engine's userbuffers, Megatron-Core's --tp-comm-overlap); "
                "costs 8 persistent buffers of s·b·h elements"},
      ParamSpec{"async_tensor_model_parallel_allreduce", ParamType::kBoolean, {}, true, 0, 1, {},
                "backward: reduce each column-parallel weight's input gradient over the tensor-parallel group (all-reduce, "
                "or reduce-scatter with sequence parallelism) while its weight gradient is computed (Megatron-LM since "
                "2022, Megatron-Core always; Korthikanti et al. 2022, sec. 6.2); false: after the layer's backward, as the "
                "2021 code (Narayanan et al., SC'21)"},
      ParamSpec{"scatter_gather_tensors_in_pipeline", ParamType::kBoolean, {}, true, 0, 1, {},
                "pipeline transfers of a tensor every tensor-parallel rank holds whole (t > 1, no sequence parallelism) go "
                "as t slices, one per rank and NIC, all-gathered over the tensor-parallel group on arrival (Megatron-LM's "
                "scatter/gather optimization, Narayanan et al. SC'21 sec. 4.1; false: "
                "--no-scatter-gather-tensors-in-pipeline)"},
      ParamSpec{"overlap_p2p_comm", ParamType::kBoolean, {}, false, 0, 1, {},
                "interleaved schedule (virtual_pipeline_model_parallel_size >= 2; ignored otherwise, as Megatron-Core "
                "does): post each pipeline receive once the previous unit of the same direction has computed, so the "
                "transfer overlaps the unit in between (Megatron-Core's overlap_p2p_comm, set with batch_p2p_comm false "
                "in NeMo's interleaved recipes); false: receive when the unit that needs the data starts"},
      choice_param("offload_optimizer", "none", {"none", "cpu", "nvme"},
                   "cpu: ZeRO-Offload (Ren et al., ATC'21; DeepSpeed's offload_optimizer): the optimizer state of the rank's "
                   "ZeRO partition lives in host memory, its gradients go device -> host (zero_stage 1: in one copy "
                   "after the backward; 2 or 3: every micro-batch's buckets as the backward reduces them, accumulating "
                   "in host memory, DeepSpeed's stage-2 hooks), Adam runs on the node's CPU and the updated weights "
                   "come back host -> device (zero_stage 1, 2 or 3); nvme: ZeRO-Infinity "
                   "(Rajbhandari et al., SC'21), as cpu with the state kept on the node's NVMe, read into host memory before "
                   "the CPU step and written back after it (every node type must declare an NVMe)"),
      choice_param("offload_param", "none", {"none", "cpu", "nvme"},
                   "ZeRO-3 parameter offload (DeepSpeed's offload_param, ZeRO-Infinity): the rank's weight shard lives in "
                   "host memory (nvme: on the node's NVMe), copied up one layer ahead of its all-gather on the copy stream "
                   "and freed after; the updated shard goes back after the optimizer step (zero_stage 3)"),
      choice_param("gradient_algorithm", "auto", {"auto", "ring", "hierarchical", "tree", "nvls"},
                   "data-parallel all-reduce algorithm; auto: per bucket, the fastest the group allows for its size "
                   "(NCCL's tuning; see the collective algorithms)"),
      choice_param("rank_order", "tp-dp-pp", {"tp-dp-pp", "tp-pp-dp"}, "rank layout, fastest-varying first (tensor parallel inside a node)"),
  };
  return info;
}

std::unique_ptr<ParallelismPolicy> make_megatron_parallelism(const core::PluginParams& params) { return std::make_unique<Megatron>(params); }

}  // namespace frugal::policies

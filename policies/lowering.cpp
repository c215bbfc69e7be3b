// Lowering of 3D-parallel plans (tensor × pipeline × data, ZeRO) to the Program IR.
#include "policies/lowering.hpp"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string_view>

namespace frugal::policies {
namespace {

using program::Collective;
using program::CollectiveAlgorithm;
using program::CollectiveKind;
using program::Compute;
using program::Memory;
using program::MemoryTag;
using program::OpId;
using program::OpKind;
using program::Phase;
using program::Stream;

/// Backward GEMMs of a forward C = A·B [m×n×k]: dA = dC·Bᵀ [m×k×n] and dB = Aᵀ·dC [k×n×m].
void add_backward_gemms(const program::Gemm& f, std::vector<program::Gemm>& out) {
  out.push_back({f.m, f.k, f.n, f.batch});
  out.push_back({f.k, f.n, f.m, f.batch});
}

/// Adam step over `parameters`: reads gradients, fp32 master weights, m and v; writes master,
/// m, v and the training-precision weights. About 12 FLOPs per parameter; memory-bound.
Compute optimizer_step(double parameters, const ModelStateBytes& state) {
  Compute c;
  c.phase = Phase::kOptimizer;
  c.layer = "optimizer";
  c.flops = 12.0 * parameters;
  c.memory_bytes = parameters * (state.gradients + 2.0 * state.optimizer + state.weights);
  return c;
}

/// Groups of the layout: tensor-parallel (per dp, pp), data-parallel (per tp, pp), and the
/// tied-embedding pair (first and last pipeline rank, per tp, dp).
struct Groups {
  std::map<std::pair<int, int>, int> tensor, data, embedding;
};

struct Coords {
  int tp, pp, dp;
};

/// Ranks of a t × p × d layout by coordinates (a dense table: lowering looks a peer up for each
/// send and recv). `at` throws std::out_of_range for a coordinate no rank of the plan has.
class RankTable {
 public:
  RankTable(const Plan& plan)
      : t_(plan.tensor_parallel), p_(plan.pipeline_parallel), d_(plan.data_parallel),
        ranks_(static_cast<std::size_t>(std::max(t_ * p_ * d_, 0))) {
    for (const RankPlan& r : plan.ranks)
      if (inside(r.tensor_parallel_index, r.stage, r.data_parallel_index))
        ranks_[index(r.tensor_parallel_index, r.stage, r.data_parallel_index)] = r.rank;
  }
  core::RankId at(int tp, int pp, int dp) const {
    if (!inside(tp, pp, dp) || !ranks_[index(tp, pp, dp)].valid())
      throw std::out_of_range("no rank at tp " + std::to_string(tp) + ", pp " + std::to_string(pp) + ", dp " +
                              std::to_string(dp));
    return ranks_[index(tp, pp, dp)];
  }

 private:
  bool inside(int tp, int pp, int dp) const { return tp >= 0 && tp < t_ && pp >= 0 && pp < p_ && dp >= 0 && dp < d_; }
  std::size_t index(int tp, int pp, int dp) const {
    return (static_cast<std::size_t>(dp) * static_cast<std::size_t>(p_) + static_cast<std::size_t>(pp)) *
               static_cast<std::size_t>(t_) +
           static_cast<std::size_t>(tp);
  }
  int t_, p_, d_;
  std::vector<core::RankId> ranks_;
};

/// Decimal form of an integer in a stack buffer (as std::to_string writes it).
class Decimal {
 public:
  explicit Decimal(std::int64_t v) { size_ = static_cast<std::size_t>(std::to_chars(buf_, buf_ + sizeof buf_, v).ptr - buf_); }
  operator std::string_view() const { return {buf_, size_}; }

 private:
  char buf_[24];
  std::size_t size_ = 0;
};

/// Concatenation with a single allocation: op names are built for every op of every rank
/// (15 M at GPT-3 175B on 1,024 GPUs), so no temporaries.
std::string join(std::initializer_list<std::string_view> parts) {
  std::size_t size = 0;
  for (const auto part : parts) size += part.size();
  std::string out;
  out.reserve(size);
  for (const auto part : parts) out.append(part);
  return out;
}

class RankLowering {
 public:
  RankLowering(const Plan& plan, const workloads::LayerChain& chain, const TrainingSetup& setup, const Groups& groups,
               const RankTable& rank_at, double tied_embedding_params, std::int64_t hidden_size)
      : plan_(plan), chain_(chain), setup_(setup), groups_(groups), rank_at_(rank_at),
        tied_embedding_params_(tied_embedding_params), hidden_size_(hidden_size),
        state_(model_state_bytes(setup.precision)), gemm_cache_(chain.layers.size()),
        ops_hint_(static_cast<std::size_t>(std::max(plan.pipeline_parallel, 1)), 0) {}

  program::RankProgram lower(const RankPlan& rp) {
    rp_ = &rp;
    me_ = {rp.tensor_parallel_index, rp.stage, rp.data_parallel_index};
    out_ = program::RankProgram{};
    next_instance_.clear();
    gradient_sync_ops_.clear();
    last_compute_ = previous_compute_ = OpId();
    computes_ = 0;
    pending_.clear();
    bucket_index_ = 0;
    tp_group_ = dp_group_ = -1;
    out_.rank = rp.rank;
    out_.gpu = rp.gpu;
    // Ranks of one pipeline stage usually have the same number of ops: reserve the last one's.
    std::size_t* hint = me_.pp >= 0 && me_.pp < static_cast<int>(ops_hint_.size())
                            ? &ops_hint_[static_cast<std::size_t>(me_.pp)] : nullptr;
    if (hint) out_.ops.reserve(*hint);
    program::RankBuilder b(out_);
    b_ = &b;
    const int p = plan_.pipeline_parallel, v = plan_.virtual_pipeline;
    const int n_layers = static_cast<int>(chain_.layers.size());

    // Parameters and workspace of this rank's chunks.
    double params = 0, transient = 0;
    for (int c = 0; c < v; ++c) {
      const auto [first, end] = stage_layers(plan_, c * p + me_.pp, n_layers);
      for (int l = first; l < end; ++l) {
        params += chain_.layers[static_cast<std::size_t>(l)].parameters;
        transient = std::max(transient, chain_.layers[static_cast<std::size_t>(l)].transient_bytes);
      }
    }
    const bool holds_tied_copy = tied_embedding_params_ > 0 && me_.pp == p - 1;
    if (holds_tied_copy) params += tied_embedding_params_;
    const auto sharded = sharded_model_state(params, setup_.precision, plan_.zero_stage, plan_.data_parallel);
    const double largest_mb =
        rp.micro_batches.empty() ? 0.0 : static_cast<double>(*std::max_element(rp.micro_batches.begin(), rp.micro_batches.end()));
    out_.resident = {
        Memory{MemoryTag::kParameters, "weights", sharded.weights_bytes},
        Memory{MemoryTag::kGradients, "gradients", sharded.gradients_bytes},
        Memory{MemoryTag::kOptimizer, "optimizer_state", sharded.optimizer_bytes},
        Memory{MemoryTag::kWorkspace, "workspace", transient * largest_mb},
        Memory{MemoryTag::kReserved, "reserved", setup_.reserved_memory_bytes},
    };

    const int m = static_cast<int>(rp.micro_batches.size());
    if (m > 0) {
      for (const ScheduleUnit& u : pipeline_schedule(plan_.schedule, me_.pp, p, m, v)) {
        if (u.forward) forward_unit(u);
        else backward_unit(u, u.micro_batch == m - 1);
      }
    }
    if (holds_tied_copy || (tied_embedding_params_ > 0 && me_.pp == 0 && p > 1)) {
      // Megatron keeps the output layer's copy of the word embeddings in sync with the input's.
      const double bytes = tied_embedding_params_ * state_.gradients;
      gradient_sync_ops_.push_back(collective(groups_.embedding.at({me_.tp, me_.dp}), CollectiveKind::kAllReduce, bytes,
                                              "allreduce tied embedding grads", "", {b.last()}, CollectiveAlgorithm::kRing));
    }
    const double nd = plan_.data_parallel;
    const double step_params = plan_.zero_stage >= 1 ? params / nd : params;
    std::vector<OpId> before_step;
    before_step.reserve(gradient_sync_ops_.size() + pending_.size());
    before_step = gradient_sync_ops_;
    before_step.insert(before_step.end(), pending_.begin(), pending_.end());
    const OpId step = b.compute("optimizer step", optimizer_step(step_params, state_), std::move(before_step));
    if (plan_.zero_stage >= 1 && plan_.zero_stage <= 2 && plan_.data_parallel > 1)
      collective(dp_group(), CollectiveKind::kAllGather, params * state_.weights, "allgather updated weights", "", {step},
                 plan_.gradient_algorithm);
    if (hint) *hint = out_.ops.size();
    return std::move(out_);
  }

 private:
  int dp_group() {
    if (dp_group_ < 0) dp_group_ = groups_.data.at({me_.tp, me_.pp});
    return dp_group_;
  }
  int tp_group() {
    if (tp_group_ < 0) tp_group_ = groups_.tensor.at({me_.dp, me_.pp});
    return tp_group_;
  }

  /// Collective named `name_a` + `name_b` + " #" + its instance (counted per group).
  OpId collective(int group, CollectiveKind kind, double bytes, std::string_view name_a, std::string_view name_b,
                  std::vector<OpId> deps, CollectiveAlgorithm algorithm) {
    Collective c;
    c.kind = kind;
    c.algorithm = algorithm;
    c.group = group;
    c.instance = next_instance(group)++;
    c.bytes = bytes;
    return b_->collective(join({name_a, name_b, " #", Decimal(c.instance)}), c, std::move(deps));
  }

  /// A rank calls collectives of a handful of groups: a short list beats a tree.
  std::int64_t& next_instance(int group) {
    for (auto& [g, next] : next_instance_)
      if (g == group) return next;
    next_instance_.emplace_back(group, 0);
    return next_instance_.back().second;
  }

  /// Tag of the message that arrives at `virtual_stage` for micro-batch `mb`.
  std::int64_t tag(int mb, int virtual_stage, bool forward) const {
    const std::int64_t stages = static_cast<std::int64_t>(plan_.pipeline_parallel) * plan_.virtual_pipeline;
    return ((static_cast<std::int64_t>(mb) * stages + virtual_stage) * 2) + (forward ? 0 : 1);
  }

  core::RankId rank_of_stage(int virtual_stage) const {
    return rank_at_.at(me_.tp, virtual_stage % plan_.pipeline_parallel, me_.dp);
  }

  double boundary_bytes(int virtual_stage, double samples) const {
    const auto [first, end] = stage_layers(plan_, virtual_stage, static_cast<int>(chain_.layers.size()));
    return chain_.layers[static_cast<std::size_t>(end - 1)].output_bytes * samples;
  }

  /// Receives block the compute stream (the next layer needs the data); sends go on the comm
  /// stream once the data is computed (last compute and its tensor-parallel collectives).
  void p2p(OpKind kind, int peer_stage, std::int64_t t, double bytes, std::string name) {
    std::vector<OpId> deps;
    if (kind == OpKind::kSend) {
      deps.reserve(pending_.size() + 1);
      deps = pending_;
      if (computes_ > 0) deps.push_back(last_compute_);
    }
    b_->add(kind, kind == OpKind::kRecv ? Stream::kCompute : Stream::kComm, std::move(name), std::move(deps),
            program::PointToPoint{rank_of_stage(peer_stage), t, bytes});
  }

  /// Tensor-parallel collectives after a transformer layer's compute; returns the last op.
  /// Their names end in `what` = layer + " " + pass + " " + micro-batch.
  OpId tensor_parallel_comm(const workloads::Layer& layer, OpId after, double samples, std::string_view pass,
                            std::string_view mb) {
    if (plan_.tensor_parallel < 2 || layer.kind != workloads::LayerKind::kTransformer) return after;
    const int group = tp_group();
    // Whole activation buffer s·b·h in the training precision (sequence parallelism shards
    // the buffer's input or output, not its size in the nccl-tests convention).
    const double bytes = static_cast<double>(setup_.seq_length) * static_cast<double>(hidden_size_) *
                         core::bytes_per_element(setup_.precision) * samples;
    const std::string what = join({layer.name, " ", pass, " ", mb});
    OpId last = after;
    for (int block = 0; block < 2; ++block) {  // attention, MLP
      if (plan_.shard.sequence_parallel) {
        last = collective(group, CollectiveKind::kAllGather, bytes, "tp allgather ", what, {last}, CollectiveAlgorithm::kRing);
        last = collective(group, CollectiveKind::kReduceScatter, bytes, "tp reducescatter ", what, {last},
                          CollectiveAlgorithm::kRing);
      } else {
        last = collective(group, CollectiveKind::kAllReduce, bytes, "tp allreduce ", what, {last}, CollectiveAlgorithm::kRing);
      }
    }
    pending_.assign(1, last);
    return last;
  }

  bool gathers(const workloads::Layer& layer) const {
    return plan_.zero_stage >= 3 && plan_.data_parallel >= 2 && layer.parameters > 0;
  }

  /// ZeRO-3: gather a layer's weights on the comm stream, at most one layer ahead of compute.
  /// `key` = layer + "/" + micro-batch + "/" + pass.
  std::vector<OpId> gather_weights(const workloads::Layer& layer, const std::string& key) {
    const double bytes = layer.parameters * state_.weights;
    b_->add(OpKind::kAlloc, Stream::kComm, join({"alloc gathered ", key}), {},
            Memory{MemoryTag::kBuffers, join({"gathered/", key}), bytes});
    std::vector<OpId> deps;
    if (computes_ >= 2) deps.push_back(previous_compute_);
    return {collective(dp_group(), CollectiveKind::kAllGather, bytes, "zero3 allgather ", key, deps, plan_.gradient_algorithm)};
  }

  void release_gathered(const workloads::Layer& layer, const std::string& key) {
    b_->free(Memory{MemoryTag::kBuffers, join({"gathered/", key}), layer.parameters * state_.weights});
  }

  /// A compute op that also waits for the previous layer's tensor-parallel collectives.
  OpId compute(std::string name, Compute c, std::vector<OpId> deps) {
    if (deps.empty()) {
      deps.swap(pending_);
    } else {
      deps.insert(deps.end(), pending_.begin(), pending_.end());
    }
    pending_.clear();
    const OpId id = b_->compute(std::move(name), std::move(c), std::move(deps));
    previous_compute_ = last_compute_;
    last_compute_ = id;
    ++computes_;
    return id;
  }

  /// GEMMs of layer `l` scaled to `n` samples, forward and backward (cached: a rank's
  /// micro-batches, and the ranks, mostly share their size).
  struct ScaledGemms {
    std::int64_t samples = -1;
    std::vector<program::Gemm> forward, backward;
  };
  const ScaledGemms& gemms(std::size_t l, std::int64_t n) {
    ScaledGemms& s = gemm_cache_[l];
    if (s.samples != n) {
      s.samples = n;
      s.forward.clear();
      s.backward.clear();
      for (const auto& g : chain_.layers[l].forward_gemms) {
        s.forward.push_back(scale_gemm(g, n));
        add_backward_gemms(s.forward.back(), s.backward);
      }
    }
    return s;
  }

  void forward_unit(const ScheduleUnit& u) {
    const int p = plan_.pipeline_parallel;
    const int stages = p * plan_.virtual_pipeline;
    const int vs = u.chunk * p + me_.pp;
    const std::int64_t n = rp_->micro_batches[static_cast<std::size_t>(u.micro_batch)];
    const double scale = static_cast<double>(n);
    const std::string mb = join({"mb", Decimal(u.micro_batch)});
    if (vs > 0)
      p2p(OpKind::kRecv, vs - 1, tag(u.micro_batch, vs, true), boundary_bytes(vs - 1, scale), join({"recv activations ", mb}));
    const auto [first, end] = stage_layers(plan_, vs, static_cast<int>(chain_.layers.size()));
    for (int l = first; l < end; ++l) {
      const auto& layer = chain_.layers[static_cast<std::size_t>(l)];
      const bool gather = gathers(layer);
      const std::string key = gather ? join({layer.name, "/", mb, "/fwd"}) : std::string();
      std::vector<OpId> gathered;
      if (gather) gathered = gather_weights(layer, key);
      if (layer.activation_bytes > 0)
        b_->alloc(Memory{MemoryTag::kActivations, join({layer.name, "/", mb}), layer.activation_bytes * scale});
      Compute c{Phase::kForward, layer.name, layer.forward_flops * scale, layer.forward_memory_bytes * scale,
                gemms(static_cast<std::size_t>(l), n).forward};
      const OpId op = compute(join({"fwd ", layer.name, " ", mb}), std::move(c), std::move(gathered));
      if (gather) release_gathered(layer, key);
      tensor_parallel_comm(layer, op, scale, "fwd", mb);
    }
    if (vs < stages - 1)
      p2p(OpKind::kSend, vs + 1, tag(u.micro_batch, vs + 1, true), boundary_bytes(vs, scale), join({"send activations ", mb}));
  }

  void backward_unit(const ScheduleUnit& u, bool last_micro_batch) {
    const int p = plan_.pipeline_parallel;
    const int stages = p * plan_.virtual_pipeline;
    const int vs = u.chunk * p + me_.pp;
    const std::int64_t n = rp_->micro_batches[static_cast<std::size_t>(u.micro_batch)];
    const double scale = static_cast<double>(n);
    const std::string mb = join({"mb", Decimal(u.micro_batch)});
    if (vs < stages - 1)
      p2p(OpKind::kRecv, vs + 1, tag(u.micro_batch, vs, false), boundary_bytes(vs, scale), join({"recv gradients ", mb}));
    const auto [first, end] = stage_layers(plan_, vs, static_cast<int>(chain_.layers.size()));
    const bool sync = last_micro_batch && plan_.data_parallel > 1;
    const bool sharded_grads = plan_.zero_stage >= 2;
    double bucket_fill = 0;
    std::string bucket_buffer;
    for (int l = end - 1; l >= first; --l) {
      const auto& layer = chain_.layers[static_cast<std::size_t>(l)];
      const bool gather = gathers(layer);
      const std::string key = gather ? join({layer.name, "/", mb, "/bwd"}) : std::string();
      std::vector<OpId> gathered;
      if (gather) gathered = gather_weights(layer, key);
      if (layer.recompute_flops > 0) {
        Compute rc{Phase::kRecompute, layer.name, layer.recompute_flops * scale, layer.forward_memory_bytes * scale, {}};
        compute(join({"recompute ", layer.name, " ", mb}), std::move(rc), std::move(gathered));
        gathered.clear();
      }
      Compute c{Phase::kBackward, layer.name, layer.backward_flops * scale, layer.backward_memory_bytes * scale,
                gemms(static_cast<std::size_t>(l), n).backward};
      const OpId bwd = compute(join({"bwd ", layer.name, " ", mb}), std::move(c), std::move(gathered));
      if (gather) release_gathered(layer, key);
      if (layer.activation_bytes > 0)
        b_->free(Memory{MemoryTag::kActivations, join({layer.name, "/", mb}), layer.activation_bytes * scale});
      const OpId last = tensor_parallel_comm(layer, bwd, scale, "bwd", mb);
      if (!sync) continue;
      // Gradients of this layer are final: add them to the open bucket (DDP's reducer).
      const double grad_bytes = layer.parameters * state_.gradients;
      if (sharded_grads && bucket_fill == 0 && grad_bytes > 0) {
        bucket_buffer = join({"grad_bucket/", Decimal(bucket_index_++)});
        b_->alloc(Memory{MemoryTag::kBuffers, bucket_buffer, plan_.bucket_bytes});
      }
      bucket_fill += grad_bytes;
      if (bucket_fill > 0 && (bucket_fill >= plan_.bucket_bytes || l == first)) {
        const auto kind = plan_.zero_stage == 0 ? CollectiveKind::kAllReduce : CollectiveKind::kReduceScatter;
        const OpId op = collective(dp_group(), kind, bucket_fill, plan_.zero_stage == 0 ? "allreduce" : "reducescatter",
                                   " grads bucket", {last}, plan_.gradient_algorithm);
        gradient_sync_ops_.push_back(op);
        if (sharded_grads)
          b_->add(OpKind::kFree, Stream::kComm, join({"free ", bucket_buffer}), {op},
                  Memory{MemoryTag::kBuffers, bucket_buffer, plan_.bucket_bytes});
        bucket_fill = 0;
      }
    }
    if (vs > 0)
      p2p(OpKind::kSend, vs - 1, tag(u.micro_batch, vs - 1, false), boundary_bytes(vs - 1, scale), join({"send gradients ", mb}));
  }

  const Plan& plan_;
  const workloads::LayerChain& chain_;
  const TrainingSetup& setup_;
  const Groups& groups_;
  const RankTable& rank_at_;
  const double tied_embedding_params_;
  const std::int64_t hidden_size_;
  const ModelStateBytes state_;
  std::vector<ScaledGemms> gemm_cache_;  ///< per chain layer
  std::vector<std::size_t> ops_hint_;    ///< per pipeline stage: ops of its last lowered rank

  const RankPlan* rp_ = nullptr;
  Coords me_{};
  program::RankProgram out_;
  program::RankBuilder* b_ = nullptr;
  std::vector<std::pair<int, std::int64_t>> next_instance_;  ///< group → next instance
  int tp_group_ = -1, dp_group_ = -1;                        ///< this rank's groups, looked up once
  std::vector<OpId> gradient_sync_ops_;
  OpId last_compute_, previous_compute_;  ///< the last two compute ops
  std::int64_t computes_ = 0;             ///< compute ops so far
  std::vector<OpId> pending_;  ///< tensor-parallel collectives the next compute must wait for
  int bucket_index_ = 0;
};

}  // namespace

program::Gemm scale_gemm(const workloads::GemmShape& g, std::int64_t samples) {
  const bool attention = g.name.rfind("attn_scores", 0) == 0 || g.name.rfind("attn_values", 0) == 0;
  if (attention) return {g.m, g.n, g.k, g.batch * samples};
  return {g.m * samples, g.n, g.k, g.batch};
}

std::pair<int, int> stage_layers(const Plan& plan, int virtual_stage, int chain_layers) {
  const auto& first = plan.stage_first_layer;
  const auto vs = static_cast<std::size_t>(virtual_stage);
  const int end = vs + 1 < first.size() ? first[vs + 1] : chain_layers;
  return {first.at(vs), end};
}

program::Program lower(const Plan& plan, const workloads::ModelSpec& model, const TrainingSetup& setup) {
  const int t = plan.tensor_parallel, p = plan.pipeline_parallel, d = plan.data_parallel;
  if (static_cast<int>(plan.ranks.size()) != t * p * d)
    throw core::InternalError("plan has " + std::to_string(plan.ranks.size()) + " ranks, expected t×p×d = " +
                              std::to_string(t * p * d));
  if (static_cast<int>(plan.stage_first_layer.size()) != p * plan.virtual_pipeline)
    throw core::InternalError("plan has " + std::to_string(plan.stage_first_layer.size()) + " stage boundaries, expected p×v");
  const auto chain = workloads::build_layer_chain(model, setup.seq_length, setup.precision, plan.shard);

  program::Program prog;
  const RankTable rank_at(plan);
  Groups groups;
  auto add_group = [&](std::string name, std::vector<core::RankId> ranks) {
    std::sort(ranks.begin(), ranks.end());
    prog.groups.push_back({std::move(name), std::move(ranks)});
    return static_cast<int>(prog.groups.size()) - 1;
  };
  for (int dp = 0; dp < d; ++dp)
    for (int pp = 0; pp < p; ++pp) {
      if (t < 2) continue;
      std::vector<core::RankId> members;
      for (int tp = 0; tp < t; ++tp) members.push_back(rank_at.at(tp, pp, dp));
      groups.tensor[{dp, pp}] = add_group("tp/dp" + std::to_string(dp) + "/pp" + std::to_string(pp), members);
    }
  for (int tp = 0; tp < t; ++tp)
    for (int pp = 0; pp < p; ++pp) {
      std::vector<core::RankId> members;
      for (int dp = 0; dp < d; ++dp) members.push_back(rank_at.at(tp, pp, dp));
      groups.data[{tp, pp}] = add_group(static_cast<std::size_t>(d) == plan.ranks.size() ? "dp" : "dp/tp" + std::to_string(tp) + "/pp" + std::to_string(pp), members);
    }
  // A tied output layer on another pipeline rank needs its own copy of the word embeddings.
  double tied_params = 0;
  if (model.tie_word_embeddings && p > 1) {
    tied_params = static_cast<double>(model.vocab_size) * static_cast<double>(model.hidden_size) / t;
    for (int tp = 0; tp < t; ++tp)
      for (int dp = 0; dp < d; ++dp)
        groups.embedding[{tp, dp}] = add_group("embedding/tp" + std::to_string(tp) + "/dp" + std::to_string(dp),
                                               {rank_at.at(tp, 0, dp), rank_at.at(tp, p - 1, dp)});
  }

  RankLowering lowering(plan, chain, setup, groups, rank_at, tied_params, model.hidden_size);
  prog.ranks.reserve(plan.ranks.size());
  for (const RankPlan& rp : plan.ranks) prog.ranks.push_back(lowering.lower(rp));

  const double samples = static_cast<double>(setup.global_batch_size);
  prog.metadata = {{"model", model.name},
                   {"precision", core::to_string(setup.precision)},
                   {"seq_length", setup.seq_length},
                   {"global_batch_size", setup.global_batch_size},
                   {"micro_batch_size", setup.micro_batch_size},
                   {"tokens_per_iteration", samples * static_cast<double>(setup.seq_length)},
                   {"model_flops_per_iteration", workloads::model_flops_per_iteration(model, setup.seq_length, samples)},
                   {"plan", plan.to_json()}};
  return prog;
}

}  // namespace frugal::policies

// What the lowering passes share while they write one rank's program: the plan, the layer
// chain, the process groups, the rank's coordinates, the op builder, and the dependency state
// that ties one pass's ops to another's (the last compute ops, collectives the next compute
// waits for, gradient collectives the optimizer step waits for). No policy decisions here.
#pragma once

#include <array>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/model_state.hpp"
#include "policies/plan.hpp"
#include "sim/program/program.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal::policies::lowering {

/// Process groups of a plan, as indices into Program::groups, by rank (-1: none).
struct Groups {
  std::vector<int> tensor;     ///< tensor-parallel group (t ≥ 2)
  std::vector<int> data;       ///< data-parallel group (data × context parallel: same parameters)
  std::vector<int> context;    ///< context-parallel group (c ≥ 2)
  std::vector<int> embedding;  ///< first + last pipeline rank holding the tied word embeddings
  std::vector<int> amax;       ///< fp8 amax reduction group (setup.fp8_amax_reduction, ≥ 2 ranks)
};

/// Builds the groups of `plan` into `program.groups` (order and names are part of the IR's
/// form: tensor groups "tp/dp<d>/pp<p>", data groups "dp" or "dp/tp<t>/pp<p>", tied-embedding
/// pairs "embedding/tp<t>/dp<d>"; members ascending). `tied` adds the embedding pairs. With
/// context parallelism (c ≥ 2) every name gains "/cp<c>" where the group has one context
/// coordinate, data groups span data × context ("dp" or "dpcp/tp<t>/pp<p>"), and context
/// groups "cp/tp<t>/dp<d>/pp<p>" come after them. An fp8 job whose setup reduces amaxes adds its
/// amax groups last: "amax/pp<p>" (a stage's tensor × data × context ranks) or, reduced over the
/// tensor ranks only, "amax/dp<d>/pp<p>" (tensor × context), where they hold 2 ranks or more.
Groups build_groups(const Plan& plan, const TrainingSetup& setup, bool tied, program::Program& program);

/// Decimal form of an integer in a stack buffer (as std::to_string writes it).
class Decimal {
 public:
  explicit Decimal(std::int64_t v);
  operator std::string_view() const { return {buf_, size_}; }

 private:
  char buf_[24];
  std::size_t size_ = 0;
};

/// Concatenation with a single allocation: op names are built for every op of every rank.
std::string join(std::initializer_list<std::string_view> parts);

/// One rank's lowering state. Passes read the plan through it and append ops through it.
class RankContext {
 public:
  RankContext(const Plan& plan, const workloads::LayerChain& chain, const TrainingSetup& setup, const Groups& groups,
              double tied_embedding_params, std::int64_t hidden_size);

  /// Starts rank `rp`: clears the per-rank state and writes into `out`.
  void begin(const RankPlan& rp, program::RankProgram& out);

  const Plan& plan;
  const workloads::LayerChain& chain;
  const TrainingSetup& setup;
  const ModelStateBytes state;            ///< bytes per parameter in the training precision
  const double tied_embedding_params;     ///< word-embedding parameters per GPU when tied and p > 1, else 0
  const std::int64_t hidden_size;

  const RankPlan& rank() const { return *rp_; }
  const Coord& coord() const { return me_; }
  int stage() const { return me_[Dim::kPipeline]; }
  program::RankBuilder& builder() { return *b_; }
  program::RankProgram& program() { return *out_; }
  /// This rank's groups (-1 when it has none of that kind).
  int tensor_group() const;
  int data_group() const;
  int context_group() const;
  int amax_group() const;
  /// The stream of `group`'s communicator: the data-parallel ones (gradients, ZeRO, tied
  /// embeddings) have their own, `data_comm`; the amax reduction blocks the compute stream, as
  /// Transformer Engine calls it there; the others share `comm`. Buffers a group's
  /// collectives use are allocated and freed on the same stream.
  program::Stream stream_of(int group) const;
  /// Tokens of one sequence this rank holds (seq_length / context parallel size).
  double tokens_per_sample() const {
    return static_cast<double>(setup.seq_length) / static_cast<double>(plan.context_parallel());
  }
  int embedding_group() const;
  /// The rank of the same tensor/data coordinates on pipeline rank `virtual_stage mod p`.
  core::RankId rank_of_stage(int virtual_stage) const;
  /// Parameters this rank holds (its stages' layers, plus the tied embedding copy).
  double parameters() const { return params_; }
  /// The chain layers of this rank's stages (every model chunk), in chain order.
  const std::vector<const workloads::Layer*>& own_layers() const { return own_layers_; }
  bool holds_tied_copy() const;
  /// Whether this rank all-reduces the tied embeddings' gradients after its backward: the first
  /// pipeline rank and the one holding the output layer's copy, when p > 1.
  bool reduces_tied_embeddings() const;
  /// ZeRO-Offload as DeepSpeed's stage 2 hooks run it (optimizer state off the device, ZeRO ≥ 2,
  /// buckets reduced during the backward or one replica, no tied-embedding all-reduce after the
  /// backward): every micro-batch's gradients leave the device bucket by bucket as the backward
  /// makes them (reduced first when replicated), to accumulate in host memory, so the device
  /// holds no gradient partition (gradient_sync and memory passes).
  bool streams_gradients_to_host() const;

  /// A collective named `name_a` + `name_b` + " #" + its instance (counted per group).
  program::OpId collective(int group, program::CollectiveKind kind, double bytes, std::string_view name_a,
                           std::string_view name_b, std::vector<program::OpId> deps,
                           program::CollectiveAlgorithm algorithm);
  /// A compute op on the compute stream that also waits for `pending` (then cleared).
  program::OpId compute(std::string name, program::Compute c, std::vector<program::OpId> deps);
  /// A second compute op of the same step (e.g. a backward's weight gradients, split off): waits
  /// for the last compute op and `deps`, becomes last_compute; compute_back still counts the step
  /// once.
  program::OpId continue_compute(std::string name, program::Compute c, std::vector<program::OpId> deps = {});
  /// An op may only wait for earlier ops of its own iteration. A 0-byte buffer allocated on
  /// `stream` once `awaited` is done (and freed after) holds that stream, so what the next
  /// iteration queues on it starts after `awaited`.
  void hold_stream(program::Stream stream, program::OpId awaited, const std::string& name);

  /// Collectives (tensor-parallel) the next compute op or send must wait for.
  std::vector<program::OpId> pending;
  /// What the weight-gradient op of a backward split by Plan::splits_weight_gradients waits for
  /// besides the rest of the backward (the re-gathered inputs of its GEMMs); passes fill it in
  /// before_layer, the lowering takes it.
  std::vector<program::OpId> weight_gradient_deps;
  /// Gradient collectives the optimizer step must wait for.
  std::vector<program::OpId> gradient_sync;
  /// The copies of this rank's gradient shard to host memory that the backward already posted
  /// (streams_gradients_to_host; empty: the optimizer pass copies the shard after the backward).
  /// The CPU's step waits for them.
  std::vector<program::OpId> gradients_to_host;
  program::OpId last_compute;  ///< the last compute op
  /// The compute op `k` before the last (0: the last); invalid when there were not that many
  /// or k > kComputeHistory − 1.
  program::OpId compute_back(int k) const;
  static constexpr int kComputeHistory = kMaxPrefetchLayers + 1;
  program::OpId step;                            ///< the optimizer step, once emitted
  std::int64_t computes = 0;                     ///< compute ops so far

 private:
  std::int64_t& next_instance(int group);

  std::vector<const workloads::Layer*> own_layers_;
  std::array<program::OpId, kComputeHistory> recent_computes_{};  ///< circular, by compute count

  const Groups& groups_;
  const RankPlan* rp_ = nullptr;
  Coord me_{};
  double params_ = 0;
  program::RankProgram* out_ = nullptr;
  std::optional<program::RankBuilder> b_;
  std::vector<std::pair<int, std::int64_t>> next_instance_;  ///< group → next instance
};

}  // namespace frugal::policies::lowering

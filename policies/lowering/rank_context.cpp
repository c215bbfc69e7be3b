// RankContext: per-rank lowering state shared by the passes; groups of a plan.
#include "policies/lowering/rank_context.hpp"

#include <algorithm>
#include <charconv>

#include "policies/fp8_scaling.hpp"
#include "policies/lowering/lowering.hpp"

namespace frugal::policies::lowering {

using program::OpId;

Decimal::Decimal(std::int64_t v) {
  size_ = static_cast<std::size_t>(std::to_chars(buf_, buf_ + sizeof buf_, v).ptr - buf_);
}

std::string join(std::initializer_list<std::string_view> parts) {
  std::size_t size = 0;
  for (const auto part : parts) size += part.size();
  std::string out;
  out.reserve(size);
  for (const auto part : parts) out.append(part);
  return out;
}

Groups build_groups(const Plan& plan, const TrainingSetup& setup, bool tied, program::Program& program) {
  const Layout& layout = plan.layout;
  const int t = plan.tensor_parallel(), p = plan.pipeline_parallel(), d = plan.data_parallel();
  const int cp = plan.context_parallel();
  const auto world = static_cast<std::size_t>(layout.world());
  Groups g{std::vector<int>(world, -1), std::vector<int>(world, -1), std::vector<int>(world, -1),
           std::vector<int>(world, -1), std::vector<int>(world, -1)};
  auto at = [&](int tp, int pp, int dp, int c = 0) {
    Coord coord;
    coord[Dim::kTensor] = tp;
    coord[Dim::kPipeline] = pp;
    coord[Dim::kData] = dp;
    coord[Dim::kContext] = c;
    return layout.rank(coord);
  };
  // "/cp<c>" in the names of groups that hold one context coordinate, when there are several.
  auto cp_suffix = [&](int c) { return cp > 1 ? join({"/cp", Decimal(c)}) : std::string(); };
  auto add = [&](std::string name, std::vector<core::RankId> ranks, std::vector<int>& of_rank) {
    std::sort(ranks.begin(), ranks.end());
    const int index = static_cast<int>(program.groups.size());
    for (const auto r : ranks) of_rank[static_cast<std::size_t>(r.value)] = index;
    program.groups.push_back({std::move(name), std::move(ranks)});
  };
  if (t >= 2)
    for (int c = 0; c < cp; ++c)
      for (int dp = 0; dp < d; ++dp)
        for (int pp = 0; pp < p; ++pp)
          add(join({"tp/dp", Decimal(dp), "/pp", Decimal(pp), cp_suffix(c)}), layout.group({Dim::kTensor}, at(0, pp, dp, c)),
              g.tensor);
  const std::string_view data_name = cp > 1 ? "dpcp" : "dp";
  for (int tp = 0; tp < t; ++tp)
    for (int pp = 0; pp < p; ++pp)
      add(static_cast<std::size_t>(d * cp) == world ? std::string(data_name)
                                                    : join({data_name, "/tp", Decimal(tp), "/pp", Decimal(pp)}),
          layout.group({Dim::kData, Dim::kContext}, at(tp, pp, 0)), g.data);
  if (tied && p > 1)
    for (int c = 0; c < cp; ++c)
      for (int tp = 0; tp < t; ++tp)
        for (int dp = 0; dp < d; ++dp)
          add(join({"embedding/tp", Decimal(tp), "/dp", Decimal(dp), cp_suffix(c)}), {at(tp, 0, dp, c), at(tp, p - 1, dp, c)},
              g.embedding);
  if (cp > 1)
    for (int tp = 0; tp < t; ++tp)
      for (int dp = 0; dp < d; ++dp)
        for (int pp = 0; pp < p; ++pp)
          add(join({"cp/tp", Decimal(tp), "/dp", Decimal(dp), "/pp", Decimal(pp)}), layout.group({Dim::kContext}, at(tp, pp, dp)),
              g.context);
  for (std::size_t r = 0; r < world; ++r) {
    if (g.amax[r] >= 0) continue;
    const core::RankId rank(static_cast<std::int64_t>(r));
    auto ranks = amax_reduction_group(plan, setup, rank);
    if (ranks.empty()) continue;
    const auto pp = Decimal(layout.coord(rank)[Dim::kPipeline]);
    add(setup.fp8_amax_reduction == AmaxReduction::kData
            ? join({"amax/pp", pp})
            : join({"amax/dp", Decimal(layout.coord(rank)[Dim::kData]), "/pp", pp}),
        std::move(ranks), g.amax);
  }
  return g;
}

RankContext::RankContext(const Plan& plan, const workloads::LayerChain& chain, const TrainingSetup& setup,
                         const Groups& groups, double tied_embedding_params, std::int64_t hidden_size)
    : plan(plan), chain(chain), setup(setup), state(model_state_bytes(setup.precision, plan.state_convention)),
      tied_embedding_params(tied_embedding_params), hidden_size(hidden_size), groups_(groups) {}

void RankContext::begin(const RankPlan& rp, program::RankProgram& out) {
  rp_ = &rp;
  me_ = plan.coord(rp.rank);
  out_ = &out;
  out = program::RankProgram{};
  out.rank = rp.rank;
  out.gpu = rp.gpu;
  b_.emplace(out);
  next_instance_.clear();
  pending.clear();
  gradient_sync.clear();
  gradients_to_host.clear();
  last_compute = step = OpId();
  computes = 0;
  own_layers_.clear();
  for (const int l : pipeline_rank_layers(plan, stage(), static_cast<int>(chain.layers.size())))
    own_layers_.push_back(&chain.layers[static_cast<std::size_t>(l)]);
  params_ = 0;
  for (const workloads::Layer* l : own_layers_) params_ += l->parameters;
  if (holds_tied_copy()) params_ += tied_embedding_params;
}

bool RankContext::holds_tied_copy() const {
  return tied_embedding_params > 0 && stage() == plan.pipeline_parallel() - 1;
}

bool RankContext::reduces_tied_embeddings() const {
  const bool first_of_tied = tied_embedding_params > 0 && stage() == 0 && plan.pipeline_parallel() > 1;
  return holds_tied_copy() || first_of_tied;
}

bool RankContext::streams_gradients_to_host() const {
  return plan.optimizer_state != program::Location::kDevice && plan.zero_stage >= 2 &&
         (plan.gradient_replicas() <= 1 || plan.overlap_grad_reduce) && !reduces_tied_embeddings();
}

int RankContext::tensor_group() const { return groups_.tensor[static_cast<std::size_t>(rp_->rank.value)]; }
int RankContext::data_group() const { return groups_.data[static_cast<std::size_t>(rp_->rank.value)]; }
int RankContext::context_group() const { return groups_.context[static_cast<std::size_t>(rp_->rank.value)]; }
int RankContext::amax_group() const { return groups_.amax[static_cast<std::size_t>(rp_->rank.value)]; }
int RankContext::embedding_group() const { return groups_.embedding[static_cast<std::size_t>(rp_->rank.value)]; }

program::Stream RankContext::stream_of(int group) const {
  if (group == data_group() || group == embedding_group()) return program::Stream::kDataComm;
  return group == amax_group() ? program::Stream::kCompute : program::Stream::kComm;
}

core::RankId RankContext::rank_of_stage(int virtual_stage) const {
  return plan.layout.along(rp_->rank, Dim::kPipeline, virtual_stage % plan.pipeline_parallel());
}

std::int64_t& RankContext::next_instance(int group) {
  // A rank calls collectives of a handful of groups: a short list beats a tree.
  for (auto& [g, next] : next_instance_)
    if (g == group) return next;
  next_instance_.emplace_back(group, 0);
  return next_instance_.back().second;
}

OpId RankContext::collective(int group, program::CollectiveKind kind, double bytes, std::string_view name_a,
                             std::string_view name_b, std::vector<OpId> deps, program::CollectiveAlgorithm algorithm) {
  program::Collective c;
  c.kind = kind;
  c.algorithm = algorithm;
  c.group = group;
  c.instance = next_instance(group)++;
  c.bytes = bytes;
  return b_->collective(join({name_a, name_b, " #", Decimal(c.instance)}), c, std::move(deps), stream_of(group));
}

OpId RankContext::compute(std::string name, program::Compute c, std::vector<OpId> deps) {
  if (deps.empty()) {
    deps.swap(pending);
  } else {
    deps.insert(deps.end(), pending.begin(), pending.end());
  }
  pending.clear();
  const OpId id = b_->compute(std::move(name), std::move(c), std::move(deps));
  last_compute = id;
  recent_computes_[static_cast<std::size_t>(computes % kComputeHistory)] = id;
  ++computes;
  return id;
}

OpId RankContext::continue_compute(std::string name, program::Compute c, std::vector<OpId> deps) {
  deps.insert(deps.begin(), last_compute);
  last_compute = b_->compute(std::move(name), std::move(c), std::move(deps));
  return last_compute;
}

OpId RankContext::compute_back(int k) const {
  if (k < 0 || k >= kComputeHistory || k >= computes) return OpId();
  return recent_computes_[static_cast<std::size_t>((computes - 1 - k) % kComputeHistory)];
}

void RankContext::hold_stream(program::Stream stream, OpId awaited, const std::string& name) {
  const program::Memory hold{program::MemoryTag::kBuffers, name, 0};
  b_->add(program::OpKind::kAlloc, stream, name, {awaited}, hold);
  b_->add(program::OpKind::kFree, stream, "free " + name, {}, hold);
}

}  // namespace frugal::policies::lowering

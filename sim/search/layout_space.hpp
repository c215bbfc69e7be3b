// The layout search's space and screen: every combination of the searched dimensions (parallel
// sizes, schedule, ZeRO stage, micro-batch size, memory policy, heterogeneous partition and batch
// split, node count), each planned in-process by the megatron policy — which rejects the layouts
// it cannot build, with the reason — and estimated in closed form (estimate.hpp). No lowering,
// no SimGrid: thousands of layouts per second.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "sim/core/json_reader.hpp"
#include "sim/search/estimate.hpp"
#include "sim/study/study.hpp"

namespace frugal::search {

struct Dimension {
  std::string name;               ///< a megatron parameter, "micro_batch_size", "memory" or "nodes"
  std::vector<core::Json> values;
  bool given = false;             ///< from /search/space (else the default list)
};

/// The dimensions, in a fixed order (the given ones where the defaults would be), and the grid
/// over them (the first dimension varies slowest).
struct LayoutSpace {
  std::vector<Dimension> dimensions;
  /// The cluster of each value of the "nodes" dimension (the study's with its one node group at
  /// that count).
  std::map<int, platforms::Cluster> clusters;
  std::size_t size() const;
  /// The value index of each dimension of layout `index` (mixed radix).
  std::vector<std::size_t> digits(std::size_t index) const;
};

/// What one layout of the space turns into for a run: the study's sections it replaces.
struct LayoutSpec {
  core::Json parallelism;  ///< a megatron spec: the study's own parameters with the layout's values
  core::Json memory;       ///< a memory policy spec
  std::int64_t micro_batch_size = 1;
  int nodes = 0;           ///< node count of the cluster's one group (0: the cluster as it is)
};

/// The space `spec` asks of `study` (spec.space over the defaults; spec.max_gpus > 0 bounds the
/// node count). `study_document` is the study as written (its /parallelism and /memory are the
/// base). Throws core::ConfigError at /search/space/nodes for node counts on a cluster of several
/// node groups, at /search/max_gpus when no node count fits within max_gpus.
LayoutSpace make_space(const study::Study& study, const core::Json& study_document, const study::SearchSpec& spec);

/// The layout at `index`: the study's sections with the layout's values written in.
LayoutSpec layout_spec(const LayoutSpace& space, std::size_t index, const core::Json& study_document);

enum class Fate {
  kScreened,      ///< planned and estimated within the constraints
  kInvalid,       ///< the policy cannot build it (reason: the parameter it blames)
  kOverMemory,    ///< estimated peak memory over a GPU's memory or max_memory_per_gpu
  kOverCost,      ///< estimated cost per token over max_cost_per_token
};

struct ScreenedLayout {
  std::size_t index = 0;
  Fate fate = Fate::kScreened;
  std::string reason;   ///< kInvalid: a short class ("pipeline_model_parallel_size"), else empty
  std::string message;  ///< kInvalid: the policy's message
  Estimate estimate;    ///< kScreened, kOverMemory, kOverCost
  double score = 0;     ///< higher is better (objective_score)
};

/// The objective as a score where higher is better: tokens/s (throughput, goodput), minus the
/// cost per token (cost), minus the energy per token (energy).
double objective_score(const std::string& objective, double tokens_per_s, double cost_per_token,
                       double energy_j_per_token);

/// Plans and estimates every layout of `space`, in index order, scored by spec.objective and held
/// to spec.max_memory_per_gpu_bytes and spec.max_cost_per_token (0: none). A value that is not
/// valid for its parameter (a schedule "zigzag", a negative size) is a ConfigError at
/// /search/space/<dimension>/<i> of the study file.
std::vector<ScreenedLayout> screen(const study::Study& study, const core::Json& study_document,
                                   const LayoutSpace& space, const study::SearchSpec& spec);

/// The cluster of the study with its one node group at `nodes` nodes (0: unchanged).
platforms::Cluster cluster_with_nodes(const platforms::Cluster& cluster, int nodes);

}  // namespace frugal::search

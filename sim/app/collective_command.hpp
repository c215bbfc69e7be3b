// frugalsim collective: one collective simulated alone over a range of sizes on a cluster, printed
// with nccl-tests' columns so that users set it beside their own nccl-tests output.
#pragma once

#include <string>
#include <vector>

#include "platforms/cluster_spec.hpp"
#include "sim/core/json_reader.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/program/program.hpp"

namespace frugal::app {

/// What to run: nccl-tests' options (-b, -e, -f, -d) and the group.
struct CollectiveSweep {
  program::CollectiveKind kind = program::CollectiveKind::kAllReduce;
  double min_bytes = 8;
  double max_bytes = 128.0 * 1024 * 1024;
  int step_factor = 2;            ///< sizes min, min·f, min·f², ... up to max
  std::string datatype = "float"; ///< float, half, bfloat16, double: element size for `count`
  int ranks = 0;                  ///< the first `ranks` GPUs (node-major); 0: every GPU
  std::string algorithm = "auto"; ///< ring, hierarchical, tree, nvls, auto (cost::select_algorithm per size)
  engine::CollectiveModel model = engine::CollectiveModel::kAuto;
};

/// One size: nccl-tests' out-of-place columns.
struct CollectiveRow {
  double bytes = 0;      ///< the whole buffer (nccl-tests' size)
  double elements = 0;   ///< bytes / element size (nccl-tests' count)
  double time_s = 0;
  double algbw_bytes_per_s = 0;  ///< bytes / time
  double busbw_bytes_per_s = 0;  ///< algbw × program::busbw_factor
  /// The algorithm this size ran (cost::effective_algorithm: auto's choice, or the requested one
  /// where the group allows it, else the ring).
  program::CollectiveAlgorithm algorithm{};
};

/// Element size of an nccl-tests datatype name; throws core::ConfigError("--datatype") otherwise.
double datatype_bytes(const std::string& datatype);

/// nccl-tests' sizes: min, min·f, ... while ≤ max, each rounded down to whole elements on every
/// rank (a multiple of n elements for reduce-scatter, all-gather and all-to-all).
std::vector<double> sweep_sizes(const CollectiveSweep& sweep, int ranks);

/// What a sweep ran and measured.
struct CollectiveSweepResult {
  int ranks = 0;
  program::CollectiveAlgorithm algorithm{};  ///< as requested (kAuto: see each row's)
  engine::CollectiveModel model{};           ///< the engine's model (never kAuto)
  std::vector<CollectiveRow> rows;
};

/// Simulates every size of `sweep` in one program on `cluster`, one after the other on every
/// rank (each starts when the previous one has finished everywhere); a size's time is from the
/// end of the previous collective on its last rank to the end of its own on its last rank.
/// Throws core::ConfigError for options the cluster cannot honour (more ranks than GPUs, fewer
/// than 2) or an unknown algorithm. One simulation: call once per process.
CollectiveSweepResult simulate_collective_sweep(const platforms::Cluster& cluster, const CollectiveSweep& sweep);

/// `frugalsim collective CLUSTER [options]`: prints the table; -o writes it as JSON (rows in the
/// layout of `frugal-real bench`'s "collectives"). Returns the exit code.
int cmd_collective(const std::vector<std::string>& args);

}  // namespace frugal::app

// Calibration of a platform from real-backend measurements, and validation of the simulator
// against measured runs. Pure data in, plain data out; the simulation itself is the caller's
// (one per process).
#pragma once

#include <string>
#include <vector>

#include "platforms/cluster_spec.hpp"
#include "sim/cost/collective_algorithms.hpp"
#include "sim/core/json_reader.hpp"
#include "sim/engine/simulation.hpp"

namespace frugal::calibration {

/// Least-squares fit of T(S) = α + S/β over (bytes, seconds) points, weighted by 1/T² (relative
/// residuals, so every size counts); R² is the weighted one.
struct AlphaBeta {
  double alpha_s = 0;
  double beta_bytes_per_s = 0;
  double r2 = 0;
  int points = 0;
  /// True when the least-squares slope was not positive (wall-clock noise larger than the
  /// transfer times, as on a loaded machine) and the line joins the extreme sizes instead.
  bool from_extremes = false;
};
AlphaBeta fit_alpha_beta(const std::vector<std::pair<double, double>>& bytes_and_seconds);

/// fit_alpha_beta, and where its slope is not positive, the line through the smallest and
/// largest sizes (median time of each): β = ΔS/ΔT, α = T_min − S_min/β ≥ 0; where even the
/// largest size is not slower than the smallest, β = S_max/T_max, a lower bound (the whole
/// time counted as transfer). β > 0 whenever two sizes with positive times were measured.
AlphaBeta fit_link(const std::vector<std::pair<double, double>>& bytes_and_seconds);

/// Size factors (platforms::SizeFactor) that bend the line `line` through measured points: sizes
/// are grouped in bands whose bounds are powers of 16 from 4 KiB (4 KiB, 64 KiB, 1 MiB, ...);
/// a band with two or more sizes gets its own α_b, β_b (latency α_b/α, bandwidth β_b/β), a band
/// with one size keeps latency 1 and matches its time through bandwidth alone. Neighbouring
/// bands within 2 % of each other merge; the first factor starts at 0 B. Factors are clamped
/// to [0.01, 100]. Empty when `line` has no bandwidth or there are no points.
std::vector<platforms::SizeFactor> fit_size_factors(const std::vector<std::pair<double, double>>& bytes_and_seconds,
                                                    const AlphaBeta& line);

/// What a set of `frugal-real bench` files says about one device and its intra-node link.
struct Fit {
  /// FLOPs of one GEMM → fraction of peak of its work alone: f/(peak·(t − kernel_launch_s)).
  std::vector<std::pair<double, double>> gemm_efficiency;
  /// Fixed cost per kernel: the time at 0 FLOPs of the line through the two smallest GEMM sizes
  /// (t = L + f/R), clamped to [0, t₀ − f₀/max(nominal peak, best rate measured)]; 0 with fewer
  /// than two sizes.
  double kernel_launch_s = 0;
  double matmul_efficiency = 0;   ///< efficiency of the largest GEMM measured
  /// > 0 when measured GEMMs' work (their time less kernel_launch_s) ran faster than the nominal
  /// peak (a CPU core above its rated clock): the best such rate, which becomes the peak,
  /// efficiencies being relative to it (they must stay in (0, 1]). 0: the nominal peak stands.
  double peak_flops_per_s = 0;
  double memory_bandwidth_bytes_per_s = 0;  ///< median of the out-of-cache streaming sizes
  /// Bytes one op moves → bandwidth (median over the benches), every size measured, sorted.
  std::vector<std::pair<double, double>> memory_bandwidth_by_size;
  AlphaBeta link;                 ///< point-to-point between two ranks of one node
  /// The NVLink SHARP all-reduce of one node, when the all-reduces measured ran it: fit_link
  /// through (S, T); β is the switch's all-reduce bandwidth (nvls_bandwidth; algbw at large
  /// sizes). Unfitted (β = 0) otherwise.
  AlphaBeta nvls;
  std::vector<platforms::SizeFactor> link_factors;  ///< deviation of the measurements from `link`
  /// By program::CollectiveKind index: the median, over the latency-bound sizes measured (at
  /// most 64 KiB, or all when none is), of measured − predicted time, where the prediction runs
  /// the engine's step algorithm on `link` and `link_factors`; clamped at 0. Empty: none measured.
  std::vector<double> collective_overhead_s;
  std::string precision;          ///< of the GEMMs measured ("fp32" on the CPU device)
  /// The GPU's link to host memory: α of fit_link through the pinned copies' medians (both
  /// directions), β of the largest size (the bench's small copies run from the caches, a
  /// program's buffers do not: bench with --max-bytes 16MiB or more). Unfitted (β = 0) without
  /// a `copies` section.
  AlphaBeta host_link;
  /// The node CPU's speed for host compute (the CPU optimizer step; one CPU shared by the node's
  /// ranks in the simulator): the median rate of the sizes a benchmarked program's host steps
  /// run, else of the largest size measured, times the ranks per node that ran it at once. 0
  /// without a `host_compute` section.
  double cpu_flops_per_s = 0;
};

/// Time of one collective of `bytes` (program conventions) over `n` members of one node joined by
/// routes of `link` bent by `factors`: the phases of `algorithm` (cost::phases, the ones the
/// engine runs; a one-node group runs hierarchical as ring), each step's message getting its own
/// size factor: Σ_phases steps · (α·latency factor + step bytes/(β·bandwidth factor)). With
/// `nvls_bytes_per_s` > 0 the nvls all-reduce is one trip through the node's NVSwitch: α + S/min(β,
/// nvls_bytes_per_s), as cost::nvls_path prices it.
double predicted_collective_s(program::CollectiveKind kind, double bytes, int n, const AlphaBeta& link,
                              const std::vector<platforms::SizeFactor>& factors,
                              program::CollectiveAlgorithm algorithm = program::CollectiveAlgorithm::kRing,
                              double nvls_bytes_per_s = 0);

/// Fits from bench files (format frugal-real-bench, or nccl-tests output read by
/// read_nccl_tests). `peak_flops_per_s` is the nominal peak the efficiencies are relative to.
/// Sections are merged over the files (a compute-only bench after a full one, say); what no file
/// measured stays unfitted: no compute without GEMMs (apply_fit leaves the GPU's), no link
/// without point-to-point or, failing those, all-reduce figures (fitted through their ring
/// steps, (S/n, T/(2(n−1))), on any number of ranks). Throws ConfigError(file, pointer, ...) for files that are
/// not benches or miss a field (check_bench_file), and when no file has a GEMM or a collective.
/// `all_reduce`: the algorithm the measured all-reduces ran (NCCL_ALGO), ring or nvls (NCCL's
/// choice for large sizes on an NVSwitch node with NVLink SHARP, H100 and later). NVLS
/// all-reduces fit `nvls` instead of the link, and their overhead is their residual over
/// link.alpha_s + S/nvls.beta (none without a link fit). Throws std::invalid_argument for another
/// algorithm.
Fit fit_benches(const std::vector<core::Json>& benches, const std::vector<std::string>& files, double peak_flops_per_s,
                program::CollectiveAlgorithm all_reduce = program::CollectiveAlgorithm::kRing);

/// Writes the fit into a cluster document (every node type, or the one named): the GPU inlined
/// with its GEMM efficiency table, matmul efficiency, memory bandwidth (out of cache, and by
/// size); the intra-node link's bandwidth and latency (a route inside a node crosses two such
/// links) and its size factors; the host link's bandwidth and latency (a copy crosses one) and
/// the CPU's speed, where measured; the NVLS all-reduce bandwidth (intra_node.nvls_bandwidth),
/// where fitted (ConfigError for a node type whose intra-node link is not NVLink). Provenance (files, fitted values, R²) goes into the `source`
/// strings. Returns the new document.
core::Json apply_fit(const core::Json& cluster_doc, const Fit& fit, const std::vector<std::string>& files,
                     const std::string& node_type = "");

/// Simulated vs measured: per-op median durations matched by (rank, op) and iteration times.
/// Relative errors are (simulated − measured) / measured; MAPE is the mean of their absolute
/// values over ops with a measured median above `min_op_s`.
core::Json compare(const program::Program& program, const engine::SimulationResult& simulated,
                   const core::Json& measurements, double min_op_s = 1e-5);

}  // namespace frugal::calibration

// Calibration of a platform from real-backend measurements, and validation of the simulator
// against measured runs. Pure data in, plain data out; the simulation itself is the caller's
// (one per process).
#pragma once

#include <string>
#include <vector>

#include "sim/core/json_reader.hpp"
#include "sim/engine/simulation.hpp"

namespace frugal::calibration {

/// Least-squares fit of T(S) = α + S/β over (bytes, seconds) points.
struct AlphaBeta {
  double alpha_s = 0;
  double beta_bytes_per_s = 0;
  double r2 = 0;
  int points = 0;
};
AlphaBeta fit_alpha_beta(const std::vector<std::pair<double, double>>& bytes_and_seconds);

/// What a set of `frugal-real bench` files says about one device and its intra-node link.
struct Fit {
  std::vector<std::pair<double, double>> gemm_efficiency;  ///< FLOPs of one GEMM → fraction of peak
  double matmul_efficiency = 0;   ///< efficiency of the largest GEMM measured
  double memory_bandwidth_bytes_per_s = 0;  ///< median of the out-of-cache streaming sizes
  AlphaBeta link;                 ///< point-to-point between two ranks of one node
  std::string precision;          ///< of the GEMMs measured ("fp32" on the CPU device)
};

/// Fits from bench files (format frugal-real-bench). `peak_flops_per_s` is the nominal peak the
/// efficiencies are relative to. Throws ConfigError(file, pointer, ...) for files that are not
/// benches or lack a section.
Fit fit_benches(const std::vector<core::Json>& benches, const std::vector<std::string>& files, double peak_flops_per_s);

/// Writes the fit into a cluster document (every node type, or the one named): the GPU inlined
/// with its GEMM efficiency table, matmul efficiency and memory bandwidth; the intra-node link's
/// bandwidth and latency (a route inside a node crosses two such links). Provenance (files, fitted
/// values, R²) goes into the `source` strings. Returns the new document.
core::Json apply_fit(const core::Json& cluster_doc, const Fit& fit, const std::vector<std::string>& files,
                     const std::string& node_type = "");

/// Simulated vs measured: per-op median durations matched by (rank, op) and iteration times.
/// Relative errors are (simulated − measured) / measured; MAPE is the mean of their absolute
/// values over ops with a measured median above `min_op_s`.
core::Json compare(const program::Program& program, const engine::SimulationResult& simulated,
                   const core::Json& measurements, double min_op_s = 1e-5);

}  // namespace frugal::calibration

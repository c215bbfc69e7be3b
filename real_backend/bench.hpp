// nccl-tests-style microbenchmarks on the executor's devices and communicators: GEMM shapes,
// collectives by size and group size (algbw, busbw with nccl-tests' factors), host<->device
// copies (pinned and pageable), host compute (the CPU optimizer step as the executor runs it),
// memory streaming and launch latency. Each point: warm-up,
// then iterations timed one by one with device markers; an iteration's time is the slowest
// rank's; summaries are order statistics (stats.hpp).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "real_backend/communicator.hpp"
#include "real_backend/device.hpp"

namespace frugal::real {

inline constexpr const char* kBenchFormat = "frugal-real-bench";
inline constexpr int kBenchVersion = 1;

struct BenchOptions {
  bool gemm = true, collectives = true, copies = true, memory = true, latency = true, host_compute = true;
  int warmup = 5;
  int iterations = 20;
  double min_bytes = 1024;            ///< collectives, copies and streaming sizes
  double max_bytes = 64.0 * (1 << 20);
  /// Streaming sizes go up to max(max_bytes, this): past the last-level cache, where the
  /// memory-bound work of a program (an optimizer step over every parameter) streams.
  double memory_max_bytes = 256.0 * (1 << 20);
  double step_factor = 4;             ///< sizes grow by this factor (nccl-tests -f)
  std::vector<int> gemm_sizes = {128, 256, 512, 1024, 2048};  ///< square sweep
  std::vector<program::Gemm> gemm_shapes;  ///< more shapes (e.g. those of a program)
  /// FLOPs of host compute ops to time besides the sweep's (e.g. a program's CPU optimizer steps).
  std::vector<double> host_flops;
};


/// Groups the collective benchmark needs for a world of `n` ranks: group 0 = everyone, then for
/// every power of two g (2 ≤ g < n, g divides n) the n/g blocks of g consecutive ranks.
std::vector<program::Group> bench_groups(int n);

/// The distinct GEMM shapes of a program (every rank), in first-seen order.
std::vector<program::Gemm> program_gemms(const program::Program& program);

/// The distinct FLOPs of a program's host compute ops (every rank), ascending.
std::vector<double> program_host_flops(const program::Program& program);

/// Runs the selected benchmarks; collective over the communicator (built over bench_groups).
/// `print` receives table lines on rank 0 (nothing on other ranks). Returns the sections
/// ("gemm", "collectives", "copies", "host_compute", "memory", "latency") for bench.json; host
/// compute only on the CPU device (the executor runs it there only).
core::Json run_benchmarks(const BenchOptions& options, Device& device, Communicator& comm,
                          const std::function<void(const std::string&)>& print);

}  // namespace frugal::real

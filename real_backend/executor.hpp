// Program executor of the real backend: runs one rank's ops on a Device and a Communicator,
// warm-up iterations then measured ones, and records every op's start and end.
// It never prints and never exits: results (an out-of-memory included) come back as data.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "real_backend/communicator.hpp"
#include "real_backend/device.hpp"

namespace frugal::real {

/// How the ops of one rank are issued.
///  - kSerial: one host thread in program order (a topological order). On an asynchronous
///    device (CUDA) streams still overlap, cross-stream dependencies become stream waits; on
///    the CPU device every op runs to completion before the next one (no overlap).
///  - kStreams: one host thread per stream, cross-stream dependencies waited for, exactly the
///    simulator's semantics (an op of iteration k starts when its stream's previous op and all
///    its dependencies of iteration k are done). Needs MPI_THREAD_MULTIPLE with MPI.
enum class Schedule { kSerial, kStreams };
std::string to_string(Schedule);

struct ExecutorOptions {
  int warmup_iterations = 1;
  int iterations = 5;
  /// Multiplies every op's work (GEMM rows or batch, bytes) for quick runs of big programs on
  /// small machines; 1 runs the program as written.
  double scale = 1.0;
  Schedule schedule = Schedule::kSerial;
  /// Largest buffer one op uses: larger collectives, transfers and copies run in chunks.
  std::size_t max_buffer_bytes = std::size_t{256} << 20;
  std::filesystem::path checkpoint_dir;  ///< where checkpoint_write ops write; empty: temp dir
};

/// The square GEMM a compute op of `flops` compute-bound FLOPs without GEMM shapes runs as (a
/// host compute op such as the CPU optimizer step, on the host stream): n = round(∛(flops/2)).
program::Gemm synthetic_gemm(double flops);

/// What one op really executes, after scaling (the trace reports these amounts).
struct OpWork {
  std::vector<program::Gemm> gemms;
  bool synthetic_gemm = false;  ///< a square GEMM standing for compute-bound FLOPs without shapes
  double gemm_flops = 0;
  double stream_bytes = 0;      ///< memory traffic of the memory-bound part
  /// Kernels the memory-bound part runs as (the op's kernels less its GEMMs, at least one),
  /// each streaming stream_bytes / stream_kernels, so the op launches as many kernels as the
  /// simulator charges (program::Compute::kernels).
  int stream_kernels = 1;
  double bytes = 0;             ///< communicated, copied, allocated or written bytes
};

struct OpTiming {
  int op = 0;
  int iteration = 0;  ///< measured iteration, from 0
  double start_s = 0;  ///< from the common epoch (a barrier before the measured iterations)
  double end_s = 0;
};

struct OutOfMemoryEvent {
  int op = -1;  ///< −1: a resident allocation, made before the first iteration
  int iteration = -1;
  bool warmup = false;
  std::string buffer;
  double requested_bytes = 0;
  double in_use_bytes = 0;
  double capacity_bytes = 0;
  std::string detail;
  int count = 1;  ///< times this op ran out of memory (warm-up and measured iterations)
};

struct RankRun {
  int rank = 0;
  std::vector<OpWork> work;      ///< per op
  std::vector<OpTiming> timings;  ///< measured iterations only
  std::vector<OutOfMemoryEvent> out_of_memory;
  double program_peak_bytes = 0;  ///< peak of the program's own allocations (comparable to the simulator's)
  double device_peak_bytes = 0;   ///< peak of the device allocator (program + communication buffers)
  double capacity_bytes = 0;
  double wall_s = 0;              ///< measured iterations, this rank
};

/// The work each op of `rank` runs and the workspace they need (no device involved).
std::vector<OpWork> plan_work(const program::Program& program, int rank, double scale);
Workspace workspace_for(const std::vector<OpWork>& work, const program::RankProgram& rp, std::size_t max_buffer_bytes);

class Executor {
 public:
  /// `program` must be valid (program::validate) and have a rank `rank`; the communicator must
  /// be built over the program's groups. Throws OutOfMemory when the workspace does not fit.
  Executor(const program::Program& program, int rank, Device& device, Communicator& communicator,
           ExecutorOptions options);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  /// Collective over the communicator's world (barriers): every rank calls it once.
  RankRun run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace frugal::real

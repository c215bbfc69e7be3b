// The two commands of frugal-real as library functions: `run` (execute a Program, write
// measurements.json) and `bench` (microbenchmarks, write bench.json). main() only parses the
// command line and maps uncaught errors to exit codes. Both are collective over MPI_COMM_WORLD.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "real_backend/bench.hpp"
#include "real_backend/device_factory.hpp"
#include "real_backend/executor.hpp"
#include "real_backend/launch.hpp"

namespace frugal::real {

/// Exit codes: 0 done (an out-of-memory is a result, status "out_of_memory"); 1 a check or the
/// run failed; 2 bad input (file:pointer message; nothing written); 3 internal error;
/// 77 the device is unavailable here (ctest's skip code).
enum ExitCode { kExitOk = 0, kExitFailed = 1, kExitBadInput = 2, kExitInternal = 3, kExitNoDevice = 77 };

struct RunOptions {
  std::string program_file;
  std::string output = "measurements.json";
  DeviceOptions device;
  ExecutorOptions executor;
  std::vector<std::string> argv;
};

struct BenchCommandOptions {
  BenchOptions bench;
  std::string output = "bench.json";
  std::vector<std::string> program_files;  ///< optional: their GEMM shapes and host steps join the sweeps
  bool default_gemm_sizes = true;  ///< choose the sweep by device (bigger on CUDA)
  DeviceOptions device;
  std::vector<std::string> argv;
};

/// Errors every rank detects identically (bad program, world size, device) are agreed on before
/// anything runs: the lowest failing rank prints, every rank returns the same code. Progress
/// and the summary go to `out` on rank 0.
int run_command(const RunOptions& options, const MpiSession& session, std::ostream& out, std::ostream& err);
int bench_command(const BenchCommandOptions& options, const MpiSession& session, std::ostream& out, std::ostream& err);

}  // namespace frugal::real

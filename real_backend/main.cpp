// frugal-real: runs a FrugalSim Program for real (one process per rank, under mpirun or srun)
// and writes measurements.json, or runs microbenchmarks and writes bench.json. This file only
// parses the command line (boost::program_options, with frugalsim's --help format) and maps
// errors to exit codes (see commands.hpp).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "real_backend/commands.hpp"
#include "real_backend/cpu/blas_core.hpp"
#include "sim/core/command_line.hpp"
#include "sim/core/error.hpp"
#include "sim/core/output_files.hpp"
#include "sim/core/units.hpp"

namespace {

using namespace frugal;

namespace po = boost::program_options;

const char* const kUsage = R"(usage: frugal-real <command> [options]
commands:
  run PROGRAM.json [-o measurements.json] [options]   execute a program, one process per rank
  bench [--gemm] [--collectives] [--copies] [--host-compute] [--memory] [--latency] [-o bench.json]
                                                      microbenchmarks for frugalsim calibrate
  (frugal-real <command> --help lists the command's options)
Launch one process per rank: scripts/mpirun.sh -np N frugal-real run PROGRAM.json (mpirun with
this machine's settings; srun works too); without MPI, RANK/WORLD_SIZE/LOCAL_RANK are read (one
rank only), else one rank. Sizes take units ("64MiB").
exit codes: 0 done, 1 check or run failed, 2 bad input (nothing written), 3 internal error,
77 device unavailable
)";

double number(const std::string& option, const std::string& text, double min) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(v >= min))
    throw std::invalid_argument(option + " " + text + ": expected a number >= " + std::to_string(min));
  return v;
}

int integer(const std::string& option, const std::string& text, int min) {
  const double v = number(option, text, min);
  if (v != static_cast<int>(v)) throw std::invalid_argument(option + " " + text + ": expected an integer");
  return static_cast<int>(v);
}

double bytes(const std::string& option, const std::string& text) {
  try {
    return number(option, text, 0);
  } catch (const std::invalid_argument&) {
  }
  try {
    return core::parse_quantity(text, core::Dimension::kBytes);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(option + " " + text + ": " + e.what());
  }
}

std::vector<int> int_list(const std::string& option, const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(integer(option, item, 1));
  return out;
}

double g_timeout_s = 0;  // --timeout: 0 = none

/// Option values as written, converted with the checks above once parsing is done.
using Text = std::optional<std::string>;
po::typed_value<std::string>* text(Text* where, const char* name) {
  return po::value<std::string>()->value_name(name)->notifier([where](const std::string& v) { *where = v; });
}

/// Options both commands take.
struct Common {
  Text output, timeout, device, threads, device_memory, clock;

  void add(po::options_description& d, const std::string& default_output) {
    d.add_options()("output,o", text(&output, "FILE"), ("output file (default " + default_output + ")").c_str())(
        "device", text(&device, "cpu|cuda"), "device (default cpu)")(
        "threads", text(&threads, "N"), "CPU: OpenBLAS threads (default OPENBLAS_NUM_THREADS, else cores / local ranks)")(
        "device-memory", text(&device_memory, "BYTES"),
        "memory a rank may allocate (default: CPU 80 % of MemAvailable / local ranks; CUDA all free memory)")(
        "clock", text(&clock, "wall|thread-cpu"),
        "what timings measure (default wall); thread-cpu: the CPU time of the thread doing the work (CPU device, "
        "one BLAS thread, serial schedule): other processes on the machine do not inflate it, waits do not count")(
        "timeout", text(&timeout, "SECONDS"), "abort every rank after this many seconds (default: none)");
  }
  void apply(real::DeviceOptions& d, std::string& out) const {
    if (output) out = *output;
    if (timeout) g_timeout_s = number("--timeout", *timeout, 0);
    if (device) d.kind = *device;
    if (threads) d.threads = integer("--threads", *threads, 1);
    if (device_memory) d.capacity_bytes = bytes("--device-memory", *device_memory);
    if (clock) d.clock = *clock;
  }
};

/// Parses `run`'s arguments; false when --help was asked (printed on rank 0 only).
bool parse_run(const std::vector<std::string>& args, bool rank0, real::RunOptions& o) {
  Common common;
  Text iterations, warmup, scale, schedule, max_buffer, checkpoint_dir;
  po::options_description d("run options");
  common.add(d, o.output);
  d.add_options()("iterations", text(&iterations, "N"), "measured iterations (default 5)")(
      "warmup", text(&warmup, "W"), "warm-up iterations before them (default 1)")(
      "schedule", text(&schedule, "serial|streams"), "one thread in program order, or one per stream (default serial)")(
      "scale", text(&scale, "F"), "shrink every op by F, 0 < F <= 1 (default 1)")(
      "max-buffer", text(&max_buffer, "BYTES"), "largest buffer of one op; larger ones run in chunks (default 256MiB)")(
      "checkpoint-dir", text(&checkpoint_dir, "DIR"), "where checkpoint writes and NVMe buffers go (default: temp dir)");
  std::vector<std::string> programs;
  std::ostringstream discard;
  if (!core::parse_command_line(args, "frugal-real run PROGRAM.json [options]", d, {"program", po::value(&programs), -1},
                                rank0 ? std::cout : discard))
    return false;
  if (programs.empty()) throw std::invalid_argument("run needs a PROGRAM.json");
  if (programs.size() > 1) throw std::invalid_argument("one program only (got " + programs[0] + " and " + programs[1] + ")");
  o.program_file = programs[0];
  common.apply(o.device, o.output);
  if (iterations) o.executor.iterations = integer("--iterations", *iterations, 1);
  if (warmup) o.executor.warmup_iterations = integer("--warmup", *warmup, 0);
  if (scale) {
    o.executor.scale = number("--scale", *scale, 0);
    if (!(o.executor.scale > 0 && o.executor.scale <= 1)) throw std::invalid_argument("--scale must lie in (0, 1]");
  }
  if (schedule) {
    if (*schedule != "serial" && *schedule != "streams")
      throw std::invalid_argument("--schedule " + *schedule + " (valid: serial, streams)");
    o.executor.schedule = *schedule == "serial" ? real::Schedule::kSerial : real::Schedule::kStreams;
  }
  if (max_buffer)
    o.executor.max_buffer_bytes = static_cast<std::size_t>(std::max(4096.0, bytes("--max-buffer", *max_buffer)));
  if (checkpoint_dir) o.executor.checkpoint_dir = *checkpoint_dir;
  return true;
}

/// Parses `bench`'s arguments; false when --help was asked (printed on rank 0 only).
bool parse_bench(const std::vector<std::string>& args, bool rank0, real::BenchCommandOptions& o) {
  Common common;
  real::BenchOptions& b = o.bench;
  bool gemm = false, collectives = false, copies = false, memory = false, latency = false, host_compute = false;
  Text warmup, iterations, min_bytes, max_bytes, step_factor, gemm_sizes, program;
  po::options_description d("bench options (no section named: every section)");
  common.add(d, o.output);
  d.add_options()("gemm", po::bool_switch(&gemm), "GEMM sweep, plus the program's GEMM shapes")(
      "collectives", po::bool_switch(&collectives), "every collective over every power-of-two group, and send/recv")(
      "copies", po::bool_switch(&copies), "device <-> host copies, pinned and pageable")(
      "host-compute", po::bool_switch(&host_compute),
      "host compute (the CPU optimizer step) by FLOPs, plus the program's host steps (CPU device)")(
      "memory", po::bool_switch(&memory), "memory streaming bandwidth by size")(
      "latency", po::bool_switch(&latency), "launch latency")(
      "warmup", text(&warmup, "W"), "warm-up iterations per point (default 5)")(
      "iterations", text(&iterations, "N"), "timed iterations per point (default 20)")(
      "min-bytes", text(&min_bytes, "B"), "smallest size (default 1KiB)")(
      "max-bytes", text(&max_bytes, "B"), "largest size (default 64MiB; streaming goes to 256MiB at least)")(
      "step-factor", text(&step_factor, "F"), "sizes grow by this factor, > 1 (default 4)")(
      "gemm-sizes", text(&gemm_sizes, "128,256,..."), "square GEMM sweep (default 128..2048 on CPU, 256..16384 on CUDA)")(
      "program", text(&program, "PROGRAM.json[,...]"), "programs whose GEMM shapes and host steps join the sweeps");
  std::ostringstream discard;
  if (!core::parse_command_line(args, "frugal-real bench [options]", d, {}, rank0 ? std::cout : discard)) return false;
  common.apply(o.device, o.output);
  if (warmup) b.warmup = integer("--warmup", *warmup, 0);
  if (iterations) b.iterations = integer("--iterations", *iterations, 1);
  if (min_bytes) b.min_bytes = std::max(1.0, bytes("--min-bytes", *min_bytes));
  if (max_bytes) b.max_bytes = std::max(1.0, bytes("--max-bytes", *max_bytes));
  if (step_factor) b.step_factor = number("--step-factor", *step_factor, 1.01);
  if (gemm_sizes) {
    b.gemm_sizes = int_list("--gemm-sizes", *gemm_sizes);
    o.default_gemm_sizes = false;
  }
  if (program) {
    std::stringstream list(*program);
    for (std::string file; std::getline(list, file, ',');)
      if (!file.empty()) o.program_files.push_back(file);
  }
  if (gemm || collectives || copies || memory || latency || host_compute) {
    b.gemm = gemm;
    b.host_compute = host_compute;
    b.collectives = collectives;
    b.copies = copies;
    b.memory = memory;
    b.latency = latency;
  }
  if (b.min_bytes > b.max_bytes) throw std::invalid_argument("--min-bytes is larger than --max-bytes");
  return true;
}

/// Runs `command`; past --timeout seconds, reports and aborts every rank (a hang is most often
/// blocking transfers issued in incompatible orders, which the simulator reports as a deadlock).
int with_timeout(const real::MpiSession& session, const std::function<int()>& command) {
  if (!(g_timeout_s > 0)) return command();
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock lock(m);
    if (cv.wait_for(lock, std::chrono::duration<double>(g_timeout_s), [&] { return done; })) return;
    std::cerr << "frugal-real: rank " << session.world_rank() << ": not finished after --timeout " << g_timeout_s
              << " s (blocking sends, receives or collectives issued in incompatible orders?): aborting\n";
    session.abort(real::kExitFailed);
  });
  struct Join {
    std::mutex& m;
    std::condition_variable& cv;
    bool& done;
    std::thread& t;
    ~Join() {
      {
        std::lock_guard lock(m);
        done = true;
      }
      cv.notify_all();
      t.join();
    }
  } join{m, cv, done, watchdog};
  return command();
}

}  // namespace

int main(int argc, char** argv) {
  real::reexec_with_better_blas_core(argv);  // before MPI starts: it may run the program again
  core::install_output_guards();
  real::MpiSession session(argc, argv);
  const bool rank0 = session.world_rank() == 0;
  const std::vector<std::string> all_args(argv, argv + argc);
  try {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
      if (rank0) std::cout << kUsage;
      return argc < 2 ? real::kExitBadInput : real::kExitOk;
    }
    const std::string command = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    if (command == "run") {
      real::RunOptions o;
      if (!parse_run(args, rank0, o)) return real::kExitOk;
      o.argv = all_args;
      return with_timeout(session, [&] { return real::run_command(o, session, std::cout, std::cerr); });
    }
    if (command == "bench") {
      real::BenchCommandOptions o;
      if (!parse_bench(args, rank0, o)) return real::kExitOk;
      o.argv = all_args;
      return with_timeout(session, [&] { return real::bench_command(o, session, std::cout, std::cerr); });
    }
    throw std::invalid_argument("unknown command \"" + command + "\" (valid: run, bench)");
  } catch (const po::error& e) {  // the command line: identical on every rank
    if (rank0) std::cerr << "frugal-real: " << e.what() << "\n" << kUsage;
    return real::kExitBadInput;
  } catch (const std::invalid_argument& e) {  // the command line: identical on every rank
    if (rank0) std::cerr << "frugal-real: " << e.what() << "\n" << kUsage;
    return real::kExitBadInput;
  } catch (const core::OutputError& e) {  // rank 0 writes the outputs, after the run
    std::cerr << "frugal-real: cannot write the output: " << e.what() << "\n";
    return real::kExitInternal;
  } catch (const core::InternalError& e) {
    std::cerr << "frugal-real: internal error (rank " << session.world_rank() << "): " << e.what() << "\n";
    if (session.world_size() > 1) session.abort(real::kExitInternal);
    return real::kExitInternal;
  } catch (const std::exception& e) {  // mid-run: the other ranks may be blocked in MPI
    std::cerr << "frugal-real: error (rank " << session.world_rank() << "): " << e.what() << "\n";
    if (session.world_size() > 1) session.abort(real::kExitFailed);
    return real::kExitFailed;
  }
}

// frugal-real: runs a FrugalSim Program for real (one process per rank, under mpirun or srun)
// and writes measurements.json, or runs microbenchmarks and writes bench.json. This file only
// parses the command line and maps errors to exit codes (see commands.hpp).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "real_backend/commands.hpp"
#include "sim/core/error.hpp"
#include "sim/core/units.hpp"

namespace {

using namespace frugal;

const char* const kUsage = R"(usage:
  frugal-real run PROGRAM.json [-o measurements.json] [--iterations N] [--warmup W]
                  [--device cpu|cuda] [--schedule serial|streams] [--scale F]
                  [--threads N] [--device-memory BYTES] [--max-buffer BYTES] [--checkpoint-dir DIR]
                  [--timeout SECONDS]
  frugal-real bench [--gemm] [--collectives] [--copies] [--memory] [--latency] [-o bench.json]
                  [--device cpu|cuda] [--warmup W] [--iterations N] [--min-bytes B] [--max-bytes B]
                  [--step-factor F] [--gemm-sizes 128,256,...] [--program PROGRAM.json]
                  [--threads N] [--device-memory BYTES] [--timeout SECONDS]
Launch one process per rank: mpirun -np N frugal-real run PROGRAM.json (or srun); without MPI,
RANK/WORLD_SIZE/LOCAL_RANK are read (one rank only), else one rank. Sizes take units ("64 MiB").
Exit codes: 0 done, 1 check or run failed, 2 bad input (nothing written), 3 internal error,
77 device unavailable.
)";

class Args {
 public:
  Args(int argc, char** argv, int first) : argv_(argv + first, argv + argc) {}
  bool done() const { return i_ >= argv_.size(); }
  std::string next() { return argv_[i_++]; }
  std::string value(const std::string& option) {
    if (done()) throw std::invalid_argument(option + " needs a value");
    return next();
  }

 private:
  std::vector<std::string> argv_;
  std::size_t i_ = 0;
};

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

double g_timeout_s = 0;  // --timeout: 0 = none

/// Options shared by both commands; false when `arg` is none of them.
bool common_option(const std::string& arg, Args& a, real::DeviceOptions& device, std::string& output) {
  if (arg == "-o" || arg == "--output") output = a.value(arg);
  else if (arg == "--timeout") g_timeout_s = number(arg, a.value(arg), 0);
  else if (arg == "--device") device.kind = a.value(arg);
  else if (arg == "--threads") device.threads = integer(arg, a.value(arg), 1);
  else if (arg == "--device-memory") device.capacity_bytes = bytes(arg, a.value(arg));
  else return false;
  return true;
}

real::RunOptions parse_run(Args& a) {
  real::RunOptions o;
  while (!a.done()) {
    const std::string arg = a.next();
    if (common_option(arg, a, o.device, o.output)) continue;
    if (arg == "--iterations") o.executor.iterations = integer(arg, a.value(arg), 1);
    else if (arg == "--warmup") o.executor.warmup_iterations = integer(arg, a.value(arg), 0);
    else if (arg == "--scale") {
      o.executor.scale = number(arg, a.value(arg), 0);
      if (!(o.executor.scale > 0 && o.executor.scale <= 1)) throw std::invalid_argument("--scale must lie in (0, 1]");
    } else if (arg == "--schedule") {
      const std::string s = a.value(arg);
      if (s != "serial" && s != "streams") throw std::invalid_argument("--schedule " + s + " (valid: serial, streams)");
      o.executor.schedule = s == "serial" ? real::Schedule::kSerial : real::Schedule::kStreams;
    } else if (arg == "--max-buffer") o.executor.max_buffer_bytes = static_cast<std::size_t>(std::max(4096.0, bytes(arg, a.value(arg))));
    else if (arg == "--checkpoint-dir") o.executor.checkpoint_dir = a.value(arg);
    else if (!arg.empty() && arg[0] == '-') throw std::invalid_argument("unknown option " + arg);
    else if (o.program_file.empty()) o.program_file = arg;
    else throw std::invalid_argument("one program only (got " + o.program_file + " and " + arg + ")");
  }
  if (o.program_file.empty()) throw std::invalid_argument("run needs a PROGRAM.json");
  return o;
}

std::vector<int> int_list(const std::string& option, const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(integer(option, item, 1));
  return out;
}

real::BenchCommandOptions parse_bench(Args& a) {
  real::BenchCommandOptions o;
  real::BenchOptions& b = o.bench;
  bool any = false, gemm = false, collectives = false, copies = false, memory = false, latency = false;
  while (!a.done()) {
    const std::string arg = a.next();
    if (common_option(arg, a, o.device, o.output)) continue;
    if (arg == "--gemm") any = gemm = true;
    else if (arg == "--collectives") any = collectives = true;
    else if (arg == "--copies") any = copies = true;
    else if (arg == "--memory") any = memory = true;
    else if (arg == "--latency") any = latency = true;
    else if (arg == "--warmup") b.warmup = integer(arg, a.value(arg), 0);
    else if (arg == "--iterations") b.iterations = integer(arg, a.value(arg), 1);
    else if (arg == "--min-bytes") b.min_bytes = std::max(1.0, bytes(arg, a.value(arg)));
    else if (arg == "--max-bytes") b.max_bytes = std::max(1.0, bytes(arg, a.value(arg)));
    else if (arg == "--step-factor") b.step_factor = number(arg, a.value(arg), 1.01);
    else if (arg == "--gemm-sizes") {
      b.gemm_sizes = int_list(arg, a.value(arg));
      o.default_gemm_sizes = false;
    } else if (arg == "--program") o.program_file = a.value(arg);
    else throw std::invalid_argument("unknown option " + arg);
  }
  if (any) {
    b.gemm = gemm;
    b.collectives = collectives;
    b.copies = copies;
    b.memory = memory;
    b.latency = latency;
  }
  if (b.min_bytes > b.max_bytes) throw std::invalid_argument("--min-bytes is larger than --max-bytes");
  return o;
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
  real::MpiSession session(argc, argv);
  const bool rank0 = session.world_rank() == 0;
  const std::vector<std::string> all_args(argv, argv + argc);
  try {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
      if (rank0) std::cout << kUsage;
      return argc < 2 ? real::kExitBadInput : real::kExitOk;
    }
    const std::string command = argv[1];
    Args a(argc, argv, 2);
    if (command == "run") {
      real::RunOptions o = parse_run(a);
      o.argv = all_args;
      return with_timeout(session, [&] { return real::run_command(o, session, std::cout, std::cerr); });
    }
    if (command == "bench") {
      real::BenchCommandOptions o = parse_bench(a);
      o.argv = all_args;
      return with_timeout(session, [&] { return real::bench_command(o, session, std::cout, std::cerr); });
    }
    throw std::invalid_argument("unknown command \"" + command + "\" (valid: run, bench)");
  } catch (const std::invalid_argument& e) {  // the command line: identical on every rank
    if (rank0) std::cerr << "frugal-real: " << e.what() << "\n" << kUsage;
    return real::kExitBadInput;
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

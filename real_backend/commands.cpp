// `run` and `bench` (contract in commands.hpp): agree on input errors, check the device and the
// communicator, execute or benchmark, gather to rank 0, write the file atomically.
#include "real_backend/commands.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "real_backend/checks.hpp"
#include "real_backend/manifest.hpp"
#include "real_backend/measurements.hpp"
#include "sim/core/error.hpp"
#include "sim/core/output_files.hpp"
#include "sim/program/rank_classes.hpp"
#include "sim/core/paths.hpp"

namespace frugal::real {
namespace {

/// Input problems found on this rank: exit code and message (code 0: none).
struct Failure {
  int code = 0;
  std::string message;
};

/// Runs `f`, turning the errors every command shares into a Failure.
template <class F>
Failure attempt(F&& f) {
  try {
    f();
  } catch (const core::ConfigError& e) {
    return {kExitBadInput, e.what()};
  } catch (const LaunchError& e) {
    return {kExitBadInput, e.what()};
  } catch (const std::invalid_argument& e) {
    return {kExitBadInput, e.what()};
  } catch (const DeviceUnavailable& e) {
    return {kExitNoDevice, std::string("device unavailable: ") + e.what()};
  } catch (const OutOfMemory& e) {
    return {kExitFailed, e.what()};
  }
  return {};
}

/// Agreement across ranks; true when everyone may go on. The lowest failing rank prints.
bool agreed(const MpiSession& session, const Failure& f, int* code, std::ostream& err) {
  const auto a = session.agree(f.code);
  if (a.code == 0) return true;
  if (a.reporter) err << "frugal-real: " << f.message << "\n";
  *code = a.code;
  return false;
}

void check_output_path(const std::string& output, const std::string& option) {
  const std::filesystem::path parent = std::filesystem::absolute(output).parent_path();
  if (!core::is_directory(parent))
    throw std::invalid_argument(option + " " + output + ": folder " + parent.string() + " does not exist");
  core::check_output_target(output);
}

std::string format_ms(double s) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f ms", s * 1e3);
  return text;
}

/// Start-up checks, agreed on. Returns the report, or nothing when a check failed (reported).
std::optional<core::Json> run_checks(const MpiSession& session, Device& device, Communicator& comm,
                                     const std::vector<program::Group>& groups, int* code, std::ostream& err) {
  const CheckResult gemm = check_gemm(device);
  const CheckResult all_reduce = check_all_reduce(device, comm, groups);
  Failure f;
  if (!gemm.ok || !all_reduce.ok) f = {kExitFailed, !gemm.ok ? gemm.message : all_reduce.message};
  if (!agreed(session, f, code, err)) return std::nullopt;
  return core::Json{{"gemm", gemm.report}, {"all_reduce", all_reduce.report}};
}

}  // namespace

int run_command(const RunOptions& o, const MpiSession& session, std::ostream& out, std::ostream& err) {
  int code = kExitOk;
  Launch launch;
  program::Program program;
  std::unique_ptr<Device> device;
  Failure f = attempt([&] {
    launch = session.launch();
    program = program::expand(program::load_program(o.program_file));
    const auto ranks = static_cast<int>(program.ranks.size());
    if (ranks != launch.size)
      throw core::ConfigError(o.program_file, "/ranks",
                              "the program has " + std::to_string(ranks) + " ranks but the world size is " +
                                  std::to_string(launch.size) + " (from " + launch.source + "): launch it with mpirun -np " +
                                  std::to_string(ranks) + " frugal-real run ...");
    if (o.executor.schedule == Schedule::kStreams && o.device.clock == "thread-cpu")
      throw std::invalid_argument("--clock thread-cpu needs --schedule serial (each stream's thread has its own CPU time)");
    if (o.executor.schedule == Schedule::kStreams && !launch.thread_multiple)
      throw std::invalid_argument("--schedule streams needs MPI_THREAD_MULTIPLE, which this MPI does not provide");
    if (launch.rank == 0) check_output_path(o.output, "-o");
    device = make_device(o.device, launch);
  });
  if (!agreed(session, f, &code, err)) return code;

  auto comm = make_communicator(*device, program.groups);
  const auto checks = run_checks(session, *device, *comm, program.groups, &code, err);
  if (!checks) return code;

  std::unique_ptr<Executor> executor;
  f = attempt([&] { executor = std::make_unique<Executor>(program, launch.rank, *device, *comm, o.executor); });
  if (!agreed(session, f, &code, err)) return code;
  const RankRun run = executor->run();
  executor.reset();

  const auto runs_json = session.gather(to_json(run).dump());
  const auto hosts = session.gather(launch.hostname);
  if (launch.rank != 0) return kExitOk;
  std::vector<RankRun> runs;
  for (const std::string& s : runs_json) runs.push_back(rank_run_from_json(core::Json::parse(s)));
  const core::Json manifest = make_manifest(launch, *device, comm.get(), o.argv, hosts);
  const core::Json m = make_measurements(program, runs, {o.program_file, o.device.kind, o.executor}, manifest, *checks);
  write_json_file(m, o.output);
  const auto& it = m.at("iterations");
  out << "frugal-real: " << program.ranks.size() << " ranks on " << o.device.kind << ", " << o.executor.iterations
      << " iterations (" << o.executor.warmup_iterations << " warm-up, " << to_string(o.executor.schedule)
      << "): iteration median " << format_ms(it.at("median_s").get<double>()) << " (min "
      << format_ms(it.at("min_s").get<double>()) << ", max " << format_ms(it.at("max_s").get<double>()) << ")";
  if (m.at("status") != "ok") out << "; status " << m.at("status").get<std::string>();
  out << " -> " << o.output << "\n";
  if (m.at("status") == "out_of_memory") err << "frugal-real: warning: some allocations ran out of memory (see \"memory\" in " << o.output << ")\n";
  return kExitOk;
}

int bench_command(const BenchCommandOptions& o, const MpiSession& session, std::ostream& out, std::ostream& err) {
  int code = kExitOk;
  Launch launch;
  BenchOptions bench = o.bench;
  std::unique_ptr<Device> device;
  Failure f = attempt([&] {
    launch = session.launch();
    for (const std::string& file : o.program_files) {
      const program::Program program = program::expand(program::load_program(file));
      for (const program::Gemm& g : program_gemms(program))
        if (std::find(bench.gemm_shapes.begin(), bench.gemm_shapes.end(), g) == bench.gemm_shapes.end()) bench.gemm_shapes.push_back(g);
      for (const double f : program_host_flops(program)) bench.host_flops.push_back(f);
    }
    if (launch.rank == 0) check_output_path(o.output, "-o");
    device = make_device(o.device, launch);
    if (o.default_gemm_sizes && device->kind() == "cuda") bench.gemm_sizes = {256, 512, 1024, 2048, 4096, 8192, 16384};
  });
  if (!agreed(session, f, &code, err)) return code;

  const std::vector<program::Group> groups = bench_groups(launch.size);
  auto comm = make_communicator(*device, groups);
  const auto checks = run_checks(session, *device, *comm, groups, &code, err);
  if (!checks) return code;

  core::Json sections = run_benchmarks(bench, *device, *comm, [&](const std::string& s) { out << s << "\n" << std::flush; });
  const auto hosts = session.gather(launch.hostname);
  if (launch.rank != 0) return kExitOk;
  core::Json doc = {{"format", kBenchFormat},
                    {"version", kBenchVersion},
                    {"manifest", make_manifest(launch, *device, comm.get(), o.argv, hosts)},
                    {"options", {{"warmup", bench.warmup},
                                 {"iterations", bench.iterations},
                                 {"min_bytes", bench.min_bytes},
                                 {"max_bytes", bench.max_bytes},
                                 {"step_factor", bench.step_factor},
                                 {"programs", o.program_files},
                                 {"timing", "each iteration timed alone with device markers; an iteration's time is "
                                            "the slowest rank's; algbw = bytes / median time, busbw = algbw x "
                                            "nccl-tests factor"}}},
                    {"checks", *checks}};
  for (auto& [key, value] : sections.items()) doc[key] = value;
  write_json_file(doc, o.output);
  out << "frugal-real: benchmarks -> " << o.output << "\n";
  return kExitOk;
}

}  // namespace frugal::real

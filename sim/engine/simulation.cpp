// simulate(): configures SimGrid's engine for GPU fabrics, builds the platform, runs the
// executor's actors and returns plain results. The only place an Engine is created.
#include "sim/engine/simulation.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <simgrid/plugins/energy.h>
#include <simgrid/s4u.hpp>

#include "sim/core/error.hpp"
#include "sim/engine/executor.hpp"
#include "sim/engine/platform_builder.hpp"

namespace sg4 = simgrid::s4u;

namespace frugal::engine {

std::string to_string(CollectiveModel model) {
  switch (model) {
    case CollectiveModel::kStepByStep: return "step_by_step";
    case CollectiveModel::kAggregate: return "aggregate";
    case CollectiveModel::kAuto: return "auto";
  }
  return "?";
}

std::string to_string(IdenticalRanks mode) {
  switch (mode) {
    case IdenticalRanks::kSimulateAll: return "all";
    case IdenticalRanks::kRepresentatives: return "representatives";
    case IdenticalRanks::kAuto: return "auto";
  }
  return "?";
}

namespace {

constexpr CollectiveModel kCollectiveModels[] = {CollectiveModel::kStepByStep, CollectiveModel::kAggregate,
                                                 CollectiveModel::kAuto};
constexpr IdenticalRanks kIdenticalRanks[] = {IdenticalRanks::kSimulateAll, IdenticalRanks::kRepresentatives,
                                              IdenticalRanks::kAuto};

template <class Enum, std::size_t N>
std::vector<std::string> names_of(const Enum (&values)[N]) {
  std::vector<std::string> out;
  for (Enum v : values) out.push_back(to_string(v));
  return out;
}

template <class Enum, std::size_t N>
Enum from_name(const Enum (&values)[N], const std::string& name, const std::string& what) {
  for (Enum v : values)
    if (to_string(v) == name) return v;
  std::string valid;
  for (const std::string& n : names_of(values)) valid += (valid.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown " + what + " \"" + name + "\" (valid: " + valid + ")");
}

}  // namespace

std::vector<std::string> collective_model_names() { return names_of(kCollectiveModels); }
std::vector<std::string> identical_ranks_names() { return names_of(kIdenticalRanks); }

CollectiveModel collective_model_from_string(const std::string& name) {
  return from_name(kCollectiveModels, name, "collective model");
}

IdenticalRanks identical_ranks_from_string(const std::string& name) {
  return from_name(kIdenticalRanks, name, "identical-ranks mode");
}

SimulationResult simulate(const platforms::Cluster& cluster, const program::Program& program,
                          const EngineOptions& options) {
  if (options.iterations < 1)
    throw std::invalid_argument("iterations must be >= 1 (got " + std::to_string(options.iterations) + ")");
  // SimGrid keeps global state (models, signals, the root zone): a second Engine in one process
  // is undefined behaviour, so refuse it loudly.
  static bool engine_used = false;
  if (engine_used)
    throw core::InternalError("simulate() called twice in one process: SimGrid's engine is one per process");
  engine_used = true;

  std::vector<std::string> args = simgrid_arguments("frugalsim");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  sg4::Engine engine(&argc, argv.data());
  sg_host_energy_plugin_init();  // must follow the Engine's construction (3.32)

  configure_network_model();
  for (const std::string& item : options.simgrid_config) sg4::Engine::set_config(item);

  const BuiltPlatform platform = build_platform(cluster, options.precision);
  Executor executor(cluster, program, options, platform);
  // SimGrid 3.32 on deadlock: logs it, fires on_deadlock, kills every actor (their stacks unwind
  // with ForcefulKillException) and returns from run(); it does not abort. The executor then
  // sees unfinished streams and throws InternalError naming them. Only one simulation per
  // process, so the executor outlives every firing of this signal.
  sg4::Engine::on_deadlock_cb([&executor]() { executor.note_deadlock(); });
  executor.start();
  engine.run();
  return executor.collect();
}

}  // namespace frugal::engine

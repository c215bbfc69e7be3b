// Op-by-op simulations of one training iteration in a forked child process. SimGrid's engine is
// one per process, and the campaign needs several layouts simulated (the plan, and the layouts
// shrink recovery may switch to) plus its own engine: each probe forks BEFORE any SimGrid call
// in the parent, the child runs engine::simulate() and sends the result back through a pipe
// (JSON, doubles written to round-trip exactly), then _exit()s.
#pragma once

#include "platforms/cluster_spec.hpp"
#include "sim/core/json_reader.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/program/program.hpp"

namespace frugal::campaign {

/// engine::simulate(cluster, program, options) run in a child process. Errors raised in the
/// child come back as the same kind: core::ConfigError (file, pointer, message),
/// std::invalid_argument, else core::InternalError; a child that dies (signal, bad exit) is a
/// core::InternalError naming how. Contract: the calling process has not created a SimGrid
/// engine yet (fork() copies it otherwise).
engine::SimulationResult simulate_in_child(const platforms::Cluster& cluster, const program::Program& program,
                                           const engine::EngineOptions& options);

/// Writes all of `text` to `fd` (retrying on EINTR; stops quietly when the reader went away).
void write_fully(int fd, const std::string& text);
/// Reads `fd` to its end (retrying on EINTR).
std::string read_fully(int fd);

/// The JSON form used on the pipe (exposed for tests): from_json(to_json(r)) == r field by field.
core::Json to_json(const engine::SimulationResult& result);
engine::SimulationResult simulation_result_from_json(const core::Json& json);

}  // namespace frugal::campaign

// Forked op-by-op probes (see iteration_probe.hpp): fork, simulate in the child, JSON through a
// pipe, _exit. (app::run_sweep forks too, one child per sweep point, with the pipe helpers here.)
#include "sim/campaign/iteration_probe.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "sim/core/error.hpp"

namespace frugal::campaign {

using core::Json;

void write_fully(int fd, const std::string& text) {
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent went away; nothing useful left to do
    off += static_cast<std::size_t>(n);
  }
}

std::string read_fully(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

Json to_json(const engine::SimulationResult& r) {
  Json ranks = Json::array();
  for (const auto& rs : r.ranks) {
    Json breakdown = Json::array();
    for (const auto& [tag, bytes] : rs.peak_breakdown) breakdown.push_back({static_cast<int>(tag), bytes});
    ranks.push_back({rs.compute_busy_s, rs.communication_busy_s, rs.exposed_communication_s, rs.finish_s,
                     rs.peak_memory_bytes, breakdown, rs.energy_j});
  }
  Json timeline = Json::array();
  for (const auto& e : r.timeline)
    timeline.push_back({e.rank, static_cast<int>(e.stream), e.name, e.category, e.iteration, e.start_s, e.end_s, e.bytes,
                        e.flops, e.memory_location, e.memory_bytes, e.background});
  return Json{{"makespan_s", r.makespan_s},   {"iterations", r.iterations},
              {"ranks", ranks},               {"timeline", timeline},
              {"collective_busy_s", r.collective_busy_s}, {"activities", r.activities},
              {"simgrid_version", r.simgrid_version}};
}

engine::SimulationResult simulation_result_from_json(const Json& j) {
  engine::SimulationResult r;
  r.makespan_s = j.at("makespan_s").get<double>();
  r.iterations = j.at("iterations").get<int>();
  for (const Json& x : j.at("ranks")) {
    engine::RankStats rs;
    rs.compute_busy_s = x.at(0).get<double>();
    rs.communication_busy_s = x.at(1).get<double>();
    rs.exposed_communication_s = x.at(2).get<double>();
    rs.finish_s = x.at(3).get<double>();
    rs.peak_memory_bytes = x.at(4).get<double>();
    for (const Json& b : x.at(5)) rs.peak_breakdown[static_cast<program::MemoryTag>(b.at(0).get<int>())] = b.at(1).get<double>();
    rs.energy_j = x.at(6).get<double>();
    r.ranks.push_back(std::move(rs));
  }
  for (const Json& x : j.at("timeline")) {
    engine::TimelineEvent e;
    e.rank = x.at(0).get<int>();
    e.stream = static_cast<program::Stream>(x.at(1).get<int>());
    e.name = x.at(2).get<std::string>();
    e.category = x.at(3).get<std::string>();
    e.iteration = x.at(4).get<int>();
    e.start_s = x.at(5).get<double>();
    e.end_s = x.at(6).get<double>();
    e.bytes = x.at(7).get<double>();
    e.flops = x.at(8).get<double>();
    e.memory_location = x.at(9).get<int>();
    e.memory_bytes = x.at(10).get<double>();
    e.background = x.at(11).get<bool>();
    r.timeline.push_back(std::move(e));
  }
  r.collective_busy_s = j.at("collective_busy_s").get<std::map<std::string, double>>();
  r.activities = j.at("activities").get<std::uint64_t>();
  r.simgrid_version = j.at("simgrid_version").get<std::string>();
  return r;
}

engine::SimulationResult simulate_in_child(const platforms::Cluster& cluster, const program::Program& program,
                                           const engine::EngineOptions& options) {
  int fds[2];
  if (::pipe(fds) != 0) throw core::InternalError(std::string("campaign probe: pipe() failed: ") + std::strerror(errno));
  std::fflush(nullptr);  // or the child would flush the parent's buffered output a second time
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw core::InternalError(std::string("campaign probe: fork() failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    Json reply;
    try {
      reply = Json{{"ok", to_json(engine::simulate(cluster, program, options))}};
    } catch (const core::ConfigError& e) {
      reply = Json{{"config_error", {e.file(), e.pointer(), e.message()}}};
    } catch (const std::invalid_argument& e) {
      reply = Json{{"invalid_argument", e.what()}};
    } catch (const std::exception& e) {
      reply = Json{{"internal_error", e.what()}};
    }
    write_fully(fds[1], reply.dump());
    ::close(fds[1]);
    ::_exit(0);  // no atexit handlers, no destructors of the parent's copied state
  }
  ::close(fds[1]);
  const std::string text = read_fully(fds[0]);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw core::InternalError("campaign probe: the op-by-op simulation child " +
                              (WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                                                   : "exited with status " + std::to_string(WEXITSTATUS(status))));
  Json reply;
  try {
    reply = Json::parse(text);
  } catch (const Json::exception& e) {
    throw core::InternalError(std::string("campaign probe: unreadable reply from the child: ") + e.what());
  }
  if (reply.contains("ok")) return simulation_result_from_json(reply.at("ok"));
  if (reply.contains("config_error")) {
    const Json& e = reply.at("config_error");
    throw core::ConfigError(e.at(0).get<std::string>(), e.at(1).get<std::string>(), e.at(2).get<std::string>());
  }
  if (reply.contains("invalid_argument")) throw std::invalid_argument(reply.at("invalid_argument").get<std::string>());
  throw core::InternalError(reply.value("internal_error", std::string("campaign probe: empty reply")));
}

}  // namespace frugal::campaign

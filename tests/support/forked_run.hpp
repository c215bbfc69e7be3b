// Test helper: runs a function in a forked child process and returns the numbers it produced.
// SimGrid's engine is one per process, so a test that compares two simulations (e.g. a coarse
// model against the step-by-step reference) runs one of them in a child. POSIX only.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace frugal::testing {

/// Calls `fn` (returning std::vector<double>) in a child; throws std::runtime_error when the
/// child fails (its exception message is passed back). Call it before the parent creates its
/// own simulation: the child inherits the parent's memory, not its engine.
template <class F>
std::vector<double> run_forked(F fn) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    std::string payload;
    int code = 0;
    try {
      const std::vector<double> values = fn();
      payload.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
    } catch (const std::exception& e) {
      payload = e.what();
      code = 3;
    }
    for (std::size_t off = 0; off < payload.size();) {
      const ssize_t n = write(fds[1], payload.data() + off, payload.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    close(fds[1]);
    _exit(code);  // no atexit handlers, no gtest teardown in the child
  }
  close(fds[1]);
  std::string data;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) data.append(buffer, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("child simulation failed: " + (data.empty() ? std::string("(no message)") : data));
  std::vector<double> values(data.size() / sizeof(double));
  if (!values.empty()) std::copy(data.data(), data.data() + values.size() * sizeof(double), reinterpret_cast<char*>(values.data()));
  return values;
}

}  // namespace frugal::testing

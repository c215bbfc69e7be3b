// What the benchmark executables share: wall clock, peak RSS and `--set /pointer=value`
// arguments. Header-only; the benchmarks print figures and assert nothing.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <vector>

#include "sim/study/study.hpp"

namespace frugal::bench {

using Clock = std::chrono::steady_clock;

inline double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

/// Peak resident memory of `who` (RUSAGE_SELF, or RUSAGE_CHILDREN: the largest waited-for child).
inline double peak_rss_mib(int who = RUSAGE_SELF) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

/// argv[first..] as `--set /pointer=value` pairs; nullopt when anything else is there.
inline std::optional<std::vector<study::Override>> parse_sets(int argc, char** argv, int first) {
  std::vector<study::Override> overrides;
  for (int i = first; i < argc; i += 2) {
    if (i + 1 >= argc || std::strcmp(argv[i], "--set") != 0) return std::nullopt;
    overrides.push_back(study::parse_override(argv[i + 1]));
  }
  return overrides;
}

}  // namespace frugal::bench

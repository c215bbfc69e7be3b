// Plumbing shared by frugalsim's executables and subcommands: the process's allocator setting,
// command-line parsing with a help screen (sim/core/command_line.hpp), files written whole or
// not at all (sim/core/output_files.hpp).
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "sim/core/command_line.hpp"
#include "sim/core/error.hpp"
#include "sim/core/output_files.hpp"

namespace frugal::app {

/// Called first thing in main() by frugalsim's executables: glibc's fastbins off
/// (mallopt(M_MXFAST, 0)). A lowered program is tens of millions of small heap blocks (op names,
/// dependencies, GEMM lists) freed together at the end of a run; with fastbins, freeing them
/// consolidates chunk after chunk. GPT-3 175B on 1,024 GPUs, whole process: 18.0 s → 15.3 s
/// (paired medians of 3, tests/benchmarks/README.md).
void tune_allocator();

// Parsing with the --help format frugal-real shares (sim/core/command_line.hpp).
using core::parse_command_line;
using core::Positional;

// Files written whole or not at all (sim/core/output_files.hpp).
using core::commit_files;
using core::OutputError;
using core::PendingFile;
using core::write_atomically;

/// Whether `option` ("--tasks") is among `args`, alone or as "--tasks=N": tells a value given as
/// 0 from the default.
inline bool option_given(const std::vector<std::string>& args, const std::string& option) {
  for (const auto& a : args)
    if (a == option || a.rfind(option + "=", 0) == 0) return true;
  return false;
}

}  // namespace frugal::app

// Plumbing shared by frugalsim's executables and subcommands: the process's allocator setting,
// command-line parsing with a help screen (sim/core/command_line.hpp), files written whole or
// not at all.
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

/// An output file could not be written (disk full, no permission): the input was fine, so this is
/// not a ConfigError; frugalsim reports it as an internal error (exit code 3).
struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// One output file of a command, written by commit_files.
struct PendingFile {
  std::filesystem::path final_path;
  std::string text;
  /// When set, writes the file's content instead of `text` (streamed: large files need not be
  /// held in memory as one string).
  std::function<void(std::ostream&)> write;
};

/// Writes every file to a temporary next to it (closed and checked), then renames them all: a
/// failure leaves no partial output and removes the temporaries. Creates `dir` (when not empty)
/// first; throws OutputError naming the file that cannot be written, and ConfigError (bad input,
/// nothing written) when a target exists and is not a regular file (a directory, a device).
void commit_files(const std::filesystem::path& dir, const std::vector<PendingFile>& files);

/// commit_files for one file.
void write_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace frugal::app

// The one writer of output files, shared by frugalsim and frugal-real: files appear whole or not
// at all, temporaries never outlive the process (write errors, failed renames, SIGINT/SIGTERM/
// SIGHUP, a file-size limit), and only regular files are ever replaced.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace frugal::core {

/// An output file could not be written (disk full, no permission, file-size limit): the input was
/// fine, so this is not a ConfigError; the executables report it with the file named and exit 3.
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

/// Throws ConfigError (bad input, nothing written) when `path` exists and is not a regular file
/// (a directory, a device such as /dev/null: renaming over it would replace the device node).
void check_output_target(const std::filesystem::path& path);

/// Writes every file to a temporary next to it (closed and checked), then renames them all: a
/// failure leaves no partial output and removes the temporaries. Creates `dir` (when not empty)
/// first; throws OutputError naming the file that cannot be written, and ConfigError when a
/// target fails check_output_target or `dir` exists and is not a folder.
void commit_files(const std::filesystem::path& dir, const std::vector<PendingFile>& files);

/// commit_files for one file.
void write_atomically(const std::filesystem::path& path, const std::string& text);

/// Called first thing in main(): SIGXFSZ ignored (a write past `ulimit -f` then fails with EFBIG
/// and is reported as an OutputError instead of killing the process), and SIGINT, SIGTERM and
/// SIGHUP remove the temporaries of a commit_files in progress before the process dies of them.
void install_output_guards();

}  // namespace frugal::core

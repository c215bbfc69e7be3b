// The input files a piece of work reads (study, models, clusters, GPU catalogue, traces),
// recorded while an InputFileLog lives on the thread: what a sweep point's resume key hashes, so
// that an edited trace or cluster file reruns the points that read it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace frugal::core {

class InputFileLog {
 public:
  InputFileLog();   ///< starts recording on this thread (logs nest: the inner one records)
  ~InputFileLog();  ///< stops; the enclosing log, if any, records again
  InputFileLog(const InputFileLog&) = delete;
  InputFileLog& operator=(const InputFileLog&) = delete;

  /// Files read while this log was the innermost, each once, in first-read order.
  const std::vector<std::filesystem::path>& files() const { return files_; }

  /// Called by every reader of input files (read_input_file, the trace readers); does nothing
  /// when no log is recording.
  static void note(const std::filesystem::path& path);

 private:
  std::vector<std::filesystem::path> files_;
  InputFileLog* enclosing_;
};

/// FNV-1a (64 bits) of a file's bytes as 16 hex digits; "unreadable" when it cannot be read.
/// A fingerprint of content for cache keys, not a cryptographic hash.
std::string content_fingerprint(const std::filesystem::path& path);

}  // namespace frugal::core

// InputFileLog (a thread-local stack of recorders) and content fingerprints.
#include "sim/core/input_files.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>

namespace frugal::core {
namespace {
thread_local InputFileLog* innermost = nullptr;
}  // namespace

InputFileLog::InputFileLog() : enclosing_(innermost) { innermost = this; }

InputFileLog::~InputFileLog() { innermost = enclosing_; }

void InputFileLog::note(const std::filesystem::path& path) {
  if (innermost == nullptr) return;
  auto& files = innermost->files_;
  if (std::find(files.begin(), files.end(), path) == files.end()) files.push_back(path);
}

std::string content_fingerprint(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "unreadable";
  std::uint64_t h = 0xcbf29ce484222325ull;
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(buffer[i]);
      h *= 0x100000001b3ull;
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

}  // namespace frugal::core

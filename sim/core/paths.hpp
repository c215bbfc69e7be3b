// Questions about paths that never throw: a path that cannot be examined (too long, a loop of
// links, no permission) answers false, so that the reader reports it as missing (exit 2) rather
// than std::filesystem::filesystem_error escaping as an internal error.
#pragma once

#include <filesystem>
#include <system_error>

namespace frugal::core {

inline bool path_exists(const std::filesystem::path& p) noexcept {
  std::error_code ec;
  return std::filesystem::exists(p, ec) && !ec;
}

inline bool is_regular_file(const std::filesystem::path& p) noexcept {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec) && !ec;
}

inline bool is_directory(const std::filesystem::path& p) noexcept {
  std::error_code ec;
  return std::filesystem::is_directory(p, ec) && !ec;
}

}  // namespace frugal::core

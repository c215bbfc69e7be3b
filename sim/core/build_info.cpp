// Build identity, from compile definitions given to this file alone (CMakeLists.txt).
#include "sim/core/build_info.hpp"

#include <cstdlib>

namespace frugal::core {

const std::string& frugalsim_version() {
  static const std::string v = FRUGALSIM_VERSION;
  return v;
}

const std::string& git_revision() {
  static const std::string v = FRUGALSIM_GIT_REVISION;
  return v;
}

std::filesystem::path data_dir() {
  if (const char* dir = std::getenv("FRUGALSIM_DATA_DIR"); dir && *dir) return dir;
  return FRUGALSIM_SOURCE_DIR;
}

}  // namespace frugal::core

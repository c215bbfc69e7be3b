// Build identity, from compile definitions given to this file alone (library frugal_build_info
// in CMakeLists.txt) and the revision header generated at build time, and the data search path
// (contract in build_info.hpp).
#include "sim/core/build_info.hpp"

#include "frugal_git_revision.hpp"  // FRUGALSIM_GIT_REVISION (cmake/git_revision.cmake)

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace frugal::core {
namespace fs = std::filesystem;

const std::string& frugalsim_version() {
  static const std::string v = FRUGALSIM_VERSION;
  return v;
}

const std::string& git_revision() {
  static const std::string v = FRUGALSIM_GIT_REVISION;
  return v;
}

fs::path source_dir() { return FRUGALSIM_SOURCE_DIR; }

namespace {

bool is_data_tree(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "workloads" / "models", ec) && fs::is_regular_file(dir / "platforms" / "gpus.json", ec);
}

/// The nearest ancestor of the working directory (itself included) that is a data tree.
fs::path enclosing_tree() {
  std::error_code ec;
  fs::path dir = fs::current_path(ec);
  if (ec) return {};
  for (; !dir.empty(); dir = dir.parent_path()) {
    if (is_data_tree(dir)) return dir;
    if (dir == dir.root_path()) break;
  }
  return {};
}

fs::path installed_data() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return (exe.parent_path() / ".." / "share" / "frugalsim").lexically_normal();
}

}  // namespace

std::vector<fs::path> data_search_path() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("FRUGALSIM_DATA_DIR"); env && *env) {
    std::stringstream in(env);
    for (std::string item; std::getline(in, item, ':');)
      if (!item.empty()) candidates.emplace_back(item);
  }
  candidates.push_back(enclosing_tree());
  candidates.push_back(source_dir());
  candidates.push_back(installed_data());
  candidates.emplace_back(FRUGALSIM_INSTALL_DATA_DIR);  // the configured prefix, if the executable moved
  std::vector<fs::path> out;
  for (const fs::path& c : candidates) {
    std::error_code ec;
    if (c.empty() || !fs::is_directory(c, ec)) continue;
    const fs::path canonical = fs::weakly_canonical(c, ec);
    const fs::path& dir = ec ? c : canonical;
    if (std::find(out.begin(), out.end(), dir) == out.end()) out.push_back(dir);
  }
  return out;
}

fs::path data_dir() {
  const auto path = data_search_path();
  return path.empty() ? source_dir() : path.front();
}

fs::path find_data_file(const fs::path& relative) {
  for (const fs::path& dir : data_search_path()) {
    std::error_code ec;
    if (fs::exists(dir / relative, ec)) return dir / relative;
  }
  return {};
}

std::vector<std::string> data_names(const fs::path& relative_dir) {
  std::vector<std::string> names;
  for (const fs::path& dir : data_search_path()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir / relative_dir, ec))
      if (entry.is_regular_file() && entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string searched_for(const fs::path& relative) {
  std::string out;
  for (const fs::path& dir : data_search_path()) out += (out.empty() ? "" : ", ") + (dir / relative).string();
  return out.empty() ? "no data folder exists" : out;
}

}  // namespace frugal::core

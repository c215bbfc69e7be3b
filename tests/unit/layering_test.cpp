// The folders depend one way (docs/ARCHITECTURE.md): every project include of every source file
// names its own folder or a folder of a lower layer, and SimGrid is included only in sim/engine
// (never in its SimGrid-free control/ folder). Reads the source tree; compiles nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "sim/core/build_info.hpp"

namespace {

namespace fs = std::filesystem;

/// Layer of each folder (relative to the source tree); a file may include its own folder and
/// folders of strictly lower layers.
const std::map<std::string, int>& layers() {
  static const std::map<std::string, int> map = {
      {"sim/core", 0},        {"sim/program", 1},   {"workloads", 2},   {"platforms", 2},
      {"platforms/availability", 2}, {"sim/cost", 3},  {"policies", 4},   {"policies/parallelism", 4},
      {"policies/parallelism/impl", 4}, {"policies/resilience", 4}, {"policies/resilience/impl", 4},
      {"policies/lowering", 4}, {"policies/lowering/passes", 4}, {"policies/memory", 4},
      {"policies/memory/impl", 4}, {"sim/engine/control", 5}, {"sim/engine", 6}, {"sim/study", 7},
      {"sim/campaign", 8},    {"sim/metrics", 9},   {"sim/calibration", 9}, {"sim/app", 10}, {"sim/cli", 11},
  };
  return map;
}

/// Same layer, different folders that may include each other (one family split in folders).
bool same_family(const std::string& a, const std::string& b) {
  auto top = [](const std::string& f) { return f.substr(0, f.find('/') == std::string::npos ? f.size() : f.find('/')); };
  return top(a) == top(b) && top(a) != "sim";
}

TEST(Layering, FoldersIncludeOnlyLowerLayers) {
  const fs::path root = frugal::core::data_dir();
  const std::regex include_re(R"(^\s*#\s*include\s*"([^"]+)/[^/"]+")");
  int files = 0;
  for (const auto& [folder, layer] : layers()) {
    ASSERT_TRUE(fs::is_directory(root / folder)) << folder;
    for (const auto& entry : fs::directory_iterator(root / folder)) {
      const auto ext = entry.path().extension();
      if (ext != ".cpp" && ext != ".hpp") continue;
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        std::smatch m;
        if (!std::regex_search(line, m, include_re)) continue;
        const std::string target = m[1];
        const auto it = layers().find(target);
        if (it == layers().end()) continue;  // tests/, real_backend/: not part of the layering
        const std::string where = (fs::path(folder) / entry.path().filename()).string() + ":" + std::to_string(n);
        EXPECT_TRUE(target == folder || it->second < layer || (it->second == layer && same_family(target, folder)))
            << where << " includes " << target << " (layer " << it->second << ") from " << folder << " (layer "
            << layer << ")";
      }
    }
  }
  EXPECT_GT(files, 100);
}

TEST(Layering, SimGridOnlyInTheEngine) {
  const fs::path root = frugal::core::data_dir();
  const std::regex simgrid_re(R"(^\s*#\s*include\s*<simgrid/)");
  for (const auto& [folder, layer] : layers()) {
    const bool allowed = folder == "sim/engine";
    for (const auto& entry : fs::directory_iterator(root / folder)) {
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n)
        EXPECT_FALSE(!allowed && std::regex_search(line, simgrid_re))
            << (fs::path(folder) / entry.path().filename()).string() << ":" << n << " includes SimGrid";
    }
  }
}

}  // namespace

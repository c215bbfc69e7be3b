// Identity of this build: version, git revision and source folder. Only build_info.cpp sees the
// values (compile definitions of that one file), so a new commit recompiles one file, not all.
#pragma once

#include <filesystem>
#include <string>

namespace frugal::core {

const std::string& frugalsim_version();  ///< project version, e.g. "0.1.0"
const std::string& git_revision();       ///< short revision at configure time, or "unknown"
/// The source tree (data files: models, GPUs, clusters); FRUGALSIM_DATA_DIR overrides it where
/// the tree is relocated.
std::filesystem::path data_dir();

}  // namespace frugal::core

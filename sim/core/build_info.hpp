// Identity of this build (version, git revision, source folder) and where data files are found.
// Only build_info.cpp sees the build's values (compile definitions of that one file), so a new
// commit recompiles one file, not all.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace frugal::core {

const std::string& frugalsim_version();  ///< project version, e.g. "0.1.0"
const std::string& git_revision();       ///< short revision at configure time, or "unknown"
/// The source tree this build was configured from (it may have moved or gone since).
std::filesystem::path source_dir();

/// The data search path: folders holding FrugalSim's data files (workloads/models/*.json,
/// platforms/gpus.json, platforms/clusters/*.json), in the order they are searched:
///   1. each folder of $FRUGALSIM_DATA_DIR (':'-separated), when set;
///   2. the FrugalSim tree holding the working directory: its nearest ancestor (itself
///      included) with workloads/models and platforms/gpus.json — a clone one works in;
///   3. the source tree this build was configured from, when it still exists;
///   4. the installed data (`cmake --install`): <folder of the executable>/../share/frugalsim,
///      then <install prefix>/share/frugalsim as configured.
/// Folders that do not exist are left out; a folder appears once. A name (model, cluster) is
/// looked up in each folder in turn and the first file found wins.
std::vector<std::filesystem::path> data_search_path();
/// The first folder of data_search_path() (the source tree when none exists).
std::filesystem::path data_dir();
/// The first existing `relative` (e.g. "platforms/gpus.json") under data_search_path(); empty
/// when there is none.
std::filesystem::path find_data_file(const std::filesystem::path& relative);
/// Stems of the *.json files of `relative_dir` (e.g. "workloads/models") in every folder of
/// data_search_path(), sorted, each once.
std::vector<std::string> data_names(const std::filesystem::path& relative_dir);
/// Where `relative` was looked for, for error messages: "A/rel, B/rel" (or "no data folder").
std::string searched_for(const std::filesystem::path& relative);

}  // namespace frugal::core

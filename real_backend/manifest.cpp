// Manifest (contract in manifest.hpp).
#include "real_backend/manifest.hpp"
#include "sim/core/build_info.hpp"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>

extern char** environ;

namespace frugal::real {
namespace {

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

core::Json timing_environment() {
  static const char* const kPrefixes[] = {"OPENBLAS_", "OMP_", "NCCL_", "CUDA_VISIBLE_DEVICES", "OMPI_MCA_", "SLURM_JOB_ID"};
  core::Json env = core::Json::object();
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    auto starts = [&](const char* prefix) { return kv.compare(0, std::strlen(prefix), prefix) == 0; };
    // Open MPI's launcher passes its own plumbing as OMPI_MCA_orte_*, ess*, pmix*: not settings.
    if (starts("OMPI_MCA_orte_") || starts("OMPI_MCA_ess") || starts("OMPI_MCA_pmix") || starts("OMPI_MCA_initial_wdir"))
      continue;
    if (std::any_of(std::begin(kPrefixes), std::end(kPrefixes), starts)) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

}  // namespace

core::Json openblas_info() {
  return core::Json{{"library", "OpenBLAS"},
                    {"pkg_config_version", FRUGAL_OPENBLAS_VERSION},
                    {"config", openblas_get_config()},
                    {"core", openblas_get_corename()},
                    {"threads", openblas_get_num_threads()}};
}

core::Json make_manifest(const Launch& launch, const Device& device, const Communicator* communicator,
                         const std::vector<std::string>& argv, const std::vector<std::string>& hosts) {
  core::Json m;
  m["tool"] = "frugal-real";
  m["frugalsim_version"] = core::frugalsim_version();
  m["git_revision"] = core::git_revision();
  m["argv"] = argv;
  m["start_utc"] = utc_now();
  m["hostname"] = launch.hostname;
  m["hosts"] = hosts;
  m["launch"] = {{"source", launch.source},
                 {"world_size", launch.size},
                 {"local_size", launch.local_size},
                 {"mpi_thread_multiple", launch.thread_multiple}};
  m["device"] = device.describe();
  m["communicator"] = communicator != nullptr ? communicator->describe() : core::Json(nullptr);
  m["mpi"] = {{"library", MpiSession::library_version()}, {"standard", MpiSession::standard_version()}};
  m["blas"] = openblas_info();
  m["environment"] = timing_environment();
  return m;
}

}  // namespace frugal::real

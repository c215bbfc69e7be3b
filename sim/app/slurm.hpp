// Sweeps on a Slurm cluster: the batch script of a job array whose tasks each run one shard of a
// sweep (`frugalsim sweep --shard K/N`, resumable), and its submission with sbatch. The table is
// then made by `frugalsim sweep --collect`, the same bytes as a local run.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace frugal::app {

/// sbatch could not submit (not installed, no controller, a refused option): exit code 3.
class SubmitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SlurmArray {
  std::string job_name;
  std::filesystem::path frugalsim;   ///< the executable the tasks run (absolute)
  std::filesystem::path sweep;       ///< the sweep file (absolute)
  std::filesystem::path output_dir;  ///< the sweep's output folder (absolute)
  std::filesystem::path work_dir;    ///< where the tasks run (absolute)
  std::size_t points = 0;            ///< the sweep's points (for the script's header)
  std::size_t tasks = 1;             ///< array tasks = shards
  int cpus_per_task = 1;             ///< points each task runs at once (-j)
  std::vector<std::string> sbatch_options;  ///< further "#SBATCH" lines ("--partition=gpu", "--time=2:00:00")
};

/// The batch script. Task K runs `frugalsim sweep SWEEP -o OUT --shard K/N -j C --resume`, its
/// log in OUT/slurm/<job>_<task>.out: resubmitting the script after killed or failed tasks reruns
/// only the points without a finished run. Contract: tasks ≥ 1, cpus_per_task ≥ 1.
/// Throws core::ConfigError("--slurm", "", ...) for a path or option that cannot go in a batch script
/// (a newline, a quote).
std::string slurm_array_script(const SlurmArray& array);

/// Writes the script to `path` (and creates OUT/slurm for the tasks' logs).
void write_slurm_array_script(const SlurmArray& array, const std::filesystem::path& path);

/// Runs `sbatch --parsable SCRIPT`; on success returns the job id, else throws SubmitError with
/// sbatch's output and exit status.
std::string submit_slurm_script(const std::filesystem::path& script);

}  // namespace frugal::app

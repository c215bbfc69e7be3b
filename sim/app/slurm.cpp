// Slurm job arrays for sweeps (see slurm.hpp): the batch script and its submission.
#include "sim/app/slurm.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <sstream>

#include "sim/app/command_line.hpp"
#include "sim/core/error.hpp"

namespace frugal::app {
namespace {

/// `text` in single quotes for sh; refuses what a batch script line cannot hold.
std::string quoted(const std::string& text, const std::string& what) {
  if (text.find_first_of("\n\r'") != std::string::npos)
    throw core::ConfigError("--slurm", "", what + " \"" + text + "\" holds a quote or a line break: it cannot go in a batch script");
  return "'" + text + "'";
}

std::string plain(const std::string& text, const std::string& what) {
  if (text.find_first_of("\n\r") != std::string::npos)
    throw core::ConfigError("--slurm", "", what + " holds a line break: it cannot go in a batch script");
  return text;
}

}  // namespace

std::string slurm_array_script(const SlurmArray& a) {
  std::ostringstream s;
  const std::string tasks = std::to_string(a.tasks), cpus = std::to_string(a.cpus_per_task);
  s << "#!/bin/sh\n"
    << "# frugalsim sweep " << plain(a.job_name, "the sweep's name") << ": " << a.points << " points in " << tasks
    << " array tasks (written by `frugalsim sweep --slurm`).\n"
    << "# Task K runs the points whose index is K modulo " << tasks << ". Resubmit this script after killed or\n"
    << "# failed tasks: each task reuses its finished points. Then: frugalsim sweep SWEEP -o OUT --collect\n"
    << "#SBATCH --job-name=frugalsim-" << plain(a.job_name, "the sweep's name") << "\n"
    << "#SBATCH --array=0-" << a.tasks - 1 << "\n"
    << "#SBATCH --ntasks=1\n"
    << "#SBATCH --cpus-per-task=" << cpus << "\n"
    << "#SBATCH --chdir=" << plain(a.work_dir.string(), "the working folder") << "\n"
    << "#SBATCH --output=" << plain((a.output_dir / "slurm" / "%A_%a.out").string(), "the output folder") << "\n";
  for (const auto& option : a.sbatch_options) s << "#SBATCH " << plain(option, "an --sbatch option") << "\n";
  s << "exec " << quoted(a.frugalsim.string(), "the frugalsim executable") << " sweep "
    << quoted(a.sweep.string(), "the sweep file") << " -o " << quoted(a.output_dir.string(), "the output folder")
    << " --shard \"${SLURM_ARRAY_TASK_ID}/" << tasks << "\" -j " << cpus << " --resume\n";
  return s.str();
}

void write_slurm_array_script(const SlurmArray& array, const std::filesystem::path& path) {
  const std::string text = slurm_array_script(array);
  std::filesystem::create_directories(array.output_dir / "slurm");
  write_atomically(path, text);
  std::filesystem::permissions(path, std::filesystem::perms::owner_exec | std::filesystem::perms::group_exec,
                               std::filesystem::perm_options::add);
}

std::string submit_slurm_script(const std::filesystem::path& script) {
  const std::string command = "sbatch --parsable " + quoted(script.string(), "the batch script") + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw SubmitError("could not start sbatch");
  std::string output;
  std::array<char, 512> buffer{};
  while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe)) output += buffer.data();
  const int status = ::pclose(pipe);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  if (status != 0) {
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    throw SubmitError("sbatch " + script.string() + " failed (exit status " + std::to_string(code) +
                              (code == 127 ? ": is Slurm's sbatch on PATH?" : "") + "): " + output);
  }
  // --parsable prints "jobid" or "jobid;cluster".
  return output.substr(0, output.find(';'));
}

}  // namespace frugal::app

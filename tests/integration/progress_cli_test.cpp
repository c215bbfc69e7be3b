// Progress on stderr as a log file sees it (not a terminal): one plain line per phase of `run`
// (and of a campaign, in simulated days), nothing with -q, and stdout and the output files the
// same either way.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sys/wait.h>

#include "sim/core/build_info.hpp"
#include "tests/support/cli.hpp"

namespace {

using frugal::test_support::fresh_dir;
using frugal::test_support::slurp;
namespace fs = std::filesystem;

struct Streams {
  int code = -1;
  std::string out, err;
};

/// `frugalsim <args>` with stdout and stderr in files of `dir` (so stderr is not a terminal).
Streams run(const std::string& args, const fs::path& dir, const std::string& tag) {
  const fs::path out = dir / (tag + ".stdout"), err = dir / (tag + ".stderr");
  const std::string cmd = std::string(FRUGALSIM_BIN_DIR) + "/frugalsim " + args + " > '" + out.string() + "' 2> '" +
                          err.string() + "'";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

const std::string kSource = frugal::core::source_dir().string();

TEST(ProgressCli, RunPrintsAPlainLinePerPhaseAndQuietNone) {
  const auto dir = fresh_dir("progress_run");
  const std::string args = "run " + kSource + "/results/quickstart/study.json -o " + (dir / "out").string();
  const Streams shown = run(args, dir, "shown");
  ASSERT_EQ(shown.code, 0) << shown.err;
  const std::string summary = slurp(dir / "out" / "summary.json");
  for (const char* line : {"frugalsim: planning\n", "frugalsim: planning done in ", "frugalsim: checking memory\n",
                           "frugalsim: simulating\n", "frugalsim: simulating done in ", "frugalsim: writing results done in "})
    EXPECT_NE(shown.err.find(line), std::string::npos) << line << "\n" << shown.err;
  EXPECT_EQ(shown.err.find('\r'), std::string::npos);  // no in-place redraw outside a terminal

  const Streams quiet = run(args + " -q", dir, "quiet");
  ASSERT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
  EXPECT_EQ(quiet.out, shown.out);
  EXPECT_EQ(slurp(dir / "out" / "summary.json"), summary);
}

TEST(ProgressCli, CampaignShowsSimulatedDays) {
  const auto dir = fresh_dir("progress_campaign");
  const Streams r = run("run " + kSource + "/results/checkpoint_interval/study.json -o " + (dir / "out").string() +
                            " --set '/campaign/goal/wall_time=\"2 days\"'",
                        dir, "campaign");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("frugalsim: campaign (2 simulated days)\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("frugalsim: campaign done in "), std::string::npos) << r.err;
}

}  // namespace

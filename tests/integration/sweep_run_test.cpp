// frugalsim sweep end to end: one row per point in point order, the same table whatever the
// number of parallel children, an out-of-memory point as a row of results, an invalid point
// reported with its pointer while the other points still run, and --resume rerunning only what
// an interrupted or changed sweep needs.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/integration/campaign_support.hpp"

using namespace frugal::campaign_test;
using frugal::test_support::fresh_dir;
using frugal::test_support::slurp;
using frugal::test_support::read_json;
using frugal::test_support::run_frugalsim;
using frugal::test_support::write_file;

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<Json> jsonl(const std::filesystem::path& p) {
  std::vector<Json> rows;
  for (const auto& line : lines(slurp(p))) rows.push_back(Json::parse(line));
  return rows;
}

/// A two-day campaign with a given iteration time (no op-by-op simulation: fast).
Json campaign_study() {
  Json c = Json::parse(R"({
    "goal": {"wall_time": "2 days"},
    "iteration_time": "20 s",
    "availability": {"n": {"impl": "exponential", "mtbf": "6 h", "repair": "10 min"}},
    "checkpoint": {"size": "20 GB"},
    "spares": {"n": 1},
    "resilience": {"checkpoint": {"impl": "fixed", "interval_s": 600},
                   "recovery": {"impl": "restart", "detection_s": 30, "restart_s": 60}}
  })");
  return study(small_cluster(2), c, 1);
}

}  // namespace

TEST(SweepRun, RowsInPointOrderAndTheSameTableWhateverTheParallelism) {
  const auto dir = fresh_dir("sweep_determinism");
  write_file(dir / "study.json", campaign_study().dump(2));
  write_file(dir / "sweep.json", R"({
    "name": "interval",
    "study": "study.json",
    "parameters": [{"name": "interval_s", "pointer": "/campaign/resilience/checkpoint/interval_s",
                    "values": [300, 1200]}],
    "seeds": [3, 4]
  })");
  const auto a = run_frugalsim("sweep " + (dir / "sweep.json").string() + " -o " + (dir / "a").string() + " -j 1");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  const auto b = run_frugalsim("sweep " + (dir / "sweep.json").string() + " -o " + (dir / "b").string() + " -j 3 -q");
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_EQ(slurp(dir / "a" / "sweep.csv"), slurp(dir / "b" / "sweep.csv"));
  EXPECT_EQ(slurp(dir / "a" / "sweep.jsonl"), slurp(dir / "b" / "sweep.jsonl"));

  const auto csv = lines(slurp(dir / "a" / "sweep.csv"));
  ASSERT_EQ(csv.size(), 5u);
  EXPECT_EQ(csv[0].rfind("point,interval_s,seed,status,error,dir,", 0), 0u) << csv[0];
  for (const char* column : {",goodput_tokens_per_s", ",ettr", ",failures", ",campaign.checkpoints", ",wall_clock_s"})
    EXPECT_NE(csv[0].find(column), std::string::npos) << column;
  EXPECT_EQ(csv[1].rfind("0,300,3,ok,,points/0000,", 0), 0u) << csv[1];
  EXPECT_EQ(csv[4].rfind("3,1200,4,ok,,points/0003,", 0), 0u) << csv[4];

  const auto rows = jsonl(dir / "a" / "sweep.jsonl");
  ASSERT_EQ(rows.size(), 4u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].at("point"), i);
    EXPECT_EQ(rows[i].at("status"), "ok");
    // Each point's own outputs, and its row holds its summary's scalars.
    const Json summary = read_json(dir / "a" / rows[i].at("dir").get<std::string>() / "summary.json");
    EXPECT_EQ(rows[i].at("metrics").at("goodput_tokens_per_s"), summary.at("goodput_tokens_per_s"));
    EXPECT_EQ(rows[i].at("metrics").at("campaign.checkpoints"), summary.at("campaign").at("checkpoints"));
    EXPECT_EQ(summary.at("seed"), rows[i].at("seed"));
    EXPECT_FALSE(std::filesystem::exists(dir / "a" / rows[i].at("dir").get<std::string>() / "timeline.json"));
  }
  EXPECT_EQ(rows[1].at("parameters").at("interval_s"), 300);
  EXPECT_EQ(rows[2].at("parameters").at("interval_s"), 1200);
  // Same failures for both intervals of one seed (the availability events depend on the seed only),
  // different failures for different seeds.
  EXPECT_EQ(rows[0].at("metrics").at("campaign.availability_events"), rows[2].at("metrics").at("campaign.availability_events"));
  EXPECT_NE(rows[0].at("metrics").at("campaign.events_fingerprint"), rows[1].at("metrics").at("campaign.events_fingerprint"));
  EXPECT_GT(rows[0].at("metrics").at("campaign.checkpoints").get<int>(), rows[2].at("metrics").at("campaign.checkpoints").get<int>());
}

TEST(SweepRun, OutOfMemoryPointIsARowAndInvalidPointNamesItsPointer) {
  const auto dir = fresh_dir("sweep_oom_invalid");
  Json s = study(small_cluster(2), Json(), 1);
  s.erase("campaign");
  write_file(dir / "study.json", s.dump(2));
  // gpt3-13b data-parallel needs 16 bytes per parameter on each 80 GB GPU: out of memory.
  // A micro-batch of 0 is invalid.
  write_file(dir / "sweep.json", R"({
    "study": "study.json",
    "parameters": [{"pointer": "/model", "values": ["gpt3-125m", "gpt3-13b"]},
                   {"name": "mbs", "pointer": "/training/micro_batch_size", "values": [1, 0]}]
  })");
  const auto r = run_frugalsim("sweep " + (dir / "sweep.json").string() + " -o " + (dir / "out").string() + " -j 2");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("2 of 4 points have an invalid study"), std::string::npos) << r.output;
  const auto rows = jsonl(dir / "out" / "sweep.jsonl");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].at("status"), "ok");
  EXPECT_GT(rows[0].at("metrics").at("tokens_per_s").get<double>(), 0);
  EXPECT_EQ(rows[2].at("status"), "out_of_memory");
  EXPECT_EQ(rows[2].at("parameters").at("/model"), "gpt3-13b");
  EXPECT_TRUE(rows[2].at("metrics").at("tokens_per_s").is_null());
  EXPECT_GT(rows[2].at("metrics").at("max_peak_memory_bytes").get<double>(), 80e9);
  for (int i : {1, 3}) {
    EXPECT_EQ(rows[i].at("status"), "invalid");
    const std::string error = rows[i].at("error");
    EXPECT_NE(error.find("study.json:/training/micro_batch_size"), std::string::npos) << error;
    EXPECT_TRUE(rows[i].at("metrics").empty());
  }
  const auto csv = lines(slurp(dir / "out" / "sweep.csv"));
  ASSERT_EQ(csv.size(), 5u);
  EXPECT_EQ(csv[3].rfind("2,gpt3-13b,1,out_of_memory,,points/0002,", 0), 0u) << csv[3];
}

TEST(SweepRun, UnplannablePointIsAnInfeasibleRow) {
  // 2 GPUs, data parallel with an equal split: a global batch of 7 is not a multiple of
  // micro_batch_size × 2 replicas. That point is a row of results, and the sweep exits 0.
  const auto dir = fresh_dir("sweep_infeasible");
  Json s = study(small_cluster(2), Json(), 1);
  s.erase("campaign");
  write_file(dir / "study.json", s.dump(2));
  write_file(dir / "sweep.json", R"({
    "study": "study.json",
    "parameters": [{"name": "gbs", "pointer": "/training/global_batch_size", "values": [8, 7]}]
  })");
  const auto r = run_frugalsim("sweep " + (dir / "sweep.json").string() + " -o " + (dir / "out").string() + " -j 2");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto rows = jsonl(dir / "out" / "sweep.jsonl");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("status"), "ok");
  EXPECT_EQ(rows[1].at("status"), "infeasible");
  const std::string reason = rows[1].at("metrics").at("reason");
  EXPECT_NE(reason.find("study.json:/training/global_batch_size: global_batch_size (7) is not a multiple of "
                        "micro_batch_size (1) × data-parallel size (2) = 2"),
            std::string::npos)
      << reason;
  EXPECT_TRUE(rows[1].at("metrics").at("tokens_per_s").is_null());
  const auto csv = lines(slurp(dir / "out" / "sweep.csv"));
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_EQ(csv[2].rfind("1,7,infeasible,,points/0001,", 0), 0u) << csv[2];
}

/// An interrupted sweep (a point without point.json) resumes by running that point alone and
/// gives the table of an uninterrupted run; a changed base study invalidates every point.
TEST(SweepRun, ResumeRerunsOnlyWhatIsMissingOrStale) {
  const auto dir = fresh_dir("sweep_resume");
  write_file(dir / "study.json", campaign_study().dump(2));
  write_file(dir / "sweep.json", R"({
    "study": "study.json",
    "parameters": [{"name": "interval_s", "pointer": "/campaign/resilience/checkpoint/interval_s",
                    "values": [300, 1200]}],
    "seeds": [3, 4]
  })");
  const std::string sweep = "sweep " + (dir / "sweep.json").string() + " -o " + (dir / "out").string();
  const auto first = run_frugalsim(sweep + " -j 2 -q");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const std::string csv = slurp(dir / "out" / "sweep.csv"), rows = slurp(dir / "out" / "sweep.jsonl");
  ASSERT_TRUE(std::filesystem::exists(dir / "out" / "points" / "0002" / "point.json"));

  std::filesystem::remove(dir / "out" / "points" / "0002" / "point.json");  // as if killed mid-run
  std::filesystem::remove(dir / "out" / "sweep.csv");
  const auto resumed = run_frugalsim(sweep + " -j 1 --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("4 results, 0 invalid, 0 failed (3 reused)"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("point 0001 ok (reused)"), std::string::npos) << resumed.output;
  EXPECT_EQ(resumed.output.find("point 0002 ok (reused)"), std::string::npos) << resumed.output;
  EXPECT_EQ(slurp(dir / "out" / "sweep.csv"), csv);
  EXPECT_EQ(slurp(dir / "out" / "sweep.jsonl"), rows);

  // An edited reply (an "error" that is a number) is not trusted: only its status is taken over.
  Json point = read_json(dir / "out" / "points" / "0001" / "point.json");
  point["reply"]["error"] = 42;
  write_file(dir / "out" / "points" / "0001" / "point.json", point.dump());
  const auto edited = run_frugalsim(sweep + " -j 1 --resume");
  ASSERT_EQ(edited.exit_code, 0) << edited.output;
  EXPECT_NE(edited.output.find("point 0001 ok (reused)"), std::string::npos) << edited.output;
  EXPECT_EQ(slurp(dir / "out" / "sweep.csv"), csv);

  Json changed = campaign_study();
  changed["campaign"]["checkpoint"]["size"] = "40 GB";
  write_file(dir / "study.json", changed.dump(2));
  const auto stale = run_frugalsim(sweep + " -j 2 --resume");
  ASSERT_EQ(stale.exit_code, 0) << stale.output;
  EXPECT_NE(stale.output.find("(0 reused)"), std::string::npos) << stale.output;
  const auto again = run_frugalsim(sweep + " -j 2 --resume");
  EXPECT_NE(again.output.find("(4 reused)"), std::string::npos) << again.output;
  EXPECT_NE(slurp(dir / "out" / "sweep.csv"), csv);  // bigger checkpoints: other figures
}

/// The resume key holds every file a point's study reads, by content: editing the trace one
/// point replays reruns that point only; the catalogue and the other trace are unchanged.
TEST(SweepRun, ResumeRerunsThePointsWhoseInputFilesChanged) {
  const auto dir = fresh_dir("sweep_resume_inputs");
  write_file(dir / "a.txt", "node start_s end_s\nnode1 1000 2000\n");
  write_file(dir / "b.txt", "node start_s end_s\nnode0 3000 4000\n");
  Json study = campaign_study();
  study["campaign"]["availability"]["n"] = {{"impl", "trace"}, {"file", (dir / "a.txt").string()}, {"format", "fta"}};
  write_file(dir / "study.json", study.dump(2));
  write_file(dir / "sweep.json", Json{{"study", "study.json"},
                                      {"parameters", Json::array({Json{{"name", "trace"},
                                                                       {"pointer", "/campaign/availability/n/file"},
                                                                       {"values", {(dir / "a.txt").string(), (dir / "b.txt").string()}}}})}}
                                     .dump());
  const std::string sweep = "sweep " + (dir / "sweep.json").string() + " -o " + (dir / "out").string() + " -j 1";
  ASSERT_EQ(run_frugalsim(sweep + " -q").exit_code, 0);
  const Json key = read_json(dir / "out" / "points" / "0000" / "point.json").at("key");
  bool has_trace = false, has_catalogue = false;
  for (const Json& input : key.at("inputs")) {
    has_trace = has_trace || input.at(0) == (dir / "a.txt").string();
    has_catalogue = has_catalogue || input.at(0).get<std::string>().find("gpus.json") != std::string::npos;
  }
  EXPECT_TRUE(has_trace) << key.dump();
  EXPECT_TRUE(has_catalogue) << key.dump();

  const auto unchanged = run_frugalsim(sweep + " --resume");
  EXPECT_NE(unchanged.output.find("(2 reused)"), std::string::npos) << unchanged.output;
  write_file(dir / "a.txt", "node start_s end_s\nnode1 1000 2500\n");
  const auto edited = run_frugalsim(sweep + " --resume");
  ASSERT_EQ(edited.exit_code, 0) << edited.output;
  EXPECT_NE(edited.output.find("(1 reused)"), std::string::npos) << edited.output;
  EXPECT_EQ(edited.output.find("point 0000 ok (reused)"), std::string::npos) << edited.output;
  EXPECT_NE(edited.output.find("point 0001 ok (reused)"), std::string::npos) << edited.output;
}

/// Shards (the tasks of a job array) write their points' folders and no table; --collect makes
/// the table, byte for byte the local run's, and refuses (exit 3, no table) while a point has no
/// finished run of its current key.
TEST(SweepRun, ShardsCollectToTheLocalTable) {
  const auto dir = fresh_dir("sweep_shards");
  write_file(dir / "study.json", campaign_study().dump(2));
  write_file(dir / "sweep.json", R"({
    "study": "study.json",
    "parameters": [{"name": "interval_s", "pointer": "/campaign/resilience/checkpoint/interval_s",
                    "values": [300, 600, 1200]}],
    "seeds": [3, 4]
  })");
  const std::string sweep = "sweep " + (dir / "sweep.json").string();
  ASSERT_EQ(run_frugalsim(sweep + " -o " + (dir / "local").string() + " -j 2 -q").exit_code, 0);
  const std::string out = " -o " + (dir / "array").string();
  for (int k = 0; k < 4; ++k) {
    const auto shard = run_frugalsim(sweep + out + " -j 1 --shard " + std::to_string(k) + "/4");
    ASSERT_EQ(shard.exit_code, 0) << shard.output;
    // Task k of 4 runs points k and k + 4.
    EXPECT_NE(shard.output.find(k < 2 ? "2 points, 2 results" : "1 points, 1 results"), std::string::npos) << shard.output;
    EXPECT_FALSE(std::filesystem::exists(dir / "array" / "sweep.csv"));
  }
  std::filesystem::remove(dir / "array" / "points" / "0004" / "point.json");  // a task killed mid-point
  const auto missing = run_frugalsim(sweep + out + " --collect");
  EXPECT_EQ(missing.exit_code, 3) << missing.output;
  EXPECT_NE(missing.output.find("1 of 6 points have no finished run"), std::string::npos) << missing.output;
  EXPECT_NE(missing.output.find("(points 4)"), std::string::npos) << missing.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "array" / "sweep.csv"));

  const auto rerun = run_frugalsim(sweep + out + " -j 1 --shard 0/4 --resume");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  EXPECT_NE(rerun.output.find("(1 reused)"), std::string::npos) << rerun.output;
  const auto collected = run_frugalsim(sweep + out + " --collect -q");
  ASSERT_EQ(collected.exit_code, 0) << collected.output;
  EXPECT_EQ(slurp(dir / "array" / "sweep.csv"), slurp(dir / "local" / "sweep.csv"));
  EXPECT_EQ(slurp(dir / "array" / "sweep.jsonl"), slurp(dir / "local" / "sweep.jsonl"));

  // A changed study: the stored runs are stale, nothing is collected.
  Json changed = campaign_study();
  changed["campaign"]["checkpoint"]["size"] = "40 GB";
  write_file(dir / "study.json", changed.dump(2));
  const auto stale = run_frugalsim(sweep + out + " --collect");
  EXPECT_EQ(stale.exit_code, 3) << stale.output;
  EXPECT_NE(stale.output.find("6 of 6 points have no finished run"), std::string::npos) << stale.output;
}

/// --slurm writes a job array whose task K runs shard K/N of the sweep, resumable, with the
/// options given; the options that do not go together are usage errors.
TEST(SweepRun, SlurmScriptRunsOneShardPerArrayTask) {
  const auto dir = fresh_dir("sweep_slurm_script");
  write_file(dir / "study.json", campaign_study().dump(2));
  write_file(dir / "sweep.json", R"({"name": "intervals", "study": "study.json",
    "parameters": [{"pointer": "/campaign/resilience/checkpoint/interval_s", "values": [300, 600, 1200]}]})");
  const std::string sweep = "sweep " + (dir / "sweep.json").string() + " -o " + (dir / "out").string();
  const auto written = run_frugalsim(sweep + " --slurm -j 2 --sbatch=--partition=gpu --sbatch=--time=1:00:00");
  ASSERT_EQ(written.exit_code, 0) << written.output;
  EXPECT_NE(written.output.find("3 points in 3 array tasks of 2 CPUs"), std::string::npos) << written.output;
  const std::string script = slurp(dir / "out" / "sweep.sbatch");
  for (const std::string line : {"#SBATCH --job-name=frugalsim-intervals\n", "#SBATCH --array=0-2\n",
                                 "#SBATCH --cpus-per-task=2\n", "#SBATCH --partition=gpu\n", "#SBATCH --time=1:00:00\n",
                                 "--shard \"${SLURM_ARRAY_TASK_ID}/3\" -j 2 --resume\n"})
    EXPECT_NE(script.find(line), std::string::npos) << line << " not in\n" << script;
  EXPECT_NE(script.find("#SBATCH --output=" + (dir / "out" / "slurm" / "%A_%a.out").string()), std::string::npos) << script;
  EXPECT_TRUE(std::filesystem::is_directory(dir / "out" / "slurm"));
  EXPECT_EQ(run_frugalsim(sweep + " --slurm --tasks 2").exit_code, 0);
  EXPECT_NE(slurp(dir / "out" / "sweep.sbatch").find("#SBATCH --array=0-1\n"), std::string::npos);

  for (const std::string bad : {" --shard 3/3", " --shard 1", " --shard a/2", " --collect --shard 0/2", " --tasks 2",
                                " --slurm --tasks 0", " --slurm --collect"}) {
    const auto r = run_frugalsim(sweep + bad);
    EXPECT_EQ(r.exit_code, 1) << bad << "\n" << r.output;
  }
}

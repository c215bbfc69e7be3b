// The frugal-real CLI: a 2-rank data-parallel program under mpirun whose measurements load back
// complete, one rank without mpirun, and malformed programs or launches rejected with exit code
// 2, a message naming the JSON pointer, and no output file.
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "tests/real_backend/test_programs.hpp"
#include "tests/support/trace_rules.hpp"

using namespace frugal;
using namespace frugal::real::testing;
namespace fs = std::filesystem;

namespace {

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

/// Writes `program` as JSON after `mutate` (bypassing validation), runs frugal-real on it with
/// `launcher` and checks the bad-input contract: exit 2, `pointer` named once, nothing written.
void expect_rejected(const std::string& name, const Program& program, const std::function<void(core::Json&)>& mutate,
                     const std::string& expected, const std::string& launcher = frugal_real()) {
  const ScratchDir dir(name);
  core::Json j = to_json(program);
  mutate(j);
  std::ofstream(dir / "bad.json") << j.dump();
  const CommandResult r = run_command(launcher + " run bad.json -o m.json", dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("bad.json:" + expected), std::string::npos) << r.err;
  EXPECT_EQ(count(r.err, "frugal-real: bad.json"), 1) << r.err;  // one rank reports
  EXPECT_FALSE(fs::exists(dir / "m.json"));
  EXPECT_FALSE(fs::exists(dir / "m.json.tmp"));
}

}  // namespace

TEST(Cli, TwoRankDataParallelRunUnderMpirunLoadsBack) {
  const ScratchDir dir("dp2");
  const Program p = data_parallel(2);
  save_program(p, dir / "dp2.json");
  const CommandResult r = run_command(mpirun(2) + " run dp2.json -o m.json --iterations 3 --warmup 1", dir);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("2 ranks on cpu"), std::string::npos) << r.out;

  const core::Json m = core::Json::parse(read_file(dir / "m.json"));
  EXPECT_EQ(m.at("format"), "frugal-real-measurements");
  EXPECT_EQ(m.at("status"), "ok");
  EXPECT_EQ(m.at("manifest").at("launch").at("source"), "mpi");
  EXPECT_EQ(m.at("manifest").at("launch").at("world_size"), 2);
  EXPECT_NE(m.at("manifest").at("mpi").at("library").get<std::string>().find("MPI"), std::string::npos);
  EXPECT_NE(m.at("manifest").at("blas").at("config").get<std::string>().find("OpenBLAS"), std::string::npos);
  EXPECT_TRUE(m.at("checks").at("gemm").at("ok").get<bool>());
  EXPECT_TRUE(m.at("checks").at("all_reduce").at("ok").get<bool>());
  std::set<std::tuple<int, int, int>> seen;  // (rank, op, iteration)
  for (const auto& e : m.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    EXPECT_GE(e.at("dur").get<double>(), 0.0);
    EXPECT_GE(e.at("ts").get<double>(), 0.0);
    seen.insert({e.at("pid").get<int>(), e.at("args").at("op").get<int>(), e.at("args").at("iteration").get<int>()});
  }
  for (int rank = 0; rank < 2; ++rank)
    for (std::size_t op = 0; op < p.ranks[static_cast<std::size_t>(rank)].ops.size(); ++op)
      for (int it = 0; it < 3; ++it) EXPECT_TRUE(seen.count({rank, static_cast<int>(op), it})) << rank << " " << op << " " << it;
  EXPECT_EQ(seen.size(), 2 * 3 * p.ranks[0].ops.size());
  test_support::TraceCounts counts;
  EXPECT_TRUE(test_support::trace_problems(m, &counts).empty());
  EXPECT_TRUE(counts.counters.count({0, "device memory"}) && counts.counters.count({1, "device memory"}));
  const auto& iterations = m.at("iterations");
  EXPECT_EQ(iterations.at("time_s").size(), 3u);
  EXPECT_GT(iterations.at("median_s").get<double>(), 0.0);
  EXPECT_EQ(iterations.at("per_rank_time_s").size(), 2u);
  EXPECT_EQ(m.at("memory").size(), 2u);
}

TEST(Cli, OneRankWithoutMpirunAndWithTheStreamsSchedule) {
  const ScratchDir dir("dp1");
  save_program(data_parallel(1), dir / "dp1.json");
  const CommandResult r = run_command(frugal_real() + " run dp1.json --iterations 2 --schedule streams --scale 0.5", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const core::Json m = core::Json::parse(read_file(dir / "measurements.json"));
  EXPECT_EQ(m.at("manifest").at("launch").at("source"), "single");
  EXPECT_EQ(m.at("run").at("schedule"), "streams");
  EXPECT_EQ(m.at("run").at("scale"), 0.5);
}

TEST(Cli, TwoRankPipelineWithSendRecvRunsInBothSchedules) {
  const ScratchDir dir("pipeline");
  const Program p = pipeline_two_stages();
  save_program(p, dir / "pp.json");
  for (const std::string schedule : {"serial", "streams"}) {
    const CommandResult r = run_command(mpirun(2) + " run pp.json -o m.json --iterations 2 --schedule " + schedule, dir);
    ASSERT_EQ(r.code, 0) << schedule << ": " << r.err;
    const core::Json m = core::Json::parse(read_file(dir / "m.json"));
    int events = 0;
    double recv_end = -1, fwd_start = -1;  // rank 1, iteration 0: the forward waits for its input
    for (const auto& e : m.at("traceEvents")) {
      if (e.at("ph") != "X") continue;
      ++events;
      if (e.at("pid") != 1 || e.at("args").at("iteration") != 0) continue;
      const double start = e.at("ts"), end = start + e.at("dur").get<double>();
      if (e.at("name") == "recv act mb0") recv_end = end;
      if (e.at("name") == "fwd mb0") fwd_start = start;
    }
    EXPECT_EQ(events, static_cast<int>(2 * (p.ranks[0].ops.size() + p.ranks[1].ops.size()))) << schedule;
    EXPECT_GE(fwd_start, recv_end) << schedule;
    const auto problems = test_support::trace_problems(m);  // the simulator's timeline rules
    EXPECT_TRUE(problems.empty()) << schedule << ": " << (problems.empty() ? "" : problems[0]);
  }
}

TEST(Cli, OneFOneBPipelineWithRendezvousSizedMessagesRunsSerially) {
  // 1 MiB messages (far above MPI's eager limit) in 1F1B order: one thread per rank runs every
  // op, so its sends complete in the background; with blocking sends both ranks would wait for
  // each other's send and --timeout would end the run.
  const ScratchDir dir("pipeline-1f1b");
  save_program(pipeline_one_f_one_b(4, 1 << 20), dir / "pp.json");
  const CommandResult r = run_command(mpirun(2) + " run pp.json -o m.json --iterations 3 --warmup 1 --timeout 60", dir);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const core::Json m = core::Json::parse(read_file(dir / "m.json"));
  EXPECT_EQ(m.at("run").at("schedule"), "serial");
  EXPECT_GT(m.at("iterations").at("median_s").get<double>(), 0.0);
}

TEST(Cli, ReceivesPostedAheadAreMadeWhenNeededInBothSchedules) {
  // Both ranks post their receive ahead of their send on the comm stream, as the previous test's
  // program orders them: the backend makes each receive when the compute that needs it runs, so
  // the sends go first and neither rank waits for the other.
  Program p;
  const Gemm g{64, 64, 64, 1};
  for (int r = 0; r < 2; ++r) {
    RankProgram rp = rank_on_gpu(r);
    RankBuilder b(rp);
    const OpId in = b.add(OpKind::kRecv, Stream::kComm, "recv ahead", {}, PointToPoint{core::RankId(1 - r), 1, 1 << 20, true});
    b.add(OpKind::kSend, Stream::kComm, "send", {}, PointToPoint{core::RankId(1 - r), 1, 1 << 20});
    b.compute("use", {Phase::kForward, "use", 2.0 * 64 * 64 * 64, 0, {g}}, {in});
    p.ranks.push_back(rp);
  }
  program::validate(p);
  const ScratchDir dir("posted-ahead");
  save_program(p, dir / "ahead.json");
  for (const std::string schedule : {"serial", "streams"}) {
    const CommandResult r =
        run_command(mpirun(2) + " run ahead.json -o m.json --iterations 2 --timeout 60 --schedule " + schedule, dir);
    ASSERT_EQ(r.code, 0) << schedule << ": " << r.err;
    const core::Json m = core::Json::parse(read_file(dir / "m.json"));
    double recv_end = -1, use_start = -1;  // rank 0, iteration 0: the compute waits for its data
    for (const auto& e : m.at("traceEvents")) {
      if (e.at("ph") != "X" || e.at("pid") != 0 || e.at("args").at("iteration") != 0) continue;
      const double start = e.at("ts"), end = start + e.at("dur").get<double>();
      if (e.at("name") == "recv ahead") recv_end = end;
      if (e.at("name") == "use") use_start = start;
    }
    ASSERT_GE(recv_end, 0) << schedule;
    EXPECT_GE(use_start, recv_end) << schedule;
    const auto problems = test_support::trace_problems(m);
    EXPECT_TRUE(problems.empty()) << schedule << ": " << (problems.empty() ? "" : problems[0]);
  }
}

TEST(Cli, IncompatibleTransferOrderTimesOutWithAMessage) {
  // Both ranks receive first: each waits for a send its peer never reaches (sends complete in
  // the background, so sending first on both sides would run).
  Program p;
  for (int r = 0; r < 2; ++r) {
    RankProgram rp;
    rp.rank = core::RankId(r);
    RankBuilder b(rp);
    b.add(OpKind::kRecv, Stream::kComm, "recv", {}, PointToPoint{core::RankId(1 - r), 1, 1 << 20});
    b.add(OpKind::kSend, Stream::kComm, "send", {}, PointToPoint{core::RankId(1 - r), 1, 1 << 20});
    p.ranks.push_back(rp);
  }
  const ScratchDir dir("deadlock");
  save_program(p, dir / "dl.json");
  const CommandResult r = run_command(mpirun(2) + " run dl.json -o m.json --timeout 2", dir);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("not finished after --timeout 2 s"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "m.json"));
}

TEST(Cli, UnknownOpKindIsRejected) {
  expect_rejected("kind", data_parallel(1), [](core::Json& j) { j["ranks"][0]["ops"][1]["kind"] = "teleport"; },
                  "/ranks/0/ops/1/kind: ");
}

TEST(Cli, MissingDependencyIsRejected) {
  expect_rejected("missing", data_parallel(1), [](core::Json& j) { j["ranks"][0]["ops"][1]["deps"] = {99}; },
                  "/ranks/0/ops/1/deps: dependency on op 99, which does not exist");
}

TEST(Cli, DependencyCycleIsRejected) {  // op 1 needs op 3 and op 3 needs op 1
  expect_rejected("cycle", data_parallel(1),
                  [](core::Json& j) {
                    j["ranks"][0]["ops"][1]["deps"] = {3};
                    j["ranks"][0]["ops"][3]["deps"] = {1};
                  },
                  "/ranks/0/ops/1/deps: ");
}

TEST(Cli, RankOutOfRangeIsRejectedOnEveryRankUnderMpirun) {
  expect_rejected("range", data_parallel(2), [](core::Json& j) { j["groups"][0]["ranks"].push_back(5); },
                  "/groups/0/ranks: rank 5 out of range", mpirun(2));
}

TEST(Cli, WorldSizeMismatchIsRejected) {
  expect_rejected("world", data_parallel(2), [](core::Json&) {}, "/ranks: the program has 2 ranks but the world size is 1");
}

TEST(Cli, EnvironmentAskingForRanksMpiDidNotStartIsRejected) {
  const ScratchDir dir("env");
  save_program(data_parallel(2), dir / "dp2.json");
  const CommandResult r = run_command("WORLD_SIZE=2 RANK=0 " + frugal_real() + " run dp2.json -o m.json", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("WORLD_SIZE=2 but MPI started a single process"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "m.json"));
}

TEST(Cli, GemmTooLargeForAnyDeviceIsRejectedByTheReader) {
  expect_rejected("gemm", data_parallel(1),
                  [](core::Json& j) {
                    for (core::Json& op : j["ranks"][0]["ops"])
                      if (op.contains("gemms")) {
                        op["gemms"][0][0] = std::int64_t{1} << 62;
                        return;
                      }
                  },
                  "/ranks/0/ops/1/gemms/0: expected [m, n, k, batch], positive integers of at most 2^24");
}

/// Outputs go through the writer frugalsim uses (sim/core/output_files.hpp): a directory or a
/// device is bad input before the run, and nothing is left behind. (A file that cannot be
/// written, `ulimit -f` included, is tested through frugalsim: Open MPI itself cannot start under
/// a small file-size limit.)
TEST(Cli, OutputsThatAreNotRegularFilesAreBadInput) {
  const ScratchDir dir("outputs");
  save_program(data_parallel(1), dir / "p.json");
  fs::create_directory(dir / "m.json");
  CommandResult r = run_command(frugal_real() + " run p.json --iterations 1 --warmup 0 -o m.json", dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("m.json:/: output path exists and is a directory"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "m.json.tmp"));
  r = run_command(frugal_real() + " run p.json --iterations 1 --warmup 0 -o /dev/null", dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("/dev/null:/: output path exists and is not a regular file"), std::string::npos) << r.err;
}

TEST(Cli, MissingFileAndBadOptionsAreBadInput) {
  const ScratchDir dir("options");
  CommandResult r = run_command(frugal_real() + " run nowhere.json", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nowhere.json"), std::string::npos) << r.err;
  r = run_command(frugal_real() + " run", dir);
  EXPECT_EQ(r.code, 2);
  r = run_command(frugal_real() + " run p.json --iterations zero", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--iterations zero"), std::string::npos) << r.err;
  save_program(data_parallel(1), dir / "p.json");
  r = run_command(frugal_real() + " run p.json --device tpu", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown device \"tpu\" (valid: cpu, cuda)"), std::string::npos) << r.err;
  r = run_command(frugal_real() + " run p.json -o no/such/folder/m.json", dir);
  EXPECT_EQ(r.code, 2);
  r = run_command(frugal_real() + " launch", dir);
  EXPECT_EQ(r.code, 2);
  r = run_command(frugal_real() + " run p.json --bogus", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.err;
  r = run_command(frugal_real() + " run p.json --clock sundial", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--clock sundial (valid: wall, thread-cpu)"), std::string::npos) << r.err;
  r = run_command(frugal_real() + " run p.json --clock thread-cpu --schedule streams", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--schedule serial"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "measurements.json"));
}

TEST(Cli, HelpHasFrugalsimsFormat) {
  const ScratchDir dir("help");
  CommandResult r = run_command(frugal_real() + " run --help", dir);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("usage: frugal-real run PROGRAM.json [options]\nrun options:\n", 0), 0u) << r.out;
  for (const char* option : {"--iterations N", "--warmup W", "--schedule serial|streams", "--clock wall|thread-cpu",
                             "--max-buffer BYTES", "-h [ --help ]"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option << "\n" << r.out;
  r = run_command(frugal_real() + " bench -h", dir);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("usage: frugal-real bench [options]\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("--gemm-sizes"), std::string::npos) << r.out;
  r = run_command(frugal_real() + " --help", dir);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("usage: frugal-real <command> [options]\n", 0), 0u) << r.out;
  r = run_command(frugal_real(), dir);
  EXPECT_EQ(r.code, 2);  // no command: the usage, as bad input
}

/// Memory policies' ops run for real: the calibration study planned with recomputation (every
/// second layer checkpointed), with activation offloading, with ZeRO-Offload (the Adam step on the
/// CPU) and with ZeRO-Infinity (ZeRO-3, optimizer state and weight shards on the NVMe tier: files),
/// each program run on 2 CPU ranks and measured op by op (replayed forwards, copies to the host
/// and back, to the NVMe and back, the host step), and `frugalsim validate` compares them with
/// the simulation.
TEST(Cli, RecomputationAndOffloadingRunForReal) {
  const ScratchDir dir("memory_policies");
  const core::Json base = core::Json::parse(read_file(fs::path(FRUGAL_SOURCE_DIR) / "results" / "calibration" / "study.json"));
  const core::Json zero_offload = {{"impl", "megatron"}, {"zero_stage", 1}, {"offload_optimizer", "cpu"}};
  // ZeRO-Infinity: ZeRO-3, optimizer state and weight shards on the NVMe tier (files).
  const core::Json zero_infinity = {
      {"impl", "megatron"}, {"zero_stage", 3}, {"offload_optimizer", "nvme"}, {"offload_param", "nvme"}};
  for (const auto& [name, memory, parallelism, expected] :
       {std::tuple{"every2", core::Json{{"impl", "every_k"}, {"k", 2}}, base.at("parallelism"), "recompute layer_0 mb0"},
        std::tuple{"offload", core::Json{{"impl", "offload"}}, base.at("parallelism"), "prefetch layer_1/mb0"},
        std::tuple{"zero_offload", core::Json{{"impl", "none"}}, zero_offload, "cpu optimizer step"},
        std::tuple{"zero_infinity", core::Json{{"impl", "none"}}, zero_infinity, "optimizer state from nvme"}}) {
    core::Json study = base;
    study["memory"] = memory;
    study["parallelism"] = parallelism;
    std::ofstream(dir / (std::string(name) + ".json")) << study.dump();
    const std::string program = std::string(name) + ".program.json";
    CommandResult r = run_command(std::string(FRUGALSIM_EXE) + " plan " + name + ".json -o " + program, dir);
    ASSERT_EQ(r.code, 0) << r.err;
    r = run_command(mpirun(2) + " run " + program + " -o " + name + ".m.json --iterations 2 --warmup 1", dir);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    const core::Json m = core::Json::parse(read_file(dir / (std::string(name) + ".m.json")));
    EXPECT_EQ(m.at("status"), "ok");
    int seen = 0;
    for (const auto& e : m.at("traceEvents"))
      if (e.at("ph") == "X" && e.at("name") == expected) ++seen;
    EXPECT_EQ(seen, 2 * 2) << name;  // 2 ranks × 2 measured iterations
    r = run_command(std::string(FRUGALSIM_EXE) + " validate --platform cpu-local --program " + program +
                        " --measurements " + name + ".m.json -o " + name + ".report.json",
                    dir);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
  }
}

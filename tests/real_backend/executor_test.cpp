// Executor on one rank (an MPI world of one, in process): every op timed in every measured
// iteration, program order or dependencies respected, --scale, out-of-memory as a result, and
// the measurements document built from the run.
#include <gtest/gtest.h>

#include "real_backend/cpu/cpu_device.hpp"
#include "real_backend/cpu/mpi_communicator.hpp"
#include "real_backend/executor.hpp"
#include "real_backend/measurements.hpp"
#include "tests/real_backend/test_programs.hpp"
#include "tests/support/trace_rules.hpp"

using namespace frugal;
using namespace frugal::real::testing;

namespace {

/// One rank: the data-parallel step plus a copy, a checkpoint write on the copy stream and a
/// broadcast, so that every op kind that needs no peer is exercised.
Program one_rank() {
  Program p = data_parallel(1);
  RankBuilder b(p.ranks[0]);
  const OpId opt = b.last();
  b.add(OpKind::kCopy, Stream::kCopy, "offload", {opt}, Copy{CopyDirection::kDeviceToHost, 1 << 20});
  b.add(OpKind::kCheckpointWrite, Stream::kCopy, "checkpoint", {}, CheckpointWrite{1 << 16});
  Collective bc;
  bc.kind = CollectiveKind::kBroadcast;
  bc.instance = 100;
  bc.bytes = 4096;
  bc.root = core::RankId(0);
  b.collective("broadcast", bc);
  validate(p);
  return p;
}

real::CpuDevice device(double capacity_bytes = 1e9) {
  real::CpuDevice::Options o;
  o.capacity_bytes = capacity_bytes;
  o.threads = 1;
  return real::CpuDevice(o);
}

real::RankRun execute(const Program& p, real::Device& d, real::ExecutorOptions o) {
  real::MpiCommunicator comm(p.groups);
  real::Executor ex(p, 0, d, comm, o);
  return ex.run();
}

}  // namespace

TEST(Executor, SerialRunTimesEveryOpInProgramOrder) {
  const Program p = one_rank();
  auto d = device();
  real::ExecutorOptions o;
  o.warmup_iterations = 1;
  o.iterations = 3;
  const real::RankRun run = execute(p, d, o);
  const int n = static_cast<int>(p.ranks[0].ops.size());
  ASSERT_EQ(run.timings.size(), static_cast<std::size_t>(3 * n));
  double previous_end = 0;
  for (int it = 0; it < 3; ++it)
    for (int i = 0; i < n; ++i) {
      const auto& t = timing(run, i, it);
      EXPECT_GE(t.start_s, previous_end - 1e-9) << "op " << i << " iteration " << it;
      EXPECT_GE(t.end_s, t.start_s);
      previous_end = t.end_s;
    }
  EXPECT_TRUE(run.out_of_memory.empty());
  EXPECT_GT(run.program_peak_bytes, 0);
  EXPECT_DOUBLE_EQ(run.work[1].gemm_flops, 2.0 * 256 * 128 * 128);
}

TEST(Executor, StreamsScheduleHonoursDependenciesAndStreamOrder) {
  const Program p = one_rank();
  auto d = device();
  real::ExecutorOptions o;
  o.schedule = real::Schedule::kStreams;
  o.iterations = 3;
  const real::RankRun run = execute(p, d, o);
  const auto& ops = p.ranks[0].ops;
  for (int it = 0; it < 3; ++it)
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const auto& t = timing(run, static_cast<int>(i), it);
      for (const OpId dep : ops[i].deps) EXPECT_GE(t.start_s, timing(run, static_cast<int>(dep.value), it).end_s);
      for (std::size_t j = 0; j < i; ++j) {  // same stream: program order
        if (ops[j].stream != ops[i].stream) continue;
        EXPECT_GE(t.start_s, timing(run, static_cast<int>(j), it).end_s);
      }
    }
}

TEST(Executor, ScaleShrinksRowsBatchesAndBytes) {
  Program p = one_rank();
  p.ranks[0].ops[1].payload = Compute{Phase::kForward, "l0", 1e9, 1e6, {{256, 128, 64, 1}, {32, 32, 16, 8}}};
  const auto work = real::plan_work(p, 0, 0.5);
  EXPECT_EQ(work[1].gemms[0], (Gemm{128, 128, 64, 1}));
  EXPECT_EQ(work[1].gemms[1], (Gemm{32, 32, 16, 4}));
  EXPECT_DOUBLE_EQ(work[1].stream_bytes, 5e5);
  const auto& ops = p.ranks[0].ops;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind != OpKind::kCollective) continue;
    EXPECT_DOUBLE_EQ(work[i].bytes, ops[i].collective().bytes * 0.5);
  }
}

TEST(Executor, ComputeBoundFlopsWithoutShapesRunAsASquareGemm) {
  Program p = one_rank();
  p.ranks[0].ops[1].payload = Compute{Phase::kRecompute, "l0", 2e6, 1e3, {}};  // 2000 FLOP/byte
  const auto work = real::plan_work(p, 0, 1.0);
  ASSERT_EQ(work[1].gemms.size(), 1u);
  EXPECT_TRUE(work[1].synthetic_gemm);
  EXPECT_EQ(work[1].gemms[0], (Gemm{100, 100, 100, 1}));
  const std::size_t opt = p.ranks[0].ops.size() - 4;  // optimizer: memory-bound, no GEMM
  EXPECT_EQ(p.ranks[0].ops[opt].name, "optimizer step");
  EXPECT_TRUE(work[opt].gemms.empty());
}

TEST(Executor, OutOfMemoryIsReportedAndTheRunGoesOn) {
  Program p = one_rank();
  p.ranks[0].resident.push_back({MemoryTag::kOptimizer, "optimizer_state", 3e9});
  p.ranks[0].ops[0].payload = Memory{MemoryTag::kActivations, "act0", 2e9};
  p.ranks[0].ops[p.ranks[0].ops.size() - 4 - 2].payload = Memory{MemoryTag::kActivations, "act0", 2e9};
  validate(p);
  auto d = device(1e9);
  real::ExecutorOptions o;
  o.warmup_iterations = 1;
  o.iterations = 2;
  const real::RankRun run = execute(p, d, o);
  ASSERT_EQ(run.out_of_memory.size(), 2u);
  EXPECT_EQ(run.out_of_memory[0].op, -1);
  EXPECT_EQ(run.out_of_memory[0].buffer, "optimizer_state");
  EXPECT_EQ(run.out_of_memory[1].op, 0);
  EXPECT_EQ(run.out_of_memory[1].count, 3);  // warm-up + 2 measured iterations
  EXPECT_DOUBLE_EQ(run.out_of_memory[1].capacity_bytes, 1e9);
  EXPECT_EQ(run.timings.size(), 2 * p.ranks[0].ops.size());
}

TEST(Executor, MeasurementsDocumentFollowsTheTimelineSchema) {
  const Program p = one_rank();
  auto d = device();
  real::ExecutorOptions o;
  o.iterations = 2;
  const real::RankRun run = execute(p, d, o);
  const real::RankRun back = real::rank_run_from_json(core::Json::parse(real::to_json(run).dump()));
  ASSERT_EQ(back.timings.size(), run.timings.size());
  EXPECT_EQ(back.timings[3].end_s, run.timings[3].end_s);
  EXPECT_EQ(back.work[1].gemms, run.work[1].gemms);

  const core::Json m = real::make_measurements(p, {run}, {"p.json", "cpu", o}, core::Json::object(), core::Json::object());
  EXPECT_EQ(m.at("format"), real::kMeasurementsFormat);
  EXPECT_EQ(m.at("status"), "ok");
  int complete = 0;
  for (const auto& e : m.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    ++complete;
    EXPECT_EQ(e.at("pid"), 0);
    EXPECT_GE(e.at("dur").get<double>(), 0.0);
    const int op = e.at("args").at("op");
    EXPECT_EQ(e.at("name"), p.ranks[0].ops[static_cast<std::size_t>(op)].name);
    EXPECT_EQ(e.at("cat"), to_string(p.ranks[0].ops[static_cast<std::size_t>(op)].kind));
    EXPECT_EQ(e.at("tid"), static_cast<int>(p.ranks[0].ops[static_cast<std::size_t>(op)].stream));
  }
  EXPECT_EQ(complete, static_cast<int>(2 * p.ranks[0].ops.size()));
  EXPECT_TRUE(frugal::test_support::trace_problems(m).empty());  // the simulator's timeline rules
  const auto& times = m.at("iterations").at("time_s");
  ASSERT_EQ(times.size(), 2u);
  EXPECT_GT(times[0].get<double>(), 0.0);
  EXPECT_LE(m.at("iterations").at("min_s").get<double>(), m.at("iterations").at("median_s").get<double>());
  EXPECT_EQ(m.at("ops").size(), p.ranks[0].ops.size());
}

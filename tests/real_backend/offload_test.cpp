// Buffer locations on the CPU device: copies move real bytes between a device buffer, host
// memory and an NVMe file, host compute runs on the CPU on the host stream, and the run is
// measured in the timeline schema (one track per stream, the host track where it is used).
#include <gtest/gtest.h>

#include <cstring>

#include "real_backend/cpu/cpu_device.hpp"
#include "real_backend/cpu/mpi_communicator.hpp"
#include "real_backend/executor.hpp"
#include "real_backend/measurements.hpp"
#include "tests/real_backend/test_programs.hpp"

using namespace frugal;
using namespace frugal::real::testing;

namespace {

constexpr double kBytes = 1 << 20;

Memory at(const std::string& name, double bytes, Location where) {
  Memory m{MemoryTag::kOptimizer, name, bytes};
  m.location = where;
  return m;
}

/// One rank, ZeRO-Infinity-like: gradients device → host, a CPU step (a GEMM on the host
/// stream), the host state to NVMe and back, the update host → device.
Program offload_program() {
  Program p;
  RankProgram rp;
  rp.rank = core::RankId(0);
  rp.resident.push_back(at("weights", kBytes, Location::kDevice));
  rp.resident.push_back(at("master", kBytes, Location::kHost));
  RankBuilder b(rp);
  const OpId grad = b.alloc(at("grad", kBytes, Location::kDevice));
  const OpId bwd = b.compute("backward", Compute{Phase::kBackward, "l0", 2.0 * 64 * 64 * 64, 0, {{64, 64, 64, 1}}}, {grad});
  const OpId host = b.alloc(at("grad_host", kBytes, Location::kHost));
  const OpId d2h = b.copy("grad d2h", Copy{CopyDirection::kDeviceToHost, kBytes, "grad", "grad_host"}, {bwd, host});
  b.free(at("grad", kBytes, Location::kDevice), {d2h});
  const OpId step =
      b.host_compute("cpu adam", Compute{Phase::kOptimizer, "adam", 2.0 * 128 * 128 * 128, 0, {{128, 128, 128, 1}}}, {d2h});
  const OpId nvme = b.alloc(at("state_nvme", kBytes, Location::kNvme));
  const OpId h2n = b.copy("state h2n", Copy{CopyDirection::kHostToNvme, kBytes, "master", "state_nvme"}, {step, nvme});
  const OpId n2h = b.copy("state n2h", Copy{CopyDirection::kNvmeToHost, kBytes, "state_nvme", "master"}, {h2n});
  b.free(at("state_nvme", kBytes, Location::kNvme), {n2h});
  const OpId h2d = b.copy("update h2d", Copy{CopyDirection::kHostToDevice, kBytes, "grad_host", "weights"}, {step});
  b.free(at("grad_host", kBytes, Location::kHost), {h2d});
  // An anonymous NVMe transfer (no buffers) still moves its bytes.
  b.copy("spill", Copy{CopyDirection::kHostToNvme, kBytes, "", ""}, {n2h});
  p.ranks.push_back(rp);
  validate(p);
  return p;
}

real::CpuDevice device() {
  real::CpuDevice::Options o;
  o.capacity_bytes = 1e9;
  o.threads = 1;
  return real::CpuDevice(o);
}

real::RankRun execute(const Program& p, real::Device& d, real::Schedule schedule) {
  real::MpiCommunicator comm(p.groups);
  real::ExecutorOptions o;
  o.schedule = schedule;
  o.warmup_iterations = 1;
  o.iterations = 2;
  real::Executor ex(p, 0, d, comm, o);
  return ex.run();
}

}  // namespace

TEST(Offload, CpuCopyBufferMovesTheBytes) {
  auto d = device();
  const std::size_t n = 4096;
  real::Buffer a = d.allocate(n, Stream::kCompute), b = d.allocate(n, Stream::kCompute);
  std::vector<char> pattern(n), back(n, 0);
  for (std::size_t i = 0; i < n; ++i) pattern[i] = static_cast<char>(i * 7 + 3);
  d.upload(a, pattern.data(), n);
  void* host = d.allocate_host(n);
  const double device_in_use = d.in_use_bytes();
  d.copy_buffer(CopyDirection::kDeviceToHost, a, host, n, Stream::kCopy);
  EXPECT_EQ(std::memcmp(host, pattern.data(), n), 0);
  d.copy_buffer(CopyDirection::kHostToDevice, b, host, n, Stream::kCopy);
  d.download(back.data(), b, n);
  EXPECT_EQ(back, pattern);
  EXPECT_DOUBLE_EQ(d.in_use_bytes(), device_in_use);  // host memory is not device memory
  d.release_host(host);
  d.release(a, Stream::kCompute);
  d.release(b, Stream::kCompute);
}

TEST(Offload, SerialRunTimesCopiesAndHostCompute) {
  const Program p = offload_program();
  auto d = device();
  const real::RankRun run = execute(p, d, real::Schedule::kSerial);
  EXPECT_TRUE(run.out_of_memory.empty());
  const auto& ops = p.ranks[0].ops;
  ASSERT_EQ(run.timings.size(), 2 * ops.size());
  for (int it = 0; it < 2; ++it)
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const auto& t = timing(run, static_cast<int>(i), it);
      EXPECT_GE(t.end_s, t.start_s) << ops[i].name;
    }
  // The host step runs its GEMM on the CPU: it takes time, and its FLOPs are the GEMM's.
  EXPECT_GT(timing(run, 5, 0).end_s - timing(run, 5, 0).start_s, 0);
  EXPECT_DOUBLE_EQ(run.work[5].gemm_flops, 2.0 * 128 * 128 * 128);
  // Device memory counts device buffers only: weights + grad.
  EXPECT_DOUBLE_EQ(run.program_peak_bytes, 2 * kBytes);

  const core::Json m = real::make_measurements(p, {run}, {"p.json", "cpu", {}}, core::Json::object(), core::Json::object());
  bool host_track = false;
  int host_events = 0;
  for (const auto& e : m.at("traceEvents")) {
    if (e.at("ph") == "M" && e.at("name") == "thread_name" && e.at("args").at("name") == "host") {
      host_track = true;
      EXPECT_EQ(e.at("tid"), static_cast<int>(Stream::kHost));
    }
    if (e.at("ph") == "X" && e.at("tid") == static_cast<int>(Stream::kHost)) {
      ++host_events;
      EXPECT_EQ(e.at("name"), "cpu adam");
    }
  }
  EXPECT_TRUE(host_track);
  EXPECT_EQ(host_events, 2);  // one per measured iteration
}

TEST(Offload, StreamsScheduleRunsTheHostStreamOnItsOwn) {
  const Program p = offload_program();
  auto d = device();
  const real::RankRun run = execute(p, d, real::Schedule::kStreams);
  EXPECT_TRUE(run.out_of_memory.empty());
  const auto& ops = p.ranks[0].ops;
  for (int it = 0; it < 2; ++it)
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const auto& t = timing(run, static_cast<int>(i), it);
      for (const OpId dep : ops[i].deps)
        EXPECT_GE(t.start_s, timing(run, static_cast<int>(dep.value), it).end_s) << ops[i].name;
    }
}

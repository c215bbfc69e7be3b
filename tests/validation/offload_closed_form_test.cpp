// Copies between buffer locations and host compute against closed forms: one device↔host copy
// of S bytes takes α_pcie + S/β_pcie; k GPUs of a node copying S bytes at once through a host
// side of bandwidth B take α_pcie + S·k/B when B is the bottleneck; host ↔ NVMe takes S/β_nvme;
// host compute of F FLOPs takes F / cpu_flops_per_s; a copy on another stream does not delay a
// compute op. Memory is tracked per location.
#include <gtest/gtest.h>

#include <stdexcept>

#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using program::Copy;
using program::CopyDirection;
using program::Location;
using program::Memory;
using program::MemoryTag;
using testing::kGiB;

constexpr double kPcieBytesPerS = 25e9;
constexpr double kPcieLatencyS = 2e-6;
constexpr double kBytes = kGiB;  // an integer number of bytes (disks move whole bytes)

platforms::Cluster node_of(int gpus, double host_side_bytes_per_s = 0, double nvme_bytes_per_s = 0) {
  testing::ClusterShape s;
  s.gpus_per_node = gpus;
  s.host_link = {kPcieBytesPerS, kPcieLatencyS};
  platforms::Cluster c = testing::make_cluster(s);
  c.node_types[0].host_memory_bandwidth_bytes_per_s = host_side_bytes_per_s;
  if (nvme_bytes_per_s > 0) c.node_types[0].nvme = {1e13, nvme_bytes_per_s};
  return c;
}

Memory at(std::string name, double bytes, Location where) {
  Memory m = testing::buffer(MemoryTag::kGradients, std::move(name), bytes);
  m.location = where;
  return m;
}

/// On `rp`: a device buffer and a host buffer of kBytes, the copy between them in `direction`
/// (device_to_host or host_to_device), then both freed. Returns the copy's id.
program::OpId add_buffer_copy(program::RankProgram& rp, CopyDirection direction) {
  program::RankBuilder b(rp);
  const auto a = b.alloc(at("dev", kBytes, Location::kDevice));
  const auto h = b.alloc(at("host", kBytes, Location::kHost));
  const bool d2h = direction == CopyDirection::kDeviceToHost;
  const auto c = b.copy("copy", Copy{direction, kBytes, d2h ? "dev" : "host", d2h ? "host" : "dev"}, {a, h});
  b.free(at("dev", kBytes, Location::kDevice), {c});
  b.free(at("host", kBytes, Location::kHost), {c});
  return c;
}

const engine::TimelineEvent& event(const engine::SimulationResult& r, int rank, const std::string& name) {
  for (const auto& e : r.timeline)
    if (e.rank == rank && e.name == name) return e;
  throw std::runtime_error("no event " + name);
}

TEST(OffloadClosedForm, OneCopyTakesLatencyPlusBytesOverPcie) {
  program::Program p = testing::make_program(1);
  add_buffer_copy(p.ranks[0], CopyDirection::kDeviceToHost);
  const auto r = engine::simulate(node_of(1, 40e9), p, {});
  const auto& e = event(r, 0, "copy");
  EXPECT_NEAR(e.end_s - e.start_s, kPcieLatencyS + kBytes / kPcieBytesPerS, 1e-9);
  EXPECT_EQ(e.stream, program::Stream::kCopy);
  // Memory follows locations: 1 GiB on the device and 1 GiB in host memory at the peak.
  EXPECT_DOUBLE_EQ(r.ranks[0].peak_memory_bytes, kBytes);
  EXPECT_DOUBLE_EQ(r.ranks[0].peak_host_bytes, kBytes);
  EXPECT_DOUBLE_EQ(r.ranks[0].peak_nvme_bytes, 0);
}

TEST(OffloadClosedForm, GpusOfANodeShareItsHostSide) {
  // 4 GPUs × 25 GB/s of PCIe into a 40 GB/s host side: each copy gets 10 GB/s.
  constexpr int k = 4;
  constexpr double host_side = 40e9;
  program::Program p = testing::make_program(k);
  for (int r = 0; r < k; ++r) add_buffer_copy(p.ranks[r], CopyDirection::kDeviceToHost);
  const auto result = engine::simulate(node_of(k, host_side), p, {});
  for (int r = 0; r < k; ++r) {
    const auto& e = event(result, r, "copy");
    EXPECT_NEAR(e.end_s - e.start_s, kPcieLatencyS + kBytes * k / host_side, 1e-9) << "rank " << r;
  }
}

TEST(OffloadClosedForm, UndeclaredHostSideNeverBinds) {
  constexpr int k = 4;
  program::Program p = testing::make_program(k);
  for (int r = 0; r < k; ++r) add_buffer_copy(p.ranks[r], CopyDirection::kDeviceToHost);
  const auto result = engine::simulate(node_of(k), p, {});
  for (int r = 0; r < k; ++r)
    EXPECT_NEAR(event(result, r, "copy").end_s, kPcieLatencyS + kBytes / kPcieBytesPerS, 1e-9) << "rank " << r;
}

TEST(OffloadClosedForm, HostSideDirectionsAreIndependent) {
  // Two copies to the host and two from it, 40 GB/s per direction: two flows share each.
  program::Program p = testing::make_program(4);
  for (int r = 0; r < 4; ++r)
    add_buffer_copy(p.ranks[r], r < 2 ? CopyDirection::kDeviceToHost : CopyDirection::kHostToDevice);
  const auto result = engine::simulate(node_of(4, 40e9), p, {});
  for (int r = 0; r < 4; ++r)
    EXPECT_NEAR(event(result, r, "copy").end_s, kPcieLatencyS + kBytes * 2 / 40e9, 1e-9) << "rank " << r;
}

TEST(OffloadClosedForm, HostComputeRunsAtTheCpuSpeed) {
  // make_cluster's CPU: 1 TFLOP/s. 2e12 FLOPs → 2 s, not counted as GPU compute.
  program::Program p = testing::make_program(1);
  program::RankBuilder(p.ranks[0]).host_compute("adam", testing::compute_op(2e12));
  const auto r = engine::simulate(node_of(1), p, {});
  const auto& e = event(r, 0, "adam");
  EXPECT_EQ(e.stream, program::Stream::kHost);
  EXPECT_NEAR(e.end_s - e.start_s, 2.0, 1e-9);
  EXPECT_DOUBLE_EQ(r.ranks[0].compute_busy_s, 0);
}

TEST(OffloadClosedForm, RanksOfANodeShareItsCpu) {
  program::Program p = testing::make_program(2);
  for (int r = 0; r < 2; ++r) program::RankBuilder(p.ranks[r]).host_compute("adam", testing::compute_op(1e12));
  const auto result = engine::simulate(node_of(2), p, {});
  for (int r = 0; r < 2; ++r) EXPECT_NEAR(event(result, r, "adam").end_s, 2.0, 1e-9) << "rank " << r;
}

TEST(OffloadClosedForm, CopyAndHostComputeDoNotDelayGpuCompute) {
  // GPU: 100 TFLOP/s, so 1e12 FLOPs take 10 ms; a 1 GiB copy (43 ms) and a 0.5 s host compute
  // run on their own streams at the same time and keep their own closed forms.
  program::Program p = testing::make_program(1);
  p.ranks[0].resident = {at("dev", kBytes, Location::kDevice), at("host", kBytes, Location::kHost)};
  program::RankBuilder b(p.ranks[0]);
  b.copy("copy", Copy{CopyDirection::kHostToDevice, kBytes, "host", "dev"});
  b.compute("gpu", testing::compute_op(1e12));
  b.host_compute("cpu", testing::compute_op(0.5e12));
  const auto r = engine::simulate(node_of(1), p, {});
  EXPECT_NEAR(event(r, 0, "gpu").end_s, 0.01, 1e-12);
  EXPECT_NEAR(event(r, 0, "copy").end_s, kPcieLatencyS + kBytes / kPcieBytesPerS, 1e-9);
  EXPECT_NEAR(event(r, 0, "cpu").end_s, 0.5, 1e-9);
  EXPECT_NEAR(r.ranks[0].compute_busy_s, 0.01, 1e-12);
}

TEST(OffloadClosedForm, NvmeCopiesRunAtTheDriveBandwidth) {
  constexpr double nvme = 5e9;
  program::Program p = testing::make_program(1);
  program::RankBuilder b(p.ranks[0]);
  const auto h = b.alloc(at("state", kBytes, Location::kHost));
  const auto n = b.alloc(at("state_nvme", kBytes, Location::kNvme));
  const auto out = b.copy("to nvme", Copy{CopyDirection::kHostToNvme, kBytes, "state", "state_nvme"}, {h, n});
  const auto in = b.copy("from nvme", Copy{CopyDirection::kNvmeToHost, kBytes, "state_nvme", "state"}, {out});
  b.free(at("state_nvme", kBytes, Location::kNvme), {in});
  b.free(at("state", kBytes, Location::kHost), {in});
  const auto r = engine::simulate(node_of(1, 0, nvme), p, {});
  EXPECT_NEAR(event(r, 0, "to nvme").end_s, kBytes / nvme, 1e-9);
  EXPECT_NEAR(event(r, 0, "from nvme").end_s, 2 * kBytes / nvme, 1e-9);
  EXPECT_DOUBLE_EQ(r.ranks[0].peak_nvme_bytes, kBytes);
  EXPECT_DOUBLE_EQ(r.ranks[0].peak_host_bytes, kBytes);
  EXPECT_DOUBLE_EQ(r.ranks[0].peak_memory_bytes, 0);
}

TEST(OffloadClosedForm, NvmeOnANodeWithoutOneIsRefused) {
  program::Program p = testing::make_program(1);
  program::RankBuilder b(p.ranks[0]);
  const auto n = b.alloc(at("x", kBytes, Location::kNvme));
  b.free(at("x", kBytes, Location::kNvme), {n});
  try {
    engine::simulate(node_of(1), p, {});
    FAIL() << "NVMe accepted on a node without one";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("declares none"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace frugal

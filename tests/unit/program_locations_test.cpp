// Program IR with buffer locations: device/host/NVMe buffers, copies between named buffers,
// host compute on the host stream: JSON round trip, old files, every validation rule, and the
// memory ledger's per-location peaks.
#include <gtest/gtest.h>

#include "sim/program/memory_ledger.hpp"
#include "sim/program/program.hpp"
#include "tests/support/validation.hpp"

using namespace frugal;
using test_support::validation_error;
using program::Copy;
using program::CopyDirection;
using program::Location;
using program::Memory;
using program::MemoryTag;
using program::Program;

namespace {

Memory buf(std::string name, double bytes, Location where, MemoryTag tag = MemoryTag::kOptimizer) {
  Memory m;
  m.tag = tag;
  m.buffer = std::move(name);
  m.bytes = bytes;
  m.location = where;
  return m;
}

/// One rank, ZeRO-Infinity-like: gradients go device → host, the CPU runs the optimizer step,
/// the state goes host → NVMe and back, the parameters go host → device.
Program offload_program() {
  Program p;
  program::RankProgram rp;
  rp.rank = core::RankId(0);
  rp.resident.push_back(buf("master", 4e6, Location::kHost));
  rp.resident.push_back(buf("weights", 2e6, Location::kDevice, MemoryTag::kParameters));
  program::RankBuilder b(rp);
  const auto a_grad = b.alloc(buf("grad", 2e6, Location::kDevice, MemoryTag::kGradients));
  const auto a_host = b.alloc(buf("grad_host", 2e6, Location::kHost, MemoryTag::kGradients));
  const auto d2h = b.copy("grad d2h", Copy{CopyDirection::kDeviceToHost, 2e6, "grad", "grad_host"}, {a_grad, a_host});
  b.free(buf("grad", 2e6, Location::kDevice, MemoryTag::kGradients), {d2h});
  program::Compute adam;
  adam.phase = program::Phase::kOptimizer;
  adam.flops = 1e7;
  const auto step = b.host_compute("cpu adam", adam, {d2h});
  const auto a_nvme = b.alloc(buf("state_nvme", 4e6, Location::kNvme));
  const auto h2n = b.copy("state h2n", Copy{CopyDirection::kHostToNvme, 4e6, "master", "state_nvme"}, {step, a_nvme});
  const auto n2h = b.copy("state n2h", Copy{CopyDirection::kNvmeToHost, 4e6, "state_nvme", "master"}, {h2n});
  b.free(buf("state_nvme", 4e6, Location::kNvme), {n2h});
  const auto h2d = b.copy("grad h2d", Copy{CopyDirection::kHostToDevice, 2e6, "grad_host", "weights"}, {step});
  b.free(buf("grad_host", 2e6, Location::kHost, MemoryTag::kGradients), {h2d});
  p.ranks.push_back(rp);
  return p;
}


}  // namespace

TEST(ProgramLocations, CopyEndsFollowTheDirection) {
  EXPECT_EQ(program::copy_source(CopyDirection::kDeviceToHost), Location::kDevice);
  EXPECT_EQ(program::copy_destination(CopyDirection::kDeviceToHost), Location::kHost);
  EXPECT_EQ(program::copy_source(CopyDirection::kHostToDevice), Location::kHost);
  EXPECT_EQ(program::copy_destination(CopyDirection::kHostToDevice), Location::kDevice);
  EXPECT_EQ(program::copy_source(CopyDirection::kHostToNvme), Location::kHost);
  EXPECT_EQ(program::copy_destination(CopyDirection::kHostToNvme), Location::kNvme);
  EXPECT_EQ(program::copy_source(CopyDirection::kNvmeToHost), Location::kNvme);
  EXPECT_EQ(program::copy_destination(CopyDirection::kNvmeToHost), Location::kHost);
}

TEST(ProgramLocations, ValidProgramRoundTripsThroughJson) {
  const Program p = offload_program();
  EXPECT_EQ(validation_error(p), "");
  const core::Json j = program::to_json(p);
  const auto& ops = j.at("ranks").at(0).at("ops");
  EXPECT_EQ(ops.at(2).at("src"), "grad");
  EXPECT_EQ(ops.at(2).at("dst"), "grad_host");
  EXPECT_EQ(ops.at(4).at("stream"), "host");
  EXPECT_EQ(ops.at(5).at("location"), "nvme");
  EXPECT_EQ(j.at("ranks").at(0).at("resident").at(0).at("location"), "host");
  // Device buffers keep their pre-location form.
  EXPECT_FALSE(j.at("ranks").at(0).at("resident").at(1).contains("location"));
  EXPECT_EQ(program::from_json(j), p);
}

TEST(ProgramLocations, OldFilesReadAsDeviceBuffersAndAnonymousCopies) {
  const core::Json old = core::Json::parse(R"({
    "format": "frugalsim-program", "version": 1, "groups": [],
    "ranks": [{"rank": 0, "gpu": 0,
               "resident": [{"tag": "parameters", "buffer": "w", "bytes": 100}],
               "ops": [{"id": 0, "kind": "alloc", "stream": "compute", "tag": "buffers", "buffer": "b", "bytes": 8},
                       {"id": 1, "kind": "copy", "stream": "copy", "direction": "device_to_host", "bytes": 8},
                       {"id": 2, "kind": "free", "stream": "compute", "tag": "buffers", "buffer": "b", "bytes": 8}]}]})");
  const Program p = program::from_json(old, "old.json");
  EXPECT_EQ(p.ranks[0].resident[0].location, Location::kDevice);
  EXPECT_EQ(p.ranks[0].ops[0].memory().location, Location::kDevice);
  EXPECT_TRUE(p.ranks[0].ops[1].copy().src.empty());
  EXPECT_TRUE(p.ranks[0].ops[1].copy().dst.empty());
  EXPECT_EQ(program::to_json(p).at("ranks").at(0).at("ops").at(1).count("src"), 0u);
}

TEST(ProgramLocations, UnknownLocationListsTheValidOnes) {
  core::Json j = program::to_json(offload_program());
  j["ranks"][0]["resident"][0]["location"] = "tape";
  try {
    program::from_json(j, "p.json");
    FAIL() << "accepted an unknown location";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/ranks/0/resident/0/location");
    EXPECT_NE(e.message().find("device, host, nvme"), std::string::npos) << e.message();
  }
}

TEST(ProgramLocations, CopyOfABufferNotAllocated) {
  Program p = offload_program();
  auto& c = std::get<Copy>(p.ranks[0].ops[2].payload);
  c.src = "nothing";
  EXPECT_EQ(validation_error(p), "/ranks/0/ops/2/src: copy of buffer \"nothing\" that is not allocated");
}

TEST(ProgramLocations, CopyAfterItsSourceWasFreed) {
  Program p = offload_program();
  // Op 3 frees "grad"; a second device → host copy of it after that reads freed memory.
  program::RankBuilder(p.ranks[0]).copy("late", Copy{CopyDirection::kDeviceToHost, 2e6, "grad", "master"});
  EXPECT_EQ(validation_error(p), "/ranks/0/ops/11/src: copy of buffer \"grad\" that is not allocated");
}

TEST(ProgramLocations, CopyFromTheWrongLocation) {
  Program p = offload_program();
  std::get<Copy>(p.ranks[0].ops[2].payload).direction = CopyDirection::kHostToDevice;
  EXPECT_EQ(validation_error(p),
            "/ranks/0/ops/2/src: buffer \"grad\" is in device memory, but a host_to_device copy reads from host");
  p = offload_program();
  std::get<Copy>(p.ranks[0].ops[2].payload).dst = "weights";
  EXPECT_EQ(validation_error(p),
            "/ranks/0/ops/2/dst: buffer \"weights\" is in device memory, but a device_to_host copy writes to host");
}

TEST(ProgramLocations, CopySizeMustMatchBothBuffers) {
  Program p = offload_program();
  std::get<Copy>(p.ranks[0].ops[2].payload).bytes = 1e6;
  EXPECT_EQ(validation_error(p),
            "/ranks/0/ops/2/bytes: copy of 1000000.000000 bytes, but buffer \"grad\" holds 2000000.000000 bytes");
}

TEST(ProgramLocations, CopyNamesBothBuffersOrNeither) {
  Program p = offload_program();
  std::get<Copy>(p.ranks[0].ops[2].payload).dst.clear();
  EXPECT_EQ(validation_error(p),
            "/ranks/0/ops/2: a copy names both its source and destination buffers (src, dst) or neither");
  p = offload_program();
  std::get<Copy>(p.ranks[0].ops[2].payload).dst = "grad";
  EXPECT_EQ(validation_error(p), "/ranks/0/ops/2/dst: a copy's source and destination are the same buffer");
}

TEST(ProgramLocations, CopiesRunOnTheCopyStream) {
  Program p = offload_program();
  p.ranks[0].ops[2].stream = program::Stream::kCompute;
  EXPECT_EQ(validation_error(p), "/ranks/0/ops/2/stream: a copy runs on the copy stream (not compute)");
}

TEST(ProgramLocations, HostStreamHoldsComputeAllocAndFreeOnly) {
  Program p = offload_program();
  p.ranks[0].ops[2].stream = program::Stream::kHost;
  EXPECT_EQ(validation_error(p), "/ranks/0/ops/2/stream: the host stream holds compute, alloc and free ops only (this op is copy)");
  p = offload_program();
  p.ranks[0].ops[0].stream = program::Stream::kHost;  // an alloc there is fine
  EXPECT_EQ(validation_error(p), "");
}

TEST(ProgramLocations, FreeNamesTheLocationOfItsAlloc) {
  Program p = offload_program();
  std::get<Memory>(p.ranks[0].ops[3].payload).location = Location::kHost;
  EXPECT_EQ(validation_error(p),
            "/ranks/0/ops/3/location: free of buffer \"grad\" in host memory, but it was allocated in device memory");
}

TEST(ProgramLocations, LedgerPeaksPerLocation) {
  const auto ledger = program::static_memory_profile(offload_program().ranks[0]);
  // Device: weights 2e6 + grad 2e6 (freed after the copy); host: master 4e6 + grad_host 2e6;
  // NVMe: state 4e6.
  EXPECT_DOUBLE_EQ(ledger.peak_bytes(), 4e6);
  EXPECT_DOUBLE_EQ(ledger.peak_bytes(Location::kDevice), 4e6);
  EXPECT_DOUBLE_EQ(ledger.peak_bytes(Location::kHost), 6e6);
  EXPECT_DOUBLE_EQ(ledger.peak_bytes(Location::kNvme), 4e6);
  EXPECT_DOUBLE_EQ(ledger.current_bytes(Location::kHost), 4e6);
  EXPECT_DOUBLE_EQ(ledger.current_bytes(Location::kNvme), 0);
  // The device breakdown counts device buffers only.
  EXPECT_DOUBLE_EQ(ledger.peak_breakdown().at(MemoryTag::kParameters), 2e6);
  EXPECT_DOUBLE_EQ(ledger.peak_breakdown().at(MemoryTag::kGradients), 2e6);
  EXPECT_EQ(ledger.peak_breakdown().count(MemoryTag::kOptimizer), 0u);
}

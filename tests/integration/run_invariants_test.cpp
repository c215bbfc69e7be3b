// The simulation's invariants: each check accepts what a correct run produces and refuses a
// violation with an internal error that names the op (the engine runs them on every simulation,
// so every other test of the suite is a run where they hold).
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>

#include "sim/core/error.hpp"
#include "sim/engine/run_invariants.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal::engine::invariants {
namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::InternalError& e) {
    return e.what();
  }
  return "";
}

program::Memory buffer(const std::string& name, double bytes, program::Location where = program::Location::kDevice) {
  program::Memory m;
  m.buffer = name;
  m.bytes = bytes;
  m.location = where;
  return m;
}

program::Op alloc_op(const std::string& name, const program::Memory& m) {
  program::Op op;
  op.kind = program::OpKind::kAlloc;
  op.name = name;
  op.payload = m;
  return op;
}

TEST(RunInvariants, PayloadsCarryTheBytesSent) {
  for (std::uint64_t bytes : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1} << 40,
                              std::numeric_limits<std::uint64_t>::max() - 1}) {
    EXPECT_NE(carry(bytes), nullptr) << "SimGrid refuses null payloads";
    EXPECT_EQ(carried(carry(bytes)), bytes);
  }
  EXPECT_NO_THROW(check_received(4096, 4096, "rank 1 on mailbox p0>1.7"));
  const std::string m = message_of([] { check_received(2048, 4096, "rank 1 on mailbox p0>1.7"); });
  EXPECT_NE(m.find("rank 1 on mailbox p0>1.7 received 2048 bytes where it expected 4096"), std::string::npos) << m;
}

TEST(RunInvariants, TimeRunsForwardOnAStream) {
  int described = 0;
  auto name = [&] {
    ++described;
    return std::string("rank 3 stream compute iteration 0 op 7 \"fwd\" (compute)");
  };
  EXPECT_NO_THROW(check_op_times(1.0, 1.0, 2.0, name));
  EXPECT_NO_THROW(check_op_times(1.0, 1.5, 1.5, name));
  EXPECT_EQ(described, 0) << "the op is described only on a violation";
  std::string m = message_of([&] { check_op_times(1.0, 0.5, 2.0, name); });
  EXPECT_NE(m.find("op 7 \"fwd\" (compute) starts at 0.5 s, before the previous op of its stream ended (1 s)"),
            std::string::npos)
      << m;
  m = message_of([&] { check_op_times(0.0, 2.0, 1.0, name); });
  EXPECT_NE(m.find("ends at 1 s, before it starts (2 s)"), std::string::npos) << m;
}

TEST(RunInvariants, MemoryAllocatedInAnIterationIsFreed) {
  program::RankProgram rank;
  rank.resident = {buffer("weights", 1000)};
  const program::Memory act = buffer("act0", 64);
  rank.ops = {alloc_op("alloc act0", act)};
  program::MemoryLedger ledger;
  ledger.alloc(rank.resident[0]);
  ledger.alloc(act);
  const std::string m = message_of([&] { check_memory_released(ledger, rank, "rank 2"); });
  EXPECT_NE(m.find("rank 2 ends with buffer \"act0\" (64 bytes, allocated by op 0 \"alloc act0\") still live"),
            std::string::npos)
      << m;
  ledger.free(act);
  EXPECT_NO_THROW(check_memory_released(ledger, rank, "rank 2"));
}

TEST(RunInvariants, EnergyIsAtLeastIdlePowerTimesTime) {
  EXPECT_NO_THROW(check_energy(1000.0, 100.0, 10.0, "rank 0's GPU"));
  EXPECT_NO_THROW(check_energy(0.0, 0.0, 10.0, "rank 0's GPU"));
  const std::string m = message_of([] { check_energy(999.0, 100.0, 10.0, "rank 0's GPU (host node0-gpu0)"); });
  EXPECT_NE(m.find("rank 0's GPU (host node0-gpu0) consumed 999 J in 10 s, less than its idle power (100 W)"),
            std::string::npos)
      << m;
}

// The engine runs the checks: programs that the validator would refuse (simulate() does not
// validate) break them on purpose. One simulation per process: one per TEST.

TEST(RunInvariants, AMismatchedSendAndRecvStopsTheRunNamingTheReceivingOp) {
  program::Program p = testing::make_program(2);
  testing::add_send(p.ranks[0], 1, 7, 1000);
  testing::add_recv(p.ranks[1], 0, 7, 500);
  const std::string m = message_of([&] { engine::simulate(testing::single_node_cluster(2, {100e9, 1e-6}), p, {}); });
  EXPECT_NE(m.find("rank 1 stream"), std::string::npos) << m;
  EXPECT_NE(m.find("op 0"), std::string::npos) << m;
  EXPECT_NE(m.find("received 1000 bytes where it expected 500"), std::string::npos) << m;
}

TEST(RunInvariants, ABufferNeverFreedStopsTheRunNamingItsAlloc) {
  program::Program p = testing::make_program(1);
  program::RankBuilder(p.ranks[0]).add(program::OpKind::kAlloc, program::Stream::kCompute, "alloc scratch", {},
                                       buffer("scratch", 4096));
  const std::string m = message_of([&] { engine::simulate(testing::single_node_cluster(2, {100e9, 1e-6}), p, {}); });
  EXPECT_NE(m.find("rank 0 ends with buffer \"scratch\" (4096 bytes, allocated by op 0 \"alloc scratch\") still live"),
            std::string::npos)
      << m;
}

}  // namespace
}  // namespace frugal::engine::invariants

// Program IR: JSON round trip and the validation errors a malformed program must give.
#include <gtest/gtest.h>

#include "sim/program/memory_ledger.hpp"
#include "sim/program/program.hpp"
#include "tests/support/validation.hpp"

using namespace frugal;
using test_support::validation_error;
using program::Program;

namespace {

/// Two ranks: compute, then an all-reduce, a send/recv pair and a copy.
Program two_rank_program() {
  Program p;
  p.groups.push_back({"dp", {core::RankId(0), core::RankId(1)}});
  for (int r = 0; r < 2; ++r) {
    program::RankProgram rp;
    rp.rank = core::RankId(r);
    rp.gpu = r;
    rp.resident.push_back({program::MemoryTag::kParameters, "weights", 1e6});
    program::RankBuilder b(rp);
    b.alloc({program::MemoryTag::kActivations, "act", 5e5});
    auto c = b.compute("fwd", {program::Phase::kForward, "layer_0", 1e9, 1e6, {{128, 256, 64, 1}}});
    b.collective("ar", {program::CollectiveKind::kAllReduce, program::CollectiveAlgorithm::kRing, 0, 0, 4096, {}}, {c});
    b.add(r == 0 ? program::OpKind::kSend : program::OpKind::kRecv, program::Stream::kComm, "p2p", {c},
          program::PointToPoint{core::RankId(1 - r), 7, 1024});
    b.add(program::OpKind::kCopy, program::Stream::kCopy, "offload", {}, program::Copy{program::CopyDirection::kDeviceToHost, 2048});
    b.free({program::MemoryTag::kActivations, "act", 5e5});
    p.ranks.push_back(rp);
  }
  p.metadata = {{"model", "test"}};
  return p;
}


}  // namespace

TEST(Program, JsonRoundTripIsEqual) {
  const Program p = two_rank_program();
  EXPECT_EQ(validation_error(p), "");
  const Program back = program::from_json(core::Json::parse(program::to_json(p).dump()), "x");
  EXPECT_EQ(back, p);
}

TEST(Program, RejectsUnknownOpKind) {
  auto j = program::to_json(two_rank_program());
  j["ranks"][0]["ops"][1]["kind"] = "teleport";
  try {
    program::from_json(j, "prog.json");
    FAIL() << "no error";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/ranks/0/ops/1/kind");
    EXPECT_NE(e.message().find("valid: compute"), std::string::npos) << e.message();
  }
}

TEST(Program, RejectsMissingAndForwardDependencies) {
  Program p = two_rank_program();
  p.ranks[0].ops[1].deps = {core::OpId(99)};
  EXPECT_EQ(validation_error(p), "/ranks/0/ops/1/deps: dependency on op 99, which does not exist");
  p.ranks[0].ops[1].deps = {core::OpId(3)};  // a later op: would allow a cycle
  EXPECT_NE(validation_error(p).find("does not precede it"), std::string::npos);
}

TEST(Program, RejectsRankOutOfRangeAndUnmatchedCalls) {
  Program p = two_rank_program();
  p.groups[0].ranks.push_back(core::RankId(5));
  EXPECT_NE(validation_error(p).find("/groups/0/ranks: rank 5 out of range"), std::string::npos);

  p = two_rank_program();
  p.ranks[1].ops[2].payload = program::Collective{program::CollectiveKind::kAllReduce, program::CollectiveAlgorithm::kRing, 0, 0, 8192, {}};
  EXPECT_NE(validation_error(p).find("differs"), std::string::npos);

  p = two_rank_program();
  p.ranks[1].ops[3].payload = program::PointToPoint{core::RankId(0), 8, 1024};
  EXPECT_NE(validation_error(p).find("no matching"), std::string::npos);
}

TEST(Program, RejectsLeakedAndDoubleFreedBuffers) {
  Program p = two_rank_program();
  p.ranks[0].ops.pop_back();
  EXPECT_NE(validation_error(p).find("never freed"), std::string::npos);
  p = two_rank_program();
  p.ranks[0].ops[5].payload = program::Memory{program::MemoryTag::kActivations, "other", 1};
  EXPECT_NE(validation_error(p).find("not allocated"), std::string::npos);
}

TEST(MemoryLedger, TracksPeakAndBreakdown) {
  const Program p = two_rank_program();
  const auto ledger = program::static_memory_profile(p.ranks[0]);
  EXPECT_DOUBLE_EQ(ledger.peak_bytes(), 1.5e6);
  EXPECT_DOUBLE_EQ(ledger.current_bytes(), 1e6);
  EXPECT_DOUBLE_EQ(ledger.peak_breakdown().at(program::MemoryTag::kActivations), 5e5);
  EXPECT_DOUBLE_EQ(ledger.peak_breakdown().at(program::MemoryTag::kParameters), 1e6);
}

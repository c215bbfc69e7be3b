// A program that cannot finish (a collective one member never calls, a recv with no send)
// throws core::InternalError naming the stuck rank, stream and op; the process does not abort.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include "sim/core/error.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/support/small_cluster.hpp"

namespace frugal {
namespace {

using ::testing::HasSubstr;

std::string deadlock_message(const program::Program& p) {
  try {
    engine::simulate(testing::single_node_cluster(2, {100e9, 1e-6}), p, {});
  } catch (const core::InternalError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Deadlock, CollectiveMissingOnOneMember) {
  program::Program p = testing::make_program(2);
  const int world = testing::add_world_group(p);
  program::RankBuilder b0(p.ranks[0]);
  const auto c = b0.compute("fwd", testing::compute_op(1e12));
  b0.collective("grads", testing::collective(program::CollectiveKind::kAllReduce, world, 3, 1e6), {c});
  program::RankBuilder(p.ranks[1]).compute("fwd", testing::compute_op(1e12));
  const std::string msg = deadlock_message(p);
  EXPECT_THAT(msg, HasSubstr("deadlock"));
  EXPECT_THAT(msg, HasSubstr("1 of 2 ranks"));
  EXPECT_THAT(msg, HasSubstr("rank 0 stream comm iteration 0: op 1 \"grads\" (collective all_reduce, group 0"));
  EXPECT_THAT(msg, HasSubstr("instance 3"));
}

TEST(Deadlock, RecvWithoutSendAndWaitingDependency) {
  program::Program p = testing::make_program(2);
  const auto r = testing::add_recv(p.ranks[1], 0, 9, 1e6);
  program::RankBuilder(p.ranks[1]).compute("after", testing::compute_op(1e12), {r});
  const std::string msg = deadlock_message(p);
  EXPECT_THAT(msg, HasSubstr("rank 1 stream comm iteration 0: op 0 \"recv\" (recv from rank 0, tag 9"));
  EXPECT_THAT(msg, HasSubstr("rank 1 stream compute iteration 0: op 1 \"after\" (compute) waiting for dependencies: op 0"));
}

}  // namespace
}  // namespace frugal

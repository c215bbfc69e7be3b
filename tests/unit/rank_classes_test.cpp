// Compact programs (rank classes lowered once): expansion equals lowering every rank, the JSON
// form round-trips, and validation without expansion catches what expanded validation would.
#include <gtest/gtest.h>

#include "sim/program/memory_ledger.hpp"
#include "sim/program/rank_classes.hpp"
#include "tests/support/programs.hpp"
#include "tests/support/validation.hpp"

using namespace frugal;
using test_support::validation_error;

namespace {

struct Lowered {
  program::Program full, compact;
};

Lowered lower_both(core::Json params, int nodes = 2, std::int64_t batch = 16) {
  auto model = test_support::tiny_model();
  model.num_hidden_layers = 4;
  const auto setup = test_support::tiny_setup(batch, 1);
  const auto plan = test_support::megatron_plan(model, test_support::dgx_nodes(nodes), setup, std::move(params));
  return {policies::lower(plan, model, setup), policies::lower_compact(plan, model, setup)};
}


}  // namespace

TEST(RankClasses, ExpansionEqualsLoweringEveryRank) {
  for (const core::Json& params :
       {core::Json{{"tensor_model_parallel_size", 2}, {"pipeline_model_parallel_size", 2}, {"zero_stage", 1}},
        core::Json{{"tensor_model_parallel_size", 4}, {"sequence_parallel", true}, {"zero_stage", 3}},
        core::Json{{"pipeline_model_parallel_size", 4}, {"virtual_pipeline_model_parallel_size", 1}, {"schedule", "gpipe"}},
        core::Json{{"pipeline_model_parallel_size", 2}, {"virtual_pipeline_model_parallel_size", 2}, {"rank_order", "tp-pp-dp"}},
        core::Json{{"context_parallel_size", 2}, {"pipeline_model_parallel_size", 2}, {"zero_stage", 2}}}) {
    const auto l = lower_both(params);
    ASSERT_TRUE(l.compact.compact()) << params.dump();
    EXPECT_EQ(validation_error(l.compact), "") << params.dump();
    EXPECT_EQ(program::expand(l.compact), l.full) << params.dump();
    std::size_t lowered = 0;
    for (const auto& rp : l.compact.ranks) lowered += rp.represented_by.valid() ? 0 : 1;
    EXPECT_EQ(lowered, l.compact.classes.size()) << params.dump();
    EXPECT_EQ(program::from_json(program::to_json(l.compact)), l.compact) << params.dump();
    // A member's memory profile is its representative's.
    const program::ClassView view(l.compact);
    for (const auto& rp : l.full.ranks)
      EXPECT_EQ(program::static_memory_profile(view.lowered(rp.rank)).peak_bytes(), program::static_memory_profile(rp).peak_bytes());
  }
}

TEST(RankClasses, StreamedJsonEqualsTheDocument) {
  const auto l = lower_both({{"tensor_model_parallel_size", 2}, {"pipeline_model_parallel_size", 2}});
  for (bool expand : {false, true}) {
    std::ostringstream streamed;
    program::write_program_json(l.compact, streamed, expand);
    EXPECT_EQ(streamed.str(), program::to_json(expand ? l.full : l.compact).dump() + "\n");
  }
}

TEST(RankClasses, ValidationFindsBrokenClasses) {
  // Tied embeddings (the tiny model ties them) pair the first and last pipeline stages, which
  // are different classes: their all-reduce must agree.
  const auto base = lower_both({{"pipeline_model_parallel_size", 2}}).compact;
  ASSERT_EQ(validation_error(base), "");
  {
    auto p = base;
    for (auto& op : p.ranks[0].ops)
      if (op.name.rfind("allreduce tied embedding", 0) == 0) std::get<program::Collective>(op.payload).bytes *= 2;
    EXPECT_NE(validation_error(p).find("differ"), std::string::npos) << validation_error(p);
  }
  {
    auto p = base;
    for (auto& op : p.ranks[0].ops)
      if (op.kind == program::OpKind::kSend) {
        std::get<program::PointToPoint>(op.payload).tag += 1000;
        break;
      }
    EXPECT_NE(validation_error(p).find("do not match its receives"), std::string::npos) << validation_error(p);
  }
  {
    auto p = base;  // a member mapped to a group that does not hold it
    auto& member = p.classes[0].members[0];
    member.groups[0].second = p.classes[1].members[0].groups[0].second;
    EXPECT_NE(validation_error(p).find("does not hold rank"), std::string::npos) << validation_error(p);
  }
  {
    auto p = base;  // a represented rank that is in no class
    p.classes[0].members.pop_back();
    EXPECT_NE(validation_error(p).find("in no class"), std::string::npos) << validation_error(p);
  }
  {
    auto p = base;  // the representative's own checks still apply
    p.ranks[0].ops[3].deps.push_back(core::OpId(5));
    EXPECT_EQ(validation_error(p).rfind("/ranks/0/ops/3/deps", 0), 0u) << validation_error(p);
  }
}

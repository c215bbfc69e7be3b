// One test per lowering pass (policies/lowering/passes): what each pass adds to a rank's
// program, against the closed forms of its concern.
#include <algorithm>

#include <gtest/gtest.h>

#include "policies/lowering/lowering.hpp"
#include "policies/model_state.hpp"
#include "policies/schedule.hpp"
#include "sim/program/memory_ledger.hpp"
#include "tests/support/programs.hpp"
#include "workloads/layer_chain.hpp"

using namespace frugal;
using program::CollectiveKind;
using program::OpKind;

namespace {

struct Case {
  workloads::ModelSpec model = test_support::tiny_model();
  policies::TrainingSetup setup = test_support::tiny_setup(16, 1);
  policies::Plan plan;
  program::Program prog;
  Case(core::Json params, int nodes = 1, const std::string& memory = "none", int layers = 4,
       policies::TrainingSetup training = test_support::tiny_setup(16, 1)) {
    model.num_hidden_layers = layers;
    setup = training;
    plan = test_support::megatron_plan(model, test_support::dgx_nodes(nodes), setup, std::move(params), memory);
    prog = policies::lower(plan, model, setup);
    program::validate(prog);
  }
  const program::Group& group_of(const program::Op& op) const {
    return prog.groups[static_cast<std::size_t>(op.collective().group)];
  }
  /// Collectives of rank r whose group name starts with `prefix`.
  std::vector<const program::Op*> collectives(int r, const std::string& prefix) const {
    std::vector<const program::Op*> out;
    for (const auto& op : prog.ranks[static_cast<std::size_t>(r)].ops)
      if (op.kind == OpKind::kCollective && group_of(op).name.rfind(prefix, 0) == 0) out.push_back(&op);
    return out;
  }
  double chain_parameters() const {
    return workloads::build_layer_chain(model, setup.seq_length, setup.precision, plan.shard).parameters();
  }
  /// Bytes per parameter of the plan's model-state convention (megatron's unless asked).
  policies::ModelStateBytes state() const { return policies::model_state_bytes(setup.precision, plan.state_convention); }
};

}  // namespace

TEST(PipelinePass, EveryMicroBatchCrossesEveryStageBoundaryBothWays) {
  const Case c(core::Json{{"pipeline_model_parallel_size", 4}});  // d = 2, 8 micro-batches per replica
  const int m = static_cast<int>(c.plan.ranks[0].micro_batches.size());
  for (int r = 0; r < 8; ++r) {
    const int stage = c.plan.stage_of(core::RankId(r));
    int sends = 0, recvs = 0;
    for (const auto& op : c.prog.ranks[static_cast<std::size_t>(r)].ops) {
      if (op.kind == OpKind::kSend) {
        ++sends;
        EXPECT_EQ(op.stream, program::Stream::kComm);
        EXPECT_EQ(std::abs(c.plan.stage_of(op.p2p().peer) - stage), 1);
      }
      if (op.kind == OpKind::kRecv) {
        ++recvs;
        EXPECT_EQ(op.stream, program::Stream::kCompute);
      }
    }
    const int boundaries = (stage > 0) + (stage < 3);
    EXPECT_EQ(sends, boundaries * m) << "rank " << r;
    EXPECT_EQ(recvs, boundaries * m) << "rank " << r;
  }
}

TEST(PipelinePass, ScatterGatherSendsSlicesAndGathersThemOnArrival) {
  for (const bool sp : {false, true}) {
    for (const bool scatter : {false, true}) {
      const Case c(core::Json{{"pipeline_model_parallel_size", 2}, {"tensor_model_parallel_size", 2},
                              {"sequence_parallel", sp}, {"scatter_gather_tensors_in_pipeline", scatter}});
      const double whole = static_cast<double>(c.setup.seq_length * c.model.hidden_size) * 2.0;  // s·b·h, bf16, b = 1
      const bool sliced = scatter && !sp;
      EXPECT_EQ(c.plan.scatters_pipeline_tensors(), sliced);
      const auto& ops = c.prog.ranks[0].ops;
      int recvs = 0, gathers = 0;
      for (const auto& op : ops) {
        if (op.kind == OpKind::kSend || op.kind == OpKind::kRecv) {
          EXPECT_DOUBLE_EQ(op.p2p().bytes, sliced || sp ? whole / 2 : whole) << op.name;
        }
        if (op.kind == OpKind::kRecv) ++recvs;
        if (op.kind == OpKind::kCollective && op.name.rfind("pp allgather ", 0) == 0) {
          ++gathers;
          EXPECT_EQ(c.group_of(op).name.rfind("tp", 0), 0u);
          EXPECT_DOUBLE_EQ(op.collective().bytes, whole);
          ASSERT_EQ(op.deps.size(), 1u);
          EXPECT_EQ(ops[static_cast<std::size_t>(op.deps[0].value)].kind, OpKind::kRecv);
        }
      }
      EXPECT_GT(recvs, 0);
      EXPECT_EQ(gathers, sliced ? recvs : 0);
    }
  }
}

TEST(PipelinePass, OverlapP2pCommPostsEachReceiveAfterThePreviousUnitOfItsDirection) {
  // Interleaved (p = 2, v = 2, 4 micro-batches per replica): Megatron-Core posts a unit's receive
  // with the previous same-direction unit's send (the first backward's after the last warm-up
  // forward); the unit's first compute op waits for it and for the previous same-direction unit's
  // send. A unit with no such predecessor (a stage's first forward) receives on the compute stream
  // as without the flag.
  const Case c(core::Json{{"pipeline_model_parallel_size", 2}, {"virtual_pipeline_model_parallel_size", 2},
                          {"overlap_p2p_comm", true}},
               1, "none", 8);
  ASSERT_TRUE(c.plan.overlap_p2p_comm);
  const auto chain = workloads::build_layer_chain(c.model, c.setup.seq_length, c.setup.precision, c.plan.shard);
  const int n_layers = static_cast<int>(chain.layers.size()), p = 2, v = 2;
  for (const int stage : {0, 1}) {
    int r = 0;
    while (c.plan.stage_of(core::RankId(r)) != stage) ++r;
    const auto& ops = c.prog.ranks[static_cast<std::size_t>(r)].ops;
    const int m = static_cast<int>(c.plan.ranks[static_cast<std::size_t>(r)].micro_batches.size());
    ASSERT_EQ(m, 4);
    const auto units = policies::pipeline_schedule(c.plan.schedule, stage, p, m, v);
    const auto find = [&](const std::string& name) -> const program::Op* {
      for (const auto& op : ops)
        if (op.name == name) return &op;
      return nullptr;
    };
    // A unit's first and last compute op: its first and last layer in the direction it runs.
    const auto compute_name = [&](const policies::ScheduleUnit& u, bool last) {
      const auto [first, end] = policies::stage_layers(c.plan, u.chunk * p + stage, n_layers);
      const int layer = u.forward == last ? end - 1 : first;
      return std::string(u.forward ? "fwd " : "bwd ") + chain.layers[static_cast<std::size_t>(layer)].name + " mb" +
             std::to_string(u.micro_batch);
    };
    // The message that arrives at virtual stage `vs` for micro-batch `mb` (the pass's tags), and this rank's op of `kind` carrying it.
    const auto message = [&](OpKind kind, int mb, int vs, bool forward) -> const program::Op* {
      const std::int64_t tag = ((static_cast<std::int64_t>(mb) * p * v + vs) * 2) + (forward ? 0 : 1);
      const program::Op* found = nullptr;
      for (const auto& op : ops)
        if (op.kind == kind && op.p2p().tag == tag) found = &op;
      return found;
    };
    int posted = 0, blocking = 0;
    for (std::size_t i = 0; i < units.size(); ++i) {
      const auto& u = units[i];
      const int vs = u.chunk * p + stage;
      if ((u.forward && vs == 0) || (!u.forward && vs == p * v - 1)) continue;  // nothing to receive
      const program::Op* recv = message(OpKind::kRecv, u.micro_batch, vs, u.forward);
      ASSERT_NE(recv, nullptr) << "rank " << r << " unit " << i;
      const bool same = i >= 1 && units[i - 1].forward == u.forward;
      if (!same && i < 2) {
        ++blocking;
        EXPECT_EQ(recv->stream, program::Stream::kCompute) << recv->name;
        EXPECT_FALSE(recv->p2p().posted_ahead) << recv->name;
        continue;
      }
      ++posted;
      EXPECT_EQ(recv->stream, program::Stream::kComm) << recv->name;
      EXPECT_TRUE(recv->p2p().posted_ahead) << recv->name;
      const program::Op* after = find(compute_name(units[i - (same ? 1 : 2)], true));
      ASSERT_NE(after, nullptr);
      ASSERT_EQ(recv->deps.size(), 1u) << recv->name;
      EXPECT_EQ(recv->deps[0], after->id) << recv->name << " posted after " << ops[recv->deps[0].value].name;
      const program::Op* consumer = find(compute_name(u, false));
      ASSERT_NE(consumer, nullptr);
      EXPECT_NE(std::find(consumer->deps.begin(), consumer->deps.end(), recv->id), consumer->deps.end()) << consumer->name;
    }
    EXPECT_EQ(blocking, stage) << "rank " << r;  // stage 1's first forward
    EXPECT_EQ(posted, 2 * m * v - m - blocking) << "rank " << r;  // every unit receives but m
    // Each unit's compute also waits for the send of the previous unit of its direction.
    int waits = 0;
    for (std::size_t i = 1; i < units.size(); ++i) {
      std::size_t j = i;
      while (j > 0 && units[j - 1].forward != units[i].forward) --j;
      if (j == 0) continue;
      const auto& prev = units[j - 1];
      const int vs = prev.chunk * p + stage, to = prev.forward ? vs + 1 : vs - 1;
      if (to < 0 || to >= p * v) continue;  // the last (first) virtual stage sends no activations (gradients)
      const program::Op* send = message(OpKind::kSend, prev.micro_batch, to, prev.forward);
      ASSERT_NE(send, nullptr) << "rank " << r << " unit " << j - 1;
      const program::Op* consumer = find(compute_name(units[i], false));
      ASSERT_NE(consumer, nullptr);
      EXPECT_NE(std::find(consumer->deps.begin(), consumer->deps.end(), send->id), consumer->deps.end())
          << consumer->name << " does not wait for " << send->name;
      ++waits;
    }
    // Every unit sends but m; here exactly one direction's last unit sends, and nothing waits for that.
    EXPECT_EQ(waits, 2 * m * v - m - 1) << "rank " << r;
  }
  // Megatron-Core posts ahead in its interleaved schedule only: with v = 1 the flag is off.
  const Case plain(core::Json{{"pipeline_model_parallel_size", 2}, {"overlap_p2p_comm", true}});
  EXPECT_FALSE(plain.plan.overlap_p2p_comm);
  for (const auto& op : plain.prog.ranks[0].ops) {
    if (op.kind == OpKind::kRecv) { EXPECT_EQ(op.stream, program::Stream::kCompute); }
  }
}

TEST(TensorParallelPass, TwoAllReducesPerLayerOrTwoGatherScatterPairsWithSequenceParallelism) {
  for (bool sp : {false, true}) {
    const Case c(core::Json{{"tensor_model_parallel_size", 2}, {"sequence_parallel", sp}});
    const auto ops = c.collectives(0, "tp/");
    const int mbs = static_cast<int>(c.plan.ranks[0].micro_batches.size());
    // 4 layers, 2 blocks each; with sequence parallelism a forward block gathers and scatters, a
    // backward block also re-gathers its column-parallel input for the weight gradient.
    EXPECT_EQ(static_cast<int>(ops.size()), mbs * 4 * (sp ? 4 + 6 : 2 + 2));
    const double bytes = static_cast<double>(c.setup.seq_length * c.model.hidden_size) * 2.0;  // s·b·h in bf16, b = 1
    int regathers = 0;
    for (const auto* op : ops) {
      EXPECT_DOUBLE_EQ(op->collective().bytes, bytes);
      EXPECT_EQ(op->collective().kind == CollectiveKind::kAllReduce, !sp);
      if (op->name.rfind("tp regather ", 0) == 0) {
        ++regathers;
        EXPECT_EQ(op->collective().kind, CollectiveKind::kAllGather);
        EXPECT_NE(op->name.find(" bwd "), std::string::npos) << op->name;
      }
    }
    EXPECT_EQ(regathers, sp ? mbs * 4 * 2 : 0);
  }
}

TEST(TensorParallelPass, AsynchronousBackwardReducesBesideTheColumnParallelWeightGradients) {
  for (const bool sp : {false, true}) {
    for (const bool async : {false, true}) {
      const Case c(core::Json{{"tensor_model_parallel_size", 2}, {"sequence_parallel", sp},
                              {"async_tensor_model_parallel_allreduce", async}});
      const auto& ops = c.prog.ranks[0].ops;
      const auto chain = workloads::build_layer_chain(c.model, c.setup.seq_length, c.setup.precision, c.plan.shard);
      int split = 0;
      for (const auto& op : ops) {
        if (op.kind != OpKind::kCompute || op.name.rfind("bwd wgrad ", 0) != 0) continue;
        ++split;
        // Waits for the rest of the layer's backward, the op just before it (and, with sequence
        // parallelism, the re-gathered inputs); the two add up to the layer's backward FLOPs.
        ASSERT_EQ(op.deps.size(), sp ? 2u : 1u);
        const program::Op& rest = ops[static_cast<std::size_t>(op.deps[0].value)];
        EXPECT_EQ(rest.name, "bwd " + op.name.substr(10));
        const auto& layer = chain.layers[static_cast<std::size_t>(std::stoi(op.compute().layer.substr(6)) + 1)];
        EXPECT_DOUBLE_EQ(rest.compute().flops + op.compute().flops, layer.backward_flops);
        EXPECT_EQ(op.compute().gemms.size(), 2u);  // QKV and MLP up
        // The reductions of the input gradients (all-reduces, or reduce-scatters with sequence
        // parallelism) start after the rest, beside the weight gradients; with sequence
        // parallelism the output gradients' two all-gathers come before the rest.
        const std::string layer_mb = op.name.substr(10);  // "layer_i mbj"
        const std::string label = layer_mb.substr(0, layer_mb.find(' ')) + " bwd " + layer_mb.substr(layer_mb.find(' ') + 1) + " ";
        std::vector<const program::Op*> after, before;
        for (const auto& other : ops)
          if (other.kind == OpKind::kCollective && other.name.find(label) != std::string::npos)
            (other.id.value > rest.id.value ? after : before).push_back(&other);
        ASSERT_EQ(after.size(), 2u);
        EXPECT_EQ(after[0]->deps, op.deps);
        for (const auto* r : after)
          EXPECT_EQ(r->collective().kind, sp ? CollectiveKind::kReduceScatter : CollectiveKind::kAllReduce);
        // With sequence parallelism the output gradients' two all-gathers come before the rest
        // (it waits for them), then the two re-gathers, which only the weight gradients wait for.
        ASSERT_EQ(before.size(), sp ? 4u : 0u);
        if (sp) {
          for (const auto* g : before) EXPECT_EQ(g->collective().kind, CollectiveKind::kAllGather);
          EXPECT_NE(std::find(rest.deps.begin(), rest.deps.end(), before[1]->id), rest.deps.end());
          EXPECT_EQ(std::find(rest.deps.begin(), rest.deps.end(), before[3]->id), rest.deps.end());
          EXPECT_EQ(before[2]->name.rfind("tp regather ", 0), 0u);
          EXPECT_EQ(before[2]->deps, std::vector<core::OpId>{before[1]->id});
          EXPECT_EQ(op.deps[1], before[3]->id);
        }
      }
      const int layer_backwards = 4 * static_cast<int>(c.plan.ranks[0].micro_batches.size());
      EXPECT_EQ(split, async ? layer_backwards : 0) << (sp ? "sequence parallel" : "tensor parallel");
    }
  }
}

TEST(ZeroPass, PrefetchLayersSetsHowFarAheadEachGatherRunsAndTheWindowItHolds) {
  double peak_without = 0, resident_without = 0;
  for (int d : {0, 1, 3}) {
    const Case c(core::Json{{"zero_stage", 3}, {"prefetch_layers", d}});
    EXPECT_EQ(c.plan.prefetch_layers, d);
    // Each gather waits for the compute op d + 1 before the one it feeds (none for the first ones).
    std::vector<program::OpId> computes;
    int gathers = 0;
    for (const auto& op : c.prog.ranks[0].ops) {
      if (op.kind == OpKind::kCompute) computes.push_back(op.id);
      if (op.name.rfind("zero3 allgather", 0) != 0) continue;
      ++gathers;
      const int ahead = static_cast<int>(computes.size()) - 1 - d;
      std::vector<program::OpId> compute_deps;
      for (const program::OpId dep : op.deps)
        if (std::find(computes.begin(), computes.end(), dep) != computes.end()) compute_deps.push_back(dep);
      if (ahead < 0) {
        EXPECT_TRUE(compute_deps.empty()) << op.name << " with " << d << " layers of prefetch";
      } else {
        EXPECT_EQ(compute_deps, std::vector<program::OpId>{computes[static_cast<std::size_t>(ahead)]})
            << op.name << " with " << d << " layers of prefetch";
      }
    }
    EXPECT_GT(gathers, 0);
    // The window: d × the largest layer's gathered bf16 weights, resident.
    double largest = 0;
    for (const auto& l : workloads::build_layer_chain(c.model, c.setup.seq_length, c.setup.precision, c.plan.shard).layers)
      largest = std::max(largest, l.parameters * 2.0);
    double window = 0;
    for (const auto& m : c.prog.ranks[0].resident)
      if (m.buffer == "zero3 prefetch window") window += m.bytes;
    EXPECT_DOUBLE_EQ(window, d * largest);
    const double peak = program::static_memory_profile(c.prog.ranks[0]).peak_bytes();
    // Resident: what a memory policy's budget leaves to activations counts it too.
    const double resident = policies::resident_device_bytes(c.plan, c.model, c.setup)[0];
    if (d == 0) peak_without = peak, resident_without = resident;
    EXPECT_NEAR(peak - peak_without, d * largest, 1e-9 * peak) << d << " layers of prefetch";
    EXPECT_NEAR(resident - resident_without, d * largest, 1e-9 * peak) << d << " layers of prefetch";
  }
  // Prefetching is ZeRO-3's: another stage refuses a depth other than the default.
  EXPECT_THROW(Case(core::Json{{"zero_stage", 1}, {"prefetch_layers", 2}}), core::ConfigError);
}

TEST(ZeroPass, StageThreeGathersEveryLayerTwiceStagesOneTwoGatherUpdatedWeights) {
  const Case z3(core::Json{{"zero_stage", 3}});
  const auto gathers = z3.collectives(0, "dp");
  int weight_gathers = 0;
  double gathered = 0;
  for (const auto* op : gathers)
    if (op->name.rfind("zero3 allgather", 0) == 0) {
      ++weight_gathers;
      gathered += op->collective().bytes;
    }
  const int m = static_cast<int>(z3.plan.ranks[0].micro_batches.size());
  EXPECT_EQ(weight_gathers, 2 * m * 6);  // embedding, 4 layers, head; forward and backward
  EXPECT_NEAR(gathered, 2.0 * m * z3.chain_parameters() * 2.0, 1e-6 * gathered);
  for (int stage : {1, 2}) {
    const Case c(core::Json{{"zero_stage", stage}});
    // The gather, then a 0-byte buffer on the compute stream that waits for it (the next
    // iteration's forward needs the weights).
    const auto& ops = c.prog.ranks[0].ops;
    ASSERT_GE(ops.size(), 3u);
    const auto& gather = ops[ops.size() - 3];
    ASSERT_EQ(gather.kind, OpKind::kCollective);
    EXPECT_EQ(gather.collective().kind, CollectiveKind::kAllGather);
    EXPECT_DOUBLE_EQ(gather.collective().bytes, c.chain_parameters() * 2.0);
    const auto& hold = ops[ops.size() - 2];
    EXPECT_EQ(hold.kind, OpKind::kAlloc);
    EXPECT_EQ(hold.stream, program::Stream::kCompute);
    EXPECT_EQ(hold.deps, std::vector<program::OpId>{gather.id});
    EXPECT_EQ(ops.back().kind, OpKind::kFree);
  }
  // Overlapped: one gather per layer before its first forward, none after the step.
  const Case overlapped(core::Json{{"zero_stage", 1}, {"overlap_param_gather", true}});
  int per_layer = 0;
  for (const auto& op : overlapped.prog.ranks[0].ops)
    if (op.kind == OpKind::kCollective && op.collective().kind == CollectiveKind::kAllGather) {
      ++per_layer;
      EXPECT_NE(op.name.find("allgather updated weights "), std::string::npos) << op.name;
    }
  EXPECT_EQ(per_layer, 6);  // embedding, 4 layers, head
}

TEST(GradientSyncPass, BucketsReduceEveryGradientOnceAfterTheLastMicroBatch) {
  for (int stage : {0, 1, 2}) {
    const Case c(core::Json{{"zero_stage", stage}, {"bucket_size", "256 KiB"}});
    double reduced = 0;
    std::size_t first_bucket = 0;
    const auto& ops = c.prog.ranks[0].ops;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind != OpKind::kCollective || ops[i].name.find("grads bucket") == std::string::npos) continue;
      reduced += ops[i].collective().bytes;
      EXPECT_EQ(ops[i].collective().kind, stage == 0 ? CollectiveKind::kAllReduce : CollectiveKind::kReduceScatter);
      if (first_bucket == 0) first_bucket = i;
    }
    // Megatron reduces its fp32 main gradients: 4 bytes per parameter in bf16 training.
    EXPECT_EQ(c.state().gradients, 4.0);
    EXPECT_NEAR(reduced, c.chain_parameters() * 4.0, 1e-9 * reduced) << "stage " << stage;
    const std::string last_mb = "mb" + std::to_string(c.plan.ranks[0].micro_batches.size() - 1);
    for (std::size_t i = 0; i < first_bucket; ++i)
      EXPECT_EQ(ops[i].name.find("bwd") != std::string::npos && ops[i].name.find(last_mb) != std::string::npos &&
                    ops[i].name.find("layer_3") == std::string::npos && ops[i].name.find("head") == std::string::npos,
                false)
          << ops[i].name;  // no bucket before the last micro-batch's backward started
  }
}

TEST(MemoryPass, ResidentStateIsShardedAndEveryActivationIsFreed) {
  for (int stage : {0, 1, 2, 3}) {
    const Case c(core::Json{{"zero_stage", stage}}, 1, "full");
    const auto& rp = c.prog.ranks[0];
    const auto expected = policies::sharded_model_state(c.chain_parameters(), c.state(), stage, 8);
    EXPECT_DOUBLE_EQ(rp.resident[0].bytes, expected.weights_bytes);
    EXPECT_DOUBLE_EQ(rp.resident[1].bytes, expected.gradients_bytes);
    EXPECT_DOUBLE_EQ(rp.resident[2].bytes, expected.optimizer_bytes);
    double allocated = 0, freed = 0;
    int recomputes = 0;
    for (const auto& op : rp.ops) {
      if (op.kind == OpKind::kAlloc && op.memory().tag == program::MemoryTag::kActivations) allocated += op.memory().bytes;
      if (op.kind == OpKind::kFree && op.memory().tag == program::MemoryTag::kActivations) freed += op.memory().bytes;
      if (op.kind == OpKind::kCompute && op.compute().phase == program::Phase::kRecompute) ++recomputes;
    }
    EXPECT_GT(allocated, 0);
    EXPECT_DOUBLE_EQ(allocated, freed);
    EXPECT_EQ(recomputes, 4 * static_cast<int>(c.plan.ranks[0].micro_batches.size()));
  }
}

TEST(OptimizerPass, AdamStepOverTheOwnShardAfterEveryGradientCollective) {
  for (int stage : {0, 1}) {
    const Case c(core::Json{{"zero_stage", stage}});
    const auto& ops = c.prog.ranks[0].ops;
    const program::Op* step = nullptr;
    std::vector<core::OpId> gradient_ops;
    for (const auto& op : ops) {
      if (op.kind == OpKind::kCollective && op.name.find("grads") != std::string::npos) gradient_ops.push_back(op.id);
      if (op.kind == OpKind::kCompute && op.compute().phase == program::Phase::kOptimizer) step = &op;
    }
    ASSERT_NE(step, nullptr);
    const double params = c.chain_parameters() / (stage >= 1 ? 8.0 : 1.0);
    EXPECT_DOUBLE_EQ(step->compute().flops, 12.0 * params);
    // bf16, megatron (fp32 main gradients): the gradient norm reads them (4 B), Adam reads the fp32
    // weight, gradient, m and v and writes weight, m and v (28 B), the weights are copied into bf16
    // (read 4, write 2); then the whole gradient buffer is zeroed (4 B per parameter held).
    EXPECT_DOUBLE_EQ(step->compute().memory_bytes, params * (4 + 28 + 6) + c.chain_parameters() * 4);
    EXPECT_EQ(step->deps, gradient_ops);
  }
}

TEST(ContextParallelPass, KeysAndValuesGatheredForwardAndReducedBackwardGradientsOverDataTimesContext) {
  const Case c(core::Json{{"context_parallel_size", 2}, {"tensor_model_parallel_size", 2}});  // d = 2
  ASSERT_EQ(c.plan.context_parallel(), 2);
  const auto cp = c.collectives(0, "cp/");
  const int m = static_cast<int>(c.plan.ranks[0].micro_batches.size());
  ASSERT_EQ(static_cast<int>(cp.size()), 2 * m * 4);  // 4 layers, forward and backward
  // K and V of the whole sequence: 2 · s · kv_dim / t elements in bf16, per sample (b = 1).
  const double kv = 2.0 * static_cast<double>(c.setup.seq_length) * static_cast<double>(c.model.kv_dim()) / 2 * 2.0;
  int gathers = 0;
  for (const auto* op : cp) {
    EXPECT_DOUBLE_EQ(op->collective().bytes, kv);
    EXPECT_EQ(c.group_of(*op).ranks.size(), 2u);
    gathers += op->collective().kind == CollectiveKind::kAllGather ? 1 : 0;
  }
  EXPECT_EQ(gathers, 4 * m);
  // Tensor-parallel activations are the rank's s/c tokens.
  for (const auto* op : c.collectives(0, "tp/"))
    EXPECT_DOUBLE_EQ(op->collective().bytes, static_cast<double>(c.setup.seq_length / 2 * c.model.hidden_size) * 2.0);
  // Gradients are reduced over the d × c ranks holding the same parameters.
  for (const auto* op : c.collectives(0, "dpcp")) EXPECT_EQ(c.group_of(*op).ranks.size(), 4u);
  EXPECT_FALSE(c.collectives(0, "dpcp").empty());
  // Every rank's FLOPs together are the model's.
  double flops = 0;
  for (const auto& rp : c.prog.ranks)
    for (const auto& op : rp.ops)
      if (op.kind == OpKind::kCompute && op.compute().phase != program::Phase::kOptimizer) flops += op.compute().flops;
  EXPECT_NEAR(flops / workloads::model_flops_per_iteration(c.model, c.setup.seq_length, 16), 1.0, 1e-9);
}

TEST(ContextParallelPass, FullRecomputationGathersTheKeysAndValuesAgainBeforeTheBackward) {
  const Case c(core::Json{{"context_parallel_size", 2}, {"tensor_model_parallel_size", 2}}, 1, "full");
  const auto& ops = c.prog.ranks[0].ops;
  const int m = static_cast<int>(c.plan.ranks[0].micro_batches.size());
  int replays = 0;
  for (const auto* op : c.collectives(0, "cp/")) {
    if (op->name.find(" recompute ") == std::string::npos) continue;
    ++replays;
    EXPECT_EQ(op->collective().kind, CollectiveKind::kAllGather);
    // After the layer's recompute op; the layer's backward waits for it.
    ASSERT_EQ(op->deps.size(), 1u);
    const program::Op& recompute = ops[static_cast<std::size_t>(op->deps[0].value)];
    ASSERT_EQ(recompute.kind, OpKind::kCompute);
    EXPECT_EQ(recompute.compute().phase, program::Phase::kRecompute);
    bool waited = false;
    for (const auto& other : ops)
      if (other.kind == OpKind::kCompute && other.compute().phase == program::Phase::kBackward)
        waited = waited || std::find(other.deps.begin(), other.deps.end(), op->id) != other.deps.end();
    EXPECT_TRUE(waited) << op->name;
  }
  EXPECT_EQ(replays, 4 * m);  // 4 layers
}

TEST(ContextParallelPass, KeyValueGradientsQueueBehindTheOverlappedTensorParallelBackward) {
  // tp_comm_overlap: a backward's tensor-parallel collectives start with its compute; the K/V
  // gradients' reduce-scatter waits for the compute, so on the shared comm stream it comes after
  // them, or they would wait behind it for the end of the compute.
  for (const bool overlap : {false, true}) {
    const Case c(core::Json{{"context_parallel_size", 2}, {"tensor_model_parallel_size", 2}, {"sequence_parallel", true},
                            {"tp_comm_overlap", overlap}});
    const std::string prefix = "cp reducescatter dkv ";
    int checked = 0;
    for (const auto* rs : c.collectives(0, "cp/")) {
      if (rs->collective().kind != CollectiveKind::kReduceScatter) continue;
      const std::string label = rs->name.substr(prefix.size(), rs->name.rfind(" #") - prefix.size());  // "layer_i bwd mbj"
      for (const auto* tp : c.collectives(0, "tp/"))
        if (tp->name.find(label + " ") != std::string::npos) {
          EXPECT_LT(tp->id.value, rs->id.value) << tp->name << " / " << rs->name;
          ++checked;
        }
    }
    EXPECT_GT(checked, 0);
  }
}

// fp8 with delayed scaling: after each unit (a micro-batch through a model chunk) one blocking max
// all-reduce of the chunk's amaxes on the compute stream, over the stage's t × d ranks (or its t
// ranks), which the next compute op and the unit's send wait for. The tiny model's layer has 4
// fp8 GEMMs (QKV, attention output, MLP up and down); each stage holds 2 of the 4 layers: 4 B ×
// 3 tensors × 4 GEMMs × 2 layers forward, 4 B × 2 × 4 × 2 backward.
TEST(Fp8ScalingPass, EachChunkReducesItsAmaxesOverTheStageAfterItsForwardAndItsBackward) {
  const core::Json layout{{"tensor_model_parallel_size", 2}, {"pipeline_model_parallel_size", 2}};  // d = 2
  auto fp8 = [](policies::AmaxReduction reduction) {
    policies::TrainingSetup s = test_support::tiny_setup(16, 1);
    s.precision = core::Precision::kFp8;
    s.fp8_amax_reduction = reduction;
    return s;
  };
  const Case c(layout, 1, "none", 4, fp8(policies::AmaxReduction::kData));
  const int m = static_cast<int>(c.plan.ranks[0].micro_batches.size());
  for (int r = 0; r < 8; ++r) {
    const auto& ops = c.prog.ranks[static_cast<std::size_t>(r)].ops;
    const auto amax = c.collectives(r, "amax/");
    ASSERT_EQ(static_cast<int>(amax.size()), 2 * m) << "rank " << r;
    int forward = 0;
    for (const auto* op : amax) {
      const auto& group = c.group_of(*op);
      EXPECT_EQ(group.name, "amax/pp" + std::to_string(c.plan.stage_of(core::RankId(r))));
      ASSERT_EQ(group.ranks.size(), 4u);
      for (const auto member : group.ranks) EXPECT_EQ(c.plan.stage_of(member), c.plan.stage_of(core::RankId(r)));
      EXPECT_EQ(op->stream, program::Stream::kCompute);
      EXPECT_EQ(op->collective().kind, CollectiveKind::kAllReduce);
      const bool fwd = op->name.find(" fwd ") != std::string::npos;
      forward += fwd ? 1 : 0;
      EXPECT_DOUBLE_EQ(op->collective().bytes, 4.0 * (fwd ? 3 : 2) * 4 * 2) << op->name;
      // The unit's send (if it sends), posted before the next compute op, and that op wait for it.
      for (std::size_t i = static_cast<std::size_t>(op->id.value) + 1; i < ops.size(); ++i) {
        const bool waits = std::find(ops[i].deps.begin(), ops[i].deps.end(), op->id) != ops[i].deps.end();
        if (ops[i].kind == OpKind::kSend) {
          EXPECT_TRUE(waits) << ops[i].name << " after " << op->name;
        }
        if (ops[i].kind != OpKind::kCompute) continue;
        EXPECT_TRUE(waits) << ops[i].name << " after " << op->name;
        break;
      }
    }
    EXPECT_EQ(forward, m);
  }
  // Over the tensor-parallel ranks only (tp_only_amax_red): groups of t.
  const Case tensor(layout, 1, "none", 4, fp8(policies::AmaxReduction::kTensor));
  const auto amax = tensor.collectives(0, "amax/");
  ASSERT_EQ(static_cast<int>(amax.size()), 2 * m);
  EXPECT_EQ(tensor.group_of(*amax.front()).ranks, tensor.plan.layout.group({policies::Dim::kTensor}, core::RankId(0)));
  // No reduction: asked for none, a 16-bit job, or a stage of one rank.
  EXPECT_TRUE(Case(layout, 1, "none", 4, fp8(policies::AmaxReduction::kNone)).collectives(0, "amax/").empty());
  EXPECT_TRUE(Case(layout).collectives(0, "amax/").empty());
  const Case alone(core::Json{{"pipeline_model_parallel_size", 8}}, 1, "none", 8, fp8(policies::AmaxReduction::kData));
  EXPECT_TRUE(alone.collectives(0, "amax/").empty());
}

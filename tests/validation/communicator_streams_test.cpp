// Communication as the frameworks schedule it, against closed forms on one node of ideal GPUs
// (only GEMMs and the GPU links take time; links of β = 100 GB/s, no latency):
// - the data-parallel gradient all-reduce runs on its communicator's own stream, so a stage's
//   last gradient send to the previous stage leaves when its backward ends instead of queueing
//   behind the all-reduce: a 2- and a 4-stage 1F1B pipeline with d = 2 take one all-reduce (the
//   first stage's, the last to finish) more than with d = 1, plus the (p − 1) sends that share a
//   GPU uplink with their stage's all-reduce (each takes 2P/β instead of P/β). Queued behind the
//   all-reduce, every stage's all-reduce would add up along the drain instead.
// - full recomputation replays each layer's forward with its tensor-parallel collectives: with
//   t = 2 it costs the recomputed FLOPs plus 2 collectives per layer and micro-batch.
// - without overlap_grad_reduce every gradient is reduced in one collective after the backward:
//   d = 2 takes exactly one all-reduce of the whole model's gradients (S/β on 2 ranks) more than
//   d = 1; with overlap, small buckets hide most of it behind the backward.
// - with overlap_param_gather the distributed optimizer's all-gather of the updated weights runs
//   layer by layer during the next iteration's forward instead of after the step: the iteration
//   is shorter by the whole all-gather (S/2 over β on 2 ranks) but the two gathers the first
//   forward waits for (the embedding's and the first layer's).
// - with tp_comm_overlap the sequence-parallel all-gathers and reduce-scatters (and the
//   backward's re-gathers of the column-parallel inputs) run during their layer's compute: when
//   it is the longer, every one of them disappears from the iteration but the reduce-scatters'
//   last chunks (1/t of each, sent after the GEMM that produces it), and the 8 userbuffers of
//   s·b·h elements add to the peak memory. With context parallelism too (c = 2), the K/V
//   gradients' reduce-scatter, which waits for the backward, does not hold them back.
// - with async_tensor_model_parallel_allreduce (Megatron's asynchronous backward) a layer's
//   backward reduces its input gradients beside its column-parallel weight gradients (QKV and MLP
//   up, 7·s·b·h²/t FLOPs): while they are the longer, each layer's backward loses its two
//   all-reduces (P/β each on 2 ranks; with sequence parallelism its two reduce-scatters, P/(2β),
//   the output gradients' all-gathers staying exposed); on a slow link, it loses the weight
//   gradients' time instead.
// - the scatter/gather optimization sends a stage's output (held whole by each of the t
//   tensor-parallel ranks) as t slices over t NICs and all-gathers it on arrival: with t = 2
//   across two nodes and one micro-batch each of the two transfers takes P/(2B) + P/(2β)
//   instead of P/B (NICs of B, GPU links of β).
// - ZeRO-3 with prefetch_layers 1 gathers the next layer's weights during the current layer's
//   forward (without prefetch every gather waits for the compute before it); each layer of
//   prefetch holds one more layer's weights.
#include <gtest/gtest.h>

#include "tests/integration/study_runs.hpp"
#include "tests/support/ideal_cluster.hpp"

using frugal::test_support::fresh_dir;
using Json = nlohmann::json;

namespace {

constexpr double kLinkBytesPerS = 100e9;
constexpr double kHidden = 1024, kSeq = 1024, kBytesPerElement = 2;  // bf16
constexpr double kGradientBytes = 4;  // Megatron reduces fp32 main gradients (model_state: megatron)
/// One micro-batch's activation (or its gradient) between stages: s·b·h elements, b = 1.
constexpr double kActivationBytes = kSeq * kHidden * kBytesPerElement;
/// Parameters of one GPT layer (QKV, projection, MLP weights and biases, two layer norms).
constexpr double kLayerParams = 12 * kHidden * kHidden + 13 * kHidden;

Json study(int layers, int gpus, const Json& training, const Json& parallelism, const std::string& memory) {
  return Json{{"name", "streams"},
              {"model", {{"hidden_size", kHidden}, {"num_hidden_layers", layers}, {"num_attention_heads", 16},
                         {"vocab_size", 8}, {"max_position_embeddings", kSeq}, {"tie_word_embeddings", false}}},
              {"cluster", frugal::test_support::ideal_node_cluster(gpus, "100 GB/s")},
              {"training", training},
              {"parallelism", parallelism},
              {"memory", {{"impl", memory}}},
              {"outputs", {{"timeline", false}}}};
}

Json run(const std::string& name, const Json& doc) {
  return frugal::test_support::run_study_document(fresh_dir("streams_" + name), "study", doc);
}

/// Iteration time of an 8-layer GPT in p stages (1F1B, 8 micro-batches of 1 per replica), d
/// replicas, one gradient bucket per stage.
double pipeline_iteration_s(int p, int d) {
  const Json training = {{"global_batch_size", 8 * d}, {"micro_batch_size", 1}, {"seq_length", kSeq},
                         {"iterations", 1}, {"reserved_memory", "0 B"}};
  const Json parallelism = {{"impl", "megatron"}, {"pipeline_model_parallel_size", p}, {"schedule", "1f1b"},
                            {"bucket_size", "10 GiB"}};
  return run("p" + std::to_string(p) + "d" + std::to_string(d), study(8, p * d, training, parallelism, "none"))
      .at("iteration_time_s")
      .get<double>();
}

void expect_one_exposed_all_reduce(int p) {
  // The first stage: 8/p layers, the word (V·h) and position (s·h) embeddings; fp32 gradients.
  const double first_stage_grad_bytes = (8.0 / p * kLayerParams + 8 * kHidden + kSeq * kHidden) * kGradientBytes;
  const double all_reduce_s = first_stage_grad_bytes / kLinkBytesPerS;  // 2 ranks: 2·(S/2)/β
  const double shared_sends_s = (p - 1) * kActivationBytes / kLinkBytesPerS;
  const double d1 = pipeline_iteration_s(p, 1), d2 = pipeline_iteration_s(p, 2);
  std::printf("p=%d: d=1 %.12g s, d=2 %.12g s, difference %.12g s, closed form %.12g s\n", p, d1, d2, d2 - d1,
              all_reduce_s + shared_sends_s);
  EXPECT_NEAR(d2 - d1, all_reduce_s + shared_sends_s, 1e-9 * d2);
}

/// Iteration time of an 8-layer GPT without pipeline, d replicas of 4 micro-batches of 1,
/// 1 MiB gradient buckets.
double data_parallel_iteration_s(int d, bool overlap) {
  const Json training = {{"global_batch_size", 4 * d}, {"micro_batch_size", 1}, {"seq_length", kSeq},
                         {"iterations", 1}, {"reserved_memory", "0 B"}};
  const Json parallelism = {{"impl", "megatron"}, {"bucket_size", "1 MiB"}, {"overlap_grad_reduce", overlap}};
  return run(std::string("dp") + (overlap ? "_overlap" : "_after") + std::to_string(d),
             study(8, d, training, parallelism, "none"))
      .at("iteration_time_s")
      .get<double>();
}

}  // namespace

TEST(CommunicatorStreams, WithoutOverlapTheWholeGradientAllReduceFollowsTheBackward) {
  // Word (V·h) and position (s·h) embeddings, 8 layers, final norm (2h), untied head (V·h);
  // fp32 gradients. A 2-rank all-reduce of S bytes takes 2·(S/2)/β.
  const double grad_bytes = (8 * kLayerParams + 8 * kHidden + kSeq * kHidden + 2 * kHidden + 8 * kHidden) * kGradientBytes;
  const double d1 = data_parallel_iteration_s(1, false);
  const double after = data_parallel_iteration_s(2, false) - d1;
  EXPECT_NEAR(after, grad_bytes / kLinkBytesPerS, 1e-9 * d1);
  const double overlapped = data_parallel_iteration_s(2, true) - d1;
  std::printf("exposed all-reduce: %.6g s after the backward, %.6g s overlapped (whole: %.6g s)\n", after, overlapped,
              grad_bytes / kLinkBytesPerS);
  EXPECT_LT(overlapped, 0.5 * after);
  EXPECT_NEAR(data_parallel_iteration_s(1, true), d1, 1e-12 * d1);
}

TEST(CommunicatorStreams, OverlappedParameterGatherHidesBehindTheNextForward) {
  // Two iterations of 2 micro-batches per replica, d = 2, ZeRO-1.
  auto iteration_s = [](bool overlap) {
    const Json training = {{"global_batch_size", 4}, {"micro_batch_size", 1}, {"seq_length", kSeq},
                           {"iterations", 2}, {"reserved_memory", "0 B"}};
    const Json parallelism = {{"impl", "megatron"}, {"zero_stage", 1}, {"overlap_param_gather", overlap}};
    const Json s = run(std::string("gather_") + (overlap ? "overlap" : "after"), study(8, 2, training, parallelism, "none"));
    EXPECT_EQ(s.at("layout").at("overlap_param_gather"), overlap);
    return s.at("iteration_time_s").get<double>();
  };
  // Each rank gathers the half of the bf16 weights it lacks: S/2 over β.
  auto gather_s = [](double params) { return params * kBytesPerElement / 2 / kLinkBytesPerS; };
  const double embedding = 8 * kHidden + kSeq * kHidden, head = 2 * kHidden + 8 * kHidden;
  const double whole = gather_s(8 * kLayerParams + embedding + head);
  // Gathered after the step, the weights hold up the next forward for the whole gather. Layer by
  // layer, a layer's forward (longer here than the next layer's gather) hides the next gather:
  // only the embedding's and the first layer's are exposed.
  const double after = iteration_s(false), overlapped = iteration_s(true);
  std::printf("iteration %.9g s gathering after the step, %.9g s overlapped; whole gather %.9g s\n", after, overlapped,
              whole);
  EXPECT_NEAR(after - overlapped, whole - gather_s(embedding) - gather_s(kLayerParams), 1e-9 * after);
}

TEST(CommunicatorStreams, ZeroThreePrefetchHidesTheForwardGathersAndHoldsItsWindow) {
  // One micro-batch per replica, d = 2, ZeRO-3: each layer's weights are gathered before its
  // forward and its backward (half of the bf16 weights over β).
  auto result = [](int layers_ahead) {
    const Json training = {{"global_batch_size", 2}, {"micro_batch_size", 1}, {"seq_length", kSeq},
                           {"iterations", 1}, {"reserved_memory", "0 B"}};
    const Json parallelism = {{"impl", "megatron"}, {"zero_stage", 3}, {"prefetch_layers", layers_ahead}};
    const Json s = run("prefetch_" + std::to_string(layers_ahead), study(8, 2, training, parallelism, "none"));
    EXPECT_EQ(s.at("layout").at("prefetch_layers"), layers_ahead);
    return std::pair{s.at("iteration_time_s").get<double>(), s.at("max_peak_memory_bytes").get<double>()};
  };
  const auto [none_s, none_bytes] = result(0);
  const auto [one_s, one_bytes] = result(1);
  const auto [three_s, three_bytes] = result(3);
  std::printf("iteration %.9g s without prefetch, %.9g s one layer ahead, %.9g s three ahead\n", none_s, one_s,
              three_s);
  // A layer's forward is longer than the next layer's gather: one layer ahead hides the gathers of
  // layers 2-8 (each waits for the compute before its own without prefetch).
  const double layer_gather_s = kLayerParams * kBytesPerElement / 2 / kLinkBytesPerS;
  EXPECT_GE(none_s - one_s, 7 * layer_gather_s * (1 - 1e-9));
  EXPECT_LE(none_s - one_s, 8 * layer_gather_s);
  EXPECT_LE(three_s, one_s * (1 + 1e-12));
  // Each layer of prefetch holds one more layer's gathered bf16 weights (the largest layer).
  EXPECT_NEAR(one_bytes - none_bytes, kLayerParams * kBytesPerElement, 1e-9 * one_bytes);
  EXPECT_NEAR(three_bytes - none_bytes, 3 * kLayerParams * kBytesPerElement, 1e-9 * one_bytes);
}

TEST(CommunicatorStreams, GradientAllReduceDoesNotDelayTheDrainOfATwoStagePipeline) {
  expect_one_exposed_all_reduce(2);
}

TEST(CommunicatorStreams, GradientAllReduceDoesNotDelayTheDrainOfAFourStagePipeline) {
  expect_one_exposed_all_reduce(4);
}

TEST(CommunicatorStreams, FullRecomputationReplaysTensorParallelCollectives) {
  const Json training = {{"global_batch_size", 2}, {"micro_batch_size", 1}, {"seq_length", kSeq},
                         {"iterations", 1}, {"reserved_memory", "0 B"}};
  for (const bool sp : {false, true}) {
    const Json parallelism = {{"impl", "megatron"}, {"tensor_model_parallel_size", 2}, {"sequence_parallel", sp}};
    const Json none = run(std::string("none") + (sp ? "_sp" : ""), study(4, 2, training, parallelism, "none"));
    const Json full = run(std::string("full") + (sp ? "_sp" : ""), study(4, 2, training, parallelism, "full"));
    const double extra_iteration = full.at("iteration_time_s").get<double>() - none.at("iteration_time_s").get<double>();
    const double extra_compute = full.at("compute_s").get<double>() - none.at("compute_s").get<double>();
    // Per layer and micro-batch, attention and MLP each end in an all-reduce of P over 2 ranks
    // (P/β), or with sequence parallelism an all-gather and a reduce-scatter (P/(2β) each).
    const double collectives_s = 4 * 2 * 2 * kActivationBytes / kLinkBytesPerS;
    EXPECT_GT(extra_compute, 0.0);
    EXPECT_NEAR(extra_iteration - extra_compute, collectives_s, 1e-9 * full.at("iteration_time_s").get<double>())
        << (sp ? "sequence parallel" : "tensor parallel");
  }
}

TEST(CommunicatorStreams, TensorParallelCommunicationOverlapHidesBehindTheLayersCompute) {
  const Json training = {{"global_batch_size", 2}, {"micro_batch_size", 1}, {"seq_length", kSeq},
                         {"iterations", 1}, {"reserved_memory", "0 B"}};
  auto summary = [&](bool overlap) {
    const Json parallelism = {{"impl", "megatron"}, {"tensor_model_parallel_size", 2}, {"sequence_parallel", true},
                              {"tp_comm_overlap", overlap}, {"async_tensor_model_parallel_allreduce", false}};
    const Json s = run(std::string("tp_overlap_") + (overlap ? "on" : "off"), study(4, 2, training, parallelism, "none"));
    EXPECT_EQ(s.at("layout").at("tp_comm_overlap"), overlap);
    return s;
  };
  const Json off = summary(false), on = summary(true);
  // 2 micro-batches × 4 layers × (forward: 2 all-gathers + 2 reduce-scatters; backward: the same
  // and the 2 re-gathers of the column-parallel inputs) of P/(2β) each on 2 ranks; a layer's
  // compute (about 150 us forward, twice that backward) outlasts its 42 us (63 us) of collectives;
  // what stays exposed: per layer pass, the 2 reduce-scatters' last chunks, each a reduce-scatter
  // of P/2 on 2 ranks, P/(4β).
  const double hidden_s = 2 * 4 * (4 + 6) * kActivationBytes / (2 * kLinkBytesPerS);
  const double tails_s = 2 * 4 * 2 * 2 * kActivationBytes / (4 * kLinkBytesPerS);
  const double off_s = off.at("iteration_time_s").get<double>(), on_s = on.at("iteration_time_s").get<double>();
  std::printf("tp_comm_overlap: %.9g s -> %.9g s, closed form saves %.9g s\n", off_s, on_s, hidden_s - tails_s);
  EXPECT_NEAR(off_s - on_s, hidden_s - tails_s, 1e-9 * off_s);
  EXPECT_NEAR(on.at("max_peak_memory_bytes").get<double>() - off.at("max_peak_memory_bytes").get<double>(), 8 * kActivationBytes,
              1.0);
}

TEST(CommunicatorStreams, TensorParallelCommunicationOverlapHidesBehindTheComputeWithContextParallelism) {
  // t = 2 and c = 2 on 4 GPUs: each rank holds s/2 tokens, so each tensor-parallel collective
  // moves P/2. The backward's K/V gradient reduce-scatter waits for the layer's backward; it must
  // not hold the overlapped tensor-parallel collectives queued behind it on the comm stream: the
  // saving is the same closed form as without context parallelism, at half the bytes. (The
  // gradients, reduced over the c ranks, go after the backward so as not to share its links.)
  const Json training = {{"global_batch_size", 2}, {"micro_batch_size", 1}, {"seq_length", kSeq},
                         {"iterations", 1}, {"reserved_memory", "0 B"}};
  auto iteration_s = [&](bool overlap) {
    const Json parallelism = {{"impl", "megatron"}, {"tensor_model_parallel_size", 2}, {"context_parallel_size", 2},
                              {"sequence_parallel", true}, {"tp_comm_overlap", overlap},
                              {"async_tensor_model_parallel_allreduce", false}, {"overlap_grad_reduce", false}};
    const Json s = run(std::string("tp_overlap_cp_") + (overlap ? "on" : "off"), study(4, 4, training, parallelism, "none"));
    EXPECT_EQ(s.at("layout").at("context_parallel_size"), 2);
    return s.at("iteration_time_s").get<double>();
  };
  const double off_s = iteration_s(false), on_s = iteration_s(true);
  const double bytes = kActivationBytes / 2;
  const double hidden_s = 2 * 4 * (4 + 6) * bytes / (2 * kLinkBytesPerS);
  const double tails_s = 2 * 4 * 2 * 2 * bytes / (4 * kLinkBytesPerS);
  std::printf("tp_comm_overlap with c = 2: %.9g s -> %.9g s, closed form saves %.9g s\n", off_s, on_s, hidden_s - tails_s);
  EXPECT_NEAR(off_s - on_s, hidden_s - tails_s, 1e-9 * off_s);
}

TEST(CommunicatorStreams, TensorParallelCommunicationOverlapNeedsSequenceParallelism) {
  const auto dir = fresh_dir("tp_overlap_no_sp");
  const Json training = {{"global_batch_size", 2}, {"micro_batch_size", 1}, {"seq_length", kSeq}, {"iterations", 1}};
  const Json parallelism = {{"impl", "megatron"}, {"tensor_model_parallel_size", 2}, {"tp_comm_overlap", true}};
  frugal::test_support::write_file(dir / "study.json", study(4, 2, training, parallelism, "none").dump());
  const auto r = frugal::test_support::run_frugalsim("run " + (dir / "study.json").string() + " -o " + (dir / "out").string());
  // A layout the policy cannot run is a result (status infeasible), its reason at the key.
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("status: infeasible"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/parallelism/tp_comm_overlap"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("needs sequence_parallel true"), std::string::npos) << r.output;
}

namespace {

/// Iteration time of the 4-layer GPT with t = 2 (2 micro-batches of 1), GPU links of `link`.
double asynchronous_backward_iteration_s(bool async, bool sp, const std::string& link) {
  const Json training = {{"global_batch_size", 2}, {"micro_batch_size", 1}, {"seq_length", kSeq},
                         {"iterations", 1}, {"reserved_memory", "0 B"}};
  const Json parallelism = {{"impl", "megatron"}, {"tensor_model_parallel_size", 2}, {"sequence_parallel", sp},
                            {"async_tensor_model_parallel_allreduce", async}};
  Json doc = study(4, 2, training, parallelism, "none");
  doc["cluster"] = frugal::test_support::ideal_node_cluster(2, link);
  const Json s = run(std::string("async_") + (async ? "on" : "off") + (sp ? "_sp_" : "_") + std::to_string(link.size()), doc);
  EXPECT_EQ(s.at("layout").at("async_tensor_model_parallel_allreduce"), async);
  return s.at("iteration_time_s").get<double>();
}

}  // namespace

TEST(CommunicatorStreams, AsynchronousBackwardHidesTheInputGradientReductionsBehindTheWeightGradients) {
  constexpr double kLayerBackwards = 4 * 2;  // layers × micro-batches
  // QKV (3h/t columns) and MLP up (4h/t) weight gradients: 2·s·h·7h/t FLOPs at 100 TFLOP/s.
  const double weight_gradients_s = 2 * kSeq * kHidden * 7 * kHidden / 2 / 100e12;
  for (const bool sp : {false, true}) {
    const double reductions_s = 2 * kActivationBytes / kLinkBytesPerS / (sp ? 2 : 1);
    ASSERT_LT(reductions_s, weight_gradients_s);
    // With sequence parallelism the re-gathers of the two column-parallel inputs (two all-gathers
    // of P/(2β), as long as the reductions) hide too, behind the rest of the backward; without
    // the split they follow the backward.
    const double hidden_s = kLayerBackwards * reductions_s * (sp ? 2 : 1);
    const double off = asynchronous_backward_iteration_s(false, sp, "100 GB/s");
    const double on = asynchronous_backward_iteration_s(true, sp, "100 GB/s");
    std::printf("%s: %.9g s -> %.9g s, closed form saves %.9g s\n", sp ? "sequence parallel" : "tensor parallel", off,
                on, hidden_s);
    EXPECT_NEAR(off - on, hidden_s, 1e-9 * off) << (sp ? "sequence parallel" : "tensor parallel");
  }
  // 1 GB/s: the all-reduces outlast the weight gradients, which disappear instead.
  const double off = asynchronous_backward_iteration_s(false, false, "1 GB/s");
  const double on = asynchronous_backward_iteration_s(true, false, "1 GB/s");
  ASSERT_GT(2 * kActivationBytes / 1e9, weight_gradients_s);
  EXPECT_NEAR(off - on, kLayerBackwards * weight_gradients_s, 1e-9 * off);
}

TEST(CommunicatorStreams, ScatterGatherSendsEachStageBoundaryAsSlicesOverEveryNic) {
  // Two nodes of 2 GPUs, each GPU with its own NIC of B = 10 GB/s, GPU links of β = 100 GB/s;
  // t = 2 inside a node, p = 2 across the nodes, one micro-batch: the activation and its
  // gradient cross between the stages once each, on the critical path.
  constexpr double kNicBytesPerS = 10e9;
  auto iteration_s = [](bool scatter) {
    const Json training = {{"global_batch_size", 1}, {"micro_batch_size", 1}, {"seq_length", kSeq},
                           {"iterations", 1}, {"reserved_memory", "0 B"}};
    const Json parallelism = {{"impl", "megatron"}, {"tensor_model_parallel_size", 2},
                              {"pipeline_model_parallel_size", 2}, {"scatter_gather_tensors_in_pipeline", scatter}};
    Json doc = study(4, 4, training, parallelism, "none");
    doc["cluster"] = frugal::test_support::ideal_cluster(2, 2, "100 GB/s", "10 GB/s", 2);
    const Json s = run(std::string("scatter_gather_") + (scatter ? "on" : "off"), doc);
    EXPECT_EQ(s.at("layout").at("scatter_gather_tensors_in_pipeline"), scatter);
    return s.at("iteration_time_s").get<double>();
  };
  const double whole = iteration_s(false), sliced = iteration_s(true);
  const double per_transfer_s =
      kActivationBytes / kNicBytesPerS - (kActivationBytes / 2 / kNicBytesPerS + kActivationBytes / 2 / kLinkBytesPerS);
  std::printf("scatter/gather: %.9g s -> %.9g s, closed form saves %.9g s\n", whole, sliced, 2 * per_transfer_s);
  EXPECT_NEAR(whole - sliced, 2 * per_transfer_s, 1e-9 * whole);
}

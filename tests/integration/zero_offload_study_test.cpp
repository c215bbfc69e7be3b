// ZeRO-Offload (megatron's offload_optimizer: cpu) as a study runs it: the optimizer state moves
// to host memory, so a model that does not fit the GPU with it fits without it; and the step
// after the backward is a gradient copy down, Adam at the CPU's speed and a weight copy up, each
// on the critical path of a one-GPU iteration (closed forms in the PCIe bandwidth and the CPU's
// speed); with ZeRO-2 the gradients stream down during the backward. ZeRO-Infinity's tiers: the
// optimizer state on the NVMe (offload_optimizer: nvme) and ZeRO-3's weight shards off the GPU
// (offload_param), prefetched layer by layer.
#include <gtest/gtest.h>

#include "tests/integration/study_runs.hpp"
#include "workloads/layer_chain.hpp"
#include "workloads/model_spec.hpp"

using namespace frugal;
using test_support::fresh_dir;
using test_support::run_study_document;
using Json = nlohmann::json;

namespace {

/// One GPU, ZeRO stage 1 with DeepSpeed's accounting (2 + 2 + 12 bytes per parameter).
Json study(const std::string& model, const std::string& offload, const Json& node_keys, const Json& gpu_keys = Json::object()) {
  Json cluster = test_support::one_gpu_cluster(gpu_keys);
  cluster["node_types"]["g"].update(node_keys);
  return Json{{"model", model},
              {"cluster", cluster},
              {"training", {{"global_batch_size", 4}, {"micro_batch_size", 4}, {"seq_length", 2048}, {"iterations", 1}}},
              {"parallelism",
               {{"impl", "megatron"}, {"zero_stage", 1}, {"model_state", "zero"}, {"offload_optimizer", offload}}},
              {"memory", {{"impl", "full"}}},
              {"outputs", {{"timeline", false}}}};
}

double number(const Json& s, const char* key) { return s.at(key).get<double>(); }

}  // namespace

TEST(ZeroOffloadStudy, TheOptimizerStateOnTheHostMakesTheModelFit) {
  const auto dir = fresh_dir("zero_offload_fit");
  const Json gpu_24 = {{"memory", "24 GB"}};
  const Json on_gpu = run_study_document(dir, "on_gpu", study("gpt3-1.3b", "none", Json::object(), gpu_24));
  const Json offloaded = run_study_document(dir, "offloaded", study("gpt3-1.3b", "cpu", Json::object(), gpu_24));
  EXPECT_EQ(on_gpu.at("status"), "out_of_memory");
  ASSERT_EQ(offloaded.at("status"), "ok") << offloaded.dump();
  EXPECT_EQ(offloaded.at("layout").at("offload_optimizer"), "cpu");
  // Device: weights and gradients only (4 of the 16 bytes per parameter).
  EXPECT_DOUBLE_EQ(offloaded.at("memory_breakdown_bytes").value("optimizer", 0.0), 0.0);
  EXPECT_LT(number(offloaded, "max_peak_memory_bytes"), 24e9);
  // Host memory by category: the optimizer's 12 bytes per parameter (one GPU: no sharding).
  const double parameters = offloaded.at("memory_breakdown_bytes").at("parameters").get<double>() / 2;
  EXPECT_NEAR(offloaded.at("host_memory_breakdown_bytes").at("optimizer").get<double>(), 12 * parameters, 1e-9 * parameters);
  EXPECT_GE(number(offloaded, "host_memory_peak_bytes"), 12 * parameters);
  EXPECT_EQ(offloaded.at("per_gpu").at(0).at("host_memory_breakdown_bytes"), offloaded.at("host_memory_breakdown_bytes"));
  EXPECT_EQ(on_gpu.at("status"), "out_of_memory");
}

TEST(ZeroOffloadStudy, TheStepPaysTheCopiesAndTheCpuAdam) {
  const auto dir = fresh_dir("zero_offload_step");
  const auto run = [&](const std::string& name, const std::string& pcie, const std::string& cpu) {
    return run_study_document(dir, name, study("gpt3-125m", "cpu", {{"host_link", {{"bandwidth", pcie}, {"latency", "1 us"}}},
                                                                    {"cpu", {{"speed", cpu}, {"idle_power", "50 W"},
                                                                             {"max_power", "200 W"}}}}));
  };
  const Json base = run("base", "20 GB/s", "1 TFLOPS");
  const Json slow_link = run("slow_link", "10 GB/s", "1 TFLOPS");
  const Json slow_cpu = run("slow_cpu", "20 GB/s", "0.5 TFLOPS");
  ASSERT_EQ(base.at("status"), "ok");
  // Gradients down (2 bytes per parameter) and weights up (2 bytes per parameter).
  const double down = base.at("offloaded_bytes_per_gpu").at("host").get<double>();
  const double parameters = down / 2;
  EXPECT_NEAR((number(slow_link, "iteration_time_s") - number(base, "iteration_time_s")) /
                  (2 * down * (1 / 10e9 - 1 / 20e9)),
              1.0, 1e-6);
  EXPECT_NEAR((number(slow_cpu, "iteration_time_s") - number(base, "iteration_time_s")) / (12 * parameters * (1 / 0.5e12 - 1 / 1e12)),
              1.0, 1e-6);
}

/// With ZeRO-2 (DeepSpeed's stage 2 hooks) the gradients stream down bucket by bucket during the
/// backward instead of in one copy after it: the same bytes, less exposed copy time, and they
/// accumulate in host memory instead of the GPU's. One bucket of the whole gradient is ZeRO-1's
/// single copy exactly. Throttling the link still costs the weights' copy up in full, and of the
/// gradients at least the embedding's bucket (the last one, posted when the backward ends) but
/// less than all of them.
TEST(ZeroOffloadStudy, ZeroTwoStreamsTheGradientsDuringTheBackward) {
  const auto dir = fresh_dir("zero_offload_stream");
  const auto run = [&](const std::string& name, int zero_stage, const std::string& bucket, const std::string& pcie) {
    Json s = study("gpt3-125m", "cpu", {{"host_link", {{"bandwidth", pcie}, {"latency", "1 us"}}}});
    s["parallelism"]["zero_stage"] = zero_stage;
    if (!bucket.empty()) s["parallelism"]["bucket_size"] = bucket;
    return run_study_document(dir, name, s);
  };
  const Json one_copy = run("one_copy", 1, "", "20 GB/s");
  const Json one_bucket = run("one_bucket", 2, "1 TB", "20 GB/s");
  const Json streamed = run("streamed", 2, "", "20 GB/s");
  const Json streamed_slow = run("streamed_slow", 2, "", "10 GB/s");
  for (const Json* s : {&one_copy, &one_bucket, &streamed, &streamed_slow}) ASSERT_EQ(s->at("status"), "ok") << s->dump();
  EXPECT_NEAR(number(one_bucket, "iteration_time_s"), number(one_copy, "iteration_time_s"),
              1e-12 * number(one_copy, "iteration_time_s"));
  const double down = one_copy.at("offloaded_bytes_per_gpu").at("host").get<double>();
  EXPECT_NEAR(streamed.at("offloaded_bytes_per_gpu").at("host").get<double>(), down, 1e-9 * down);
  EXPECT_LT(number(streamed, "iteration_time_s"), number(one_copy, "iteration_time_s"));
  EXPECT_LT(number(streamed, "exposed_copy_s"), number(one_copy, "exposed_copy_s"));
  // The gradients live in host memory: the GPU's peak drops by them.
  EXPECT_NEAR(one_copy.at("memory_breakdown_bytes").at("gradients").get<double>(), down, 1e-9 * down);
  EXPECT_EQ(streamed.at("memory_breakdown_bytes").value("gradients", 0.0), 0.0);
  EXPECT_NEAR(streamed.at("host_memory_breakdown_bytes").at("gradients").get<double>(), down, 1e-9 * down);
  EXPECT_NEAR(number(one_copy, "max_peak_memory_bytes") - number(streamed, "max_peak_memory_bytes"), down, 1e-9 * down);

  const workloads::LayerChain chain =
      workloads::build_layer_chain(workloads::load_model("gpt3-125m"), 2048, core::Precision::kBf16);
  ASSERT_EQ(chain.layers.front().kind, workloads::LayerKind::kEmbedding);
  const double embedding = 2 * chain.layers.front().parameters, per_byte = 1 / 10e9 - 1 / 20e9;
  const double gradients_exposed =
      number(streamed_slow, "iteration_time_s") - number(streamed, "iteration_time_s") - down * per_byte;  // less the weights up
  EXPECT_GE(gradients_exposed, (1 - 1e-9) * embedding * per_byte);
  EXPECT_LT(gradients_exposed, 0.5 * down * per_byte);
}

/// ZeRO-Offload's headline (Ren et al., ATC'21: a 13B model trains on one 32 GB V100): with
/// ZeRO-2 the GPU holds the fp16 weights and the buckets only, and the model fits; with ZeRO-1
/// the gradients stay on the GPU until the step and it does not.
TEST(ZeroOffloadStudy, ThirteenBillionParametersOnOneV100) {
  const auto dir = fresh_dir("zero_offload_13b");
  const Json v100 = {{"name", "V100-test"}, {"memory", "32 GB"}, {"peak", {{"fp16", "125 TFLOPS"}}}, {"hbm_bandwidth", "900 GB/s"}};
  const auto run = [&](const std::string& name, int zero_stage) {
    Json s = study("gpt3-13b", "cpu", {{"host_memory", "512 GiB"}}, v100);
    s["parallelism"]["zero_stage"] = zero_stage;
    s["training"] = {{"global_batch_size", 1}, {"micro_batch_size", 1}, {"seq_length", 1024}, {"iterations", 1},
                     {"precision", "fp16"}};
    return run_study_document(dir, name, s);
  };
  const Json stage1 = run("stage1", 1);
  const Json stage2 = run("stage2", 2);
  EXPECT_EQ(stage1.at("status"), "out_of_memory");
  ASSERT_EQ(stage2.at("status"), "ok") << stage2.dump();
  EXPECT_LT(number(stage2, "max_peak_memory_bytes"), 32e9);
  EXPECT_GT(stage2.at("memory_breakdown_bytes").at("parameters").get<double>(), 25e9);  // 2 bytes per parameter
}

TEST(ZeroOffloadStudy, NeedsAZeroStage) {
  const auto dir = fresh_dir("zero_offload_stage");
  Json s = study("gpt3-125m", "cpu", Json::object());
  s["parallelism"]["zero_stage"] = 0;
  const Json r = run_study_document(dir, "stage0", s);
  EXPECT_EQ(r.at("status"), "infeasible");
  EXPECT_NE(r.at("reason").get<std::string>().find("/parallelism/offload_optimizer"), std::string::npos) << r.at("reason");
}

/// ZeRO-Infinity (offload_optimizer: nvme): the optimizer state lives on the node's NVMe, is read
/// into host memory before the CPU step and written back after it: each iteration pays
/// 2 × 12 bytes per parameter at the NVMe's bandwidth on top of ZeRO-Offload's step.
TEST(ZeroOffloadStudy, NvmeTierPaysTheStateReadAndWriteAtTheDriveBandwidth) {
  const auto dir = fresh_dir("zero_offload_nvme");
  const auto nvme = [](const std::string& bandwidth) {
    return Json{{"nvme", {{"capacity", "1 TB"}, {"bandwidth", bandwidth}}}};
  };
  const Json host = run_study_document(dir, "host", study("gpt3-125m", "cpu", nvme("4 GB/s")));
  const Json at4 = run_study_document(dir, "at4", study("gpt3-125m", "nvme", nvme("4 GB/s")));
  const Json at2 = run_study_document(dir, "at2", study("gpt3-125m", "nvme", nvme("2 GB/s")));
  for (const Json* s : {&host, &at4, &at2}) ASSERT_EQ(s->at("status"), "ok") << s->dump();
  EXPECT_EQ(at4.at("layout").at("offload_optimizer"), "nvme");
  const double parameters = host.at("offloaded_bytes_per_gpu").at("host").get<double>() / 2;
  const double state = 12 * parameters;
  EXPECT_NEAR((number(at4, "iteration_time_s") - number(host, "iteration_time_s")) / (2 * state / 4e9), 1.0, 1e-6);
  EXPECT_NEAR((number(at2, "iteration_time_s") - number(at4, "iteration_time_s")) / (2 * state * (1 / 2e9 - 1 / 4e9)), 1.0, 1e-6);
  // Bytes sent down to the NVMe tier; the staged state in host memory during the step.
  EXPECT_NEAR(at4.at("offloaded_bytes_per_gpu").at("nvme").get<double>(), state, 1e-9 * state);
  EXPECT_NEAR(at4.at("host_memory_breakdown_bytes").at("optimizer").get<double>(), state, 1e-9 * state);
  EXPECT_EQ(at4.at("memory_breakdown_bytes").value("optimizer", 0.0), 0.0);

  // A node without an NVMe: the study is invalid at the parameter (exit 2).
  test_support::write_file(dir / "no_nvme.json", study("gpt3-125m", "nvme", Json::object()).dump());
  const auto r = test_support::run_frugalsim("run " + (dir / "no_nvme.json").string() + " -o " + (dir / "no_nvme").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no_nvme.json:/parallelism/offload_optimizer: \"nvme\" keeps the optimizer state on the nodes' NVMe"),
            std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "no_nvme"));
}

/// ZeRO-3 parameter offload (offload_param: cpu): each rank's weight shard lives in host memory
/// and comes up layer by layer, one layer ahead of the compute, before the layer's all-gather.
/// With ample PCIe the copies hide behind the compute (the iteration is ZeRO-3's, within 2 %) and
/// the GPU holds no resident weights; a slow link exposes them; the updated shard goes back down
/// once per iteration.
TEST(ZeroOffloadStudy, ZeroThreeParameterOffloadPrefetchesEachLayersShard) {
  const auto dir = fresh_dir("zero_offload_param");
  const auto run = [&](const std::string& name, const std::string& offload, const std::string& pcie) {
    Json s = study("gpt3-125m", "none", {{"host_link", {{"bandwidth", pcie}, {"latency", "1 us"}}}});
    s["cluster"]["nodes"][0]["count"] = 2;
    s["training"]["global_batch_size"] = 8;
    s["parallelism"]["zero_stage"] = 3;
    s["parallelism"]["offload_param"] = offload;
    return run_study_document(dir, name, s);
  };
  const Json zero3 = run("zero3", "none", "25 GB/s");
  const Json ample = run("ample", "cpu", "2000 GB/s");
  const Json slow = run("slow", "cpu", "2 GB/s");
  for (const Json* s : {&zero3, &ample, &slow}) ASSERT_EQ(s->at("status"), "ok") << s->dump();
  EXPECT_EQ(ample.at("layout").at("offload_param"), "cpu");
  EXPECT_NEAR(number(ample, "iteration_time_s") / number(zero3, "iteration_time_s"), 1.0, 0.02);
  EXPECT_GT(number(slow, "iteration_time_s"), 1.1 * number(zero3, "iteration_time_s"));
  EXPECT_GT(number(slow, "exposed_copy_s"), 10 * number(ample, "exposed_copy_s"));
  // The shard (half of the 2-byte weights on each of 2 ranks) is in host memory, not on the GPU.
  const double shard = zero3.at("memory_breakdown_bytes").at("parameters").get<double>();
  EXPECT_GT(shard, 0.0);
  EXPECT_EQ(ample.at("memory_breakdown_bytes").value("parameters", 0.0), 0.0);
  EXPECT_NEAR(ample.at("host_memory_breakdown_bytes").at("parameters").get<double>(), shard, 1e-9 * shard);  // one GPU a node
  // Down once per iteration: the updated shard.
  EXPECT_NEAR(ample.at("offloaded_bytes_per_gpu").at("host").get<double>(), shard, 1e-9 * shard);
  // offload_param needs ZeRO-3.
  Json stage1 = study("gpt3-125m", "none", Json::object());
  stage1["parallelism"]["offload_param"] = "cpu";
  const Json r = run_study_document(dir, "stage1", stage1);
  EXPECT_EQ(r.at("status"), "infeasible");
  EXPECT_NE(r.at("reason").get<std::string>().find("/parallelism/offload_param"), std::string::npos) << r.at("reason");
}

/// ZeRO-Infinity on one GPU (ZeRO-3 without replicas, optimizer and weights off the GPU, each
/// layer's weights copied up before its compute): GPT-3 6.7B, out of memory on a 24 GB GPU with
/// ZeRO-Offload alone (26.6 GB of weights and gradients), fits.
TEST(ZeroOffloadStudy, ZeroInfinityFitsWhatZeroOffloadCannot) {
  const auto dir = fresh_dir("zero_infinity_fit");
  const Json gpu_24 = {{"memory", "24 GB"}};
  const Json node = {{"host_memory", "512 GiB"}};
  const Json offload = run_study_document(dir, "offload", study("gpt3-6.7b", "cpu", node, gpu_24));
  Json infinity_study = study("gpt3-6.7b", "cpu", node, gpu_24);
  infinity_study["parallelism"]["zero_stage"] = 3;
  infinity_study["parallelism"]["offload_param"] = "cpu";
  infinity_study["training"]["global_batch_size"] = 1;
  infinity_study["training"]["micro_batch_size"] = 1;
  const Json infinity = run_study_document(dir, "infinity", infinity_study);
  EXPECT_EQ(offload.at("status"), "out_of_memory");
  ASSERT_EQ(infinity.at("status"), "ok") << infinity.dump();
  EXPECT_LT(number(infinity, "max_peak_memory_bytes"), 24e9);
  EXPECT_EQ(infinity.at("memory_breakdown_bytes").value("parameters", 0.0), 0.0);
  EXPECT_GT(infinity.at("host_memory_breakdown_bytes").at("parameters").get<double>(), 13e9);  // 2 bytes per parameter
}

// ZeRO-Offload (megatron's offload_optimizer: cpu) as a study runs it: the optimizer state moves
// to host memory, so a model that does not fit the GPU with it fits without it; and the step
// after the backward is a gradient copy down, Adam at the CPU's speed and a weight copy up, each
// on the critical path of a one-GPU iteration (closed forms in the PCIe bandwidth and the CPU's
// speed).
#include <gtest/gtest.h>

#include "tests/integration/study_runs.hpp"

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

TEST(ZeroOffloadStudy, NeedsZeroStageOneOrTwo) {
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

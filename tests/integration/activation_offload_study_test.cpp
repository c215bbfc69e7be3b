// Activation offloading as a study runs it: with ample PCIe bandwidth the copies hide behind
// compute (the iteration of keeping everything, less GPU memory); with a throttled link the
// copies set the pace, the iteration growing as bytes / bandwidth; two GPUs behind one host side
// get half of it each; host memory is checked like GPU memory.
#include <cstdio>

#include <gtest/gtest.h>

#include "tests/integration/study_runs.hpp"

using namespace frugal;
using test_support::fresh_dir;
using test_support::run_study_document;
using Json = nlohmann::json;

namespace {

/// GPT-3 125M, micro-batches of 4 sequences of 2,048 tokens (flash attention), `gpus` GPUs of
/// one node in data parallelism, each GPU's PCIe at `pcie`, the node's host side at `host_side`.
Json study(const Json& memory, const std::string& pcie, int gpus = 1, const std::string& host_side = "") {
  Json cluster = test_support::one_gpu_cluster();
  Json& node = cluster["node_types"]["g"];
  node["gpus_per_node"] = gpus;
  node["host_link"]["bandwidth"] = pcie;
  node["host_memory"] = "256 GiB";
  if (!host_side.empty()) node["host_memory_bandwidth"] = host_side;
  return Json{{"model", "gpt3-125m"},
              {"cluster", cluster},
              {"training",
               {{"global_batch_size", 4 * gpus}, {"micro_batch_size", 4}, {"seq_length", 2048}, {"iterations", 1}, {"attention", "flash"}}},
              {"memory", memory},
              {"outputs", {{"timeline", false}}}};
}

double number(const Json& s, const char* key) { return s.at(key).get<double>(); }

const Json kOffload = {{"impl", "offload"}};

}  // namespace

TEST(ActivationOffloadStudy, AmplePcieHidesTheCopiesAndSavesGpuMemory) {
  const auto dir = fresh_dir("offload_ample");
  const Json keep = run_study_document(dir, "keep", study({{"impl", "none"}}, "25 GB/s"));
  const Json off = run_study_document(dir, "off", study(kOffload, "2000 GB/s"));
  ASSERT_EQ(off.at("status"), "ok");
  EXPECT_NEAR(number(off, "iteration_time_s") / number(keep, "iteration_time_s"), 1.0, 0.02);
  EXPECT_LT(number(off, "max_peak_memory_bytes"), 0.8 * number(keep, "max_peak_memory_bytes"));
  // Every transformer layer's stored activations went down once.
  EXPECT_GT(off.at("offloaded_bytes_per_gpu").at("host").get<double>(), 1e9);
  EXPECT_EQ(keep.at("offloaded_bytes_per_gpu").at("host").get<double>(), 0.0);
  // The copies ran under the compute: almost none of their time is exposed.
  EXPECT_GT(number(off, "copy_s"), 0.0);
  EXPECT_LT(number(off, "exposed_copy_s"), 0.02 * number(off, "iteration_time_s"));
  EXPECT_EQ(number(keep, "copy_s"), 0.0);
  EXPECT_EQ(number(keep, "exposed_copy_s"), 0.0);
}

TEST(ActivationOffloadStudy, AThrottledLinkAddsBytesOverBandwidth) {
  const auto dir = fresh_dir("offload_throttled");
  const Json at25 = run_study_document(dir, "at25", study(kOffload, "25 GB/s"));
  const Json at10 = run_study_document(dir, "at10", study(kOffload, "10 GB/s"));
  ASSERT_EQ(at10.at("status"), "ok");
  // Copy-bound: every copy down and back is on the critical path, so the slower link adds
  // 2 × bytes × (1/10 − 1/25 GB/s).
  const double bytes = at10.at("offloaded_bytes_per_gpu").at("host").get<double>();
  const double added = number(at10, "iteration_time_s") - number(at25, "iteration_time_s");
  EXPECT_NEAR(added / (2 * bytes * (1 / 10e9 - 1 / 25e9)), 1.0, 0.01) << added;
  // The exposed copy time grows as bytes / bandwidth: the copies' busy time by the full
  // 2 × bytes × Δ(1/β), its exposed part by most of it (the copy stream waits for compute too).
  const double busy = number(at10, "copy_s") - number(at25, "copy_s");
  EXPECT_NEAR(busy / (2 * bytes * (1 / 10e9 - 1 / 25e9)), 1.0, 0.01) << busy;
  const double exposed = number(at10, "exposed_copy_s") - number(at25, "exposed_copy_s");
  EXPECT_NEAR(exposed / (2 * bytes * (1 / 10e9 - 1 / 25e9)), 1.0, 0.05) << exposed;
}

TEST(ActivationOffloadStudy, TwoGpusOnOneHostSideGetHalfTheBandwidthEach) {
  const auto dir = fresh_dir("offload_shared");
  const Json alone = run_study_document(dir, "alone", study(kOffload, "10 GB/s", 1));
  const Json own = run_study_document(dir, "own", study(kOffload, "10 GB/s", 2));              // 2 × 10 GB/s host side
  const Json shared = run_study_document(dir, "shared", study(kOffload, "10 GB/s", 2, "10 GB/s"));
  ASSERT_EQ(shared.at("status"), "ok");
  EXPECT_NEAR(number(own, "iteration_time_s") / number(alone, "iteration_time_s"), 1.0, 0.02);
  EXPECT_NEAR(number(shared, "iteration_time_s") / number(alone, "iteration_time_s"), 2.0, 0.05);
}

TEST(ActivationOffloadStudy, HostMemoryIsACapacity) {
  const auto dir = fresh_dir("offload_host_memory");
  Json s = study(kOffload, "25 GB/s");
  s["cluster"]["node_types"]["g"]["host_memory"] = "1 GiB";
  const Json small = run_study_document(dir, "small", s);
  EXPECT_EQ(small.at("status"), "out_of_memory");
  EXPECT_NE(small.at("reason").get<std::string>().find("host memory"), std::string::npos) << small.at("reason");
}

TEST(ActivationOffloadStudy, OptimalMixesOffloadingAndRecomputationByTheLinkSpeed) {
  // A 7 GiB budget that keeping everything exceeds: rematerialization alone replays; with
  // `offload` a fast link carries the activations for less (an ample one for nothing), and a
  // slow one leaves rematerialization's schedule as it is.
  const auto dir = fresh_dir("offload_optimal");
  const Json remat = {{"impl", "optimal"}, {"memory_budget", "7 GiB"}};
  Json mixed = remat;
  mixed["offload"] = true;
  const Json keep = run_study_document(dir, "keep", study({{"impl", "none"}}, "25 GB/s"));
  const Json alone = run_study_document(dir, "alone", study(remat, "200 GB/s"));
  const Json fast = run_study_document(dir, "fast", study(mixed, "200 GB/s"));
  const Json ample = run_study_document(dir, "ample", study(mixed, "2000 GB/s"));
  const Json slow = run_study_document(dir, "slow", study(mixed, "25 GB/s"));
  ASSERT_EQ(fast.at("status"), "ok");
  std::printf("iteration: keep everything %.6g s, rematerialization alone %.6g s, with offload at 200 GB/s %.6g s "
              "(%.3g GiB offloaded), at 2 TB/s %.6g s, at 25 GB/s %.6g s\n",
              number(keep, "iteration_time_s"), number(alone, "iteration_time_s"), number(fast, "iteration_time_s"),
              fast.at("offloaded_bytes_per_gpu").at("host").get<double>() / (1 << 30), number(ample, "iteration_time_s"),
              number(slow, "iteration_time_s"));
  EXPECT_GT(number(keep, "max_peak_memory_bytes"), 7.0 * (1 << 30));
  for (const Json* s : {&alone, &fast, &ample, &slow}) EXPECT_LE(number(*s, "max_peak_memory_bytes"), 7.0 * (1 << 30));
  EXPECT_GT(number(alone, "iteration_time_s"), 1.05 * number(keep, "iteration_time_s"));
  EXPECT_LT(number(fast, "iteration_time_s"), 0.95 * number(alone, "iteration_time_s"));
  EXPECT_GT(fast.at("offloaded_bytes_per_gpu").at("host").get<double>(), 1e9);
  EXPECT_GT(number(fast, "exposed_copy_s"), 0.0);
  EXPECT_NEAR(number(ample, "iteration_time_s") / number(keep, "iteration_time_s"), 1.0, 0.005);
  EXPECT_EQ(slow.at("offloaded_bytes_per_gpu").at("host").get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(number(slow, "iteration_time_s"), number(alone, "iteration_time_s"));
}

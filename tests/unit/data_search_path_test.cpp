// The data search path (sim/core/build_info.hpp): a model or cluster file added to a FrugalSim
// tree is found when working inside it or when FRUGALSIM_DATA_DIR lists it, earlier folders win,
// and an unknown name lists every place looked in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "platforms/cluster_spec.hpp"
#include "sim/core/build_info.hpp"
#include "sim/core/error.hpp"
#include "workloads/model_spec.hpp"

namespace {

namespace fs = std::filesystem;
using namespace frugal;

/// A data tree under the temp dir holding one extra model, `name`, with `layers` layers.
fs::path make_tree(const std::string& leaf, const std::string& name, int layers) {
  const fs::path root = fs::temp_directory_path() / ("frugalsim_data_" + leaf + "_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "workloads" / "models");
  fs::create_directories(root / "platforms");
  fs::copy_file(core::source_dir() / "platforms" / "gpus.json", root / "platforms" / "gpus.json");
  std::ofstream(root / "workloads" / "models" / (name + ".json"))
      << R"({"hidden_size": 256, "num_hidden_layers": )" << layers
      << R"(, "num_attention_heads": 4, "vocab_size": 1000, "max_position_embeddings": 512})";
  return root;
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(DataSearchPath, AModelAddedToTheTreeOneWorksInIsFound) {
  const fs::path tree = make_tree("cwd", "my-model", 3);
  fs::create_directories(tree / "studies" / "a");
  fs::current_path(tree / "studies" / "a");  // anywhere inside the tree
  ::unsetenv("FRUGALSIM_DATA_DIR");
  const auto path = core::data_search_path();
  ASSERT_FALSE(path.empty());
  EXPECT_EQ(path.front(), fs::weakly_canonical(tree));
  EXPECT_TRUE(has(workloads::list_models(), "my-model"));
  EXPECT_TRUE(has(workloads::list_models(), "gpt3-125m"));  // the source tree's zoo is still there
  EXPECT_EQ(workloads::load_model("my-model").num_hidden_layers, 3);
  fs::current_path(fs::temp_directory_path());
  fs::remove_all(tree);
}

TEST(DataSearchPath, EnvironmentFoldersComeFirstAndUnknownNamesListWhereTheyWereLooked) {
  const fs::path first = make_tree("env1", "shared-name", 5), second = make_tree("env2", "shared-name", 7);
  fs::current_path(fs::temp_directory_path());
  ::setenv("FRUGALSIM_DATA_DIR", (first.string() + ":" + second.string()).c_str(), 1);
  EXPECT_EQ(workloads::load_model("shared-name").num_hidden_layers, 5);  // the first folder wins
  EXPECT_TRUE(has(platforms::list_clusters(), "quickstart"));             // from the source tree
  try {
    (void)workloads::load_model("no-such-model", "study.json", "/model");
    FAIL() << "expected a ConfigError";
  } catch (const core::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.pointer(), "/model");
    EXPECT_NE(what.find((first / "workloads/models/no-such-model.json").string()), std::string::npos) << what;
    EXPECT_NE(what.find((second / "workloads/models/no-such-model.json").string()), std::string::npos) << what;
    EXPECT_NE(what.find("FRUGALSIM_DATA_DIR"), std::string::npos) << what;
  }
  ::unsetenv("FRUGALSIM_DATA_DIR");
  fs::remove_all(first);
  fs::remove_all(second);
}

}  // namespace

// The reference page and `frugalsim list` come from the same declarations: the committed
// docs/reference.md must be what the code generates, and every family, plug-in and parameter
// shows up in both (every study section key in the page); a parameter a plug-in's decisions reject is reported at file:pointer/key.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "sim/app/reference.hpp"
#include "sim/core/build_info.hpp"
#include "sim/study/plugin_families.hpp"
#include "sim/study/study.hpp"
#include "tests/support/cli.hpp"

using frugal::test_support::fresh_dir;
using frugal::test_support::run_frugalsim;
using frugal::test_support::slurp;
using frugal::test_support::write_file;
using Json = nlohmann::json;

namespace {

/// "line N: <committed> / <generated>" for the first line that differs.
std::string first_difference(const std::string& committed, const std::string& generated) {
  std::istringstream a(committed), b(generated);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ha = static_cast<bool>(std::getline(a, la)), hb = static_cast<bool>(std::getline(b, lb));
    if (!ha && !hb) return "no line differs (line endings?)";
    if (!ha || !hb || la != lb)
      return "line " + std::to_string(line) + ":\n  committed: " + (ha ? la : "<end>") + "\n  generated: " + (hb ? lb : "<end>");
  }
}

}  // namespace

TEST(ReferencePage, CommittedPageIsWhatTheCodeGenerates) {
  const auto path = frugal::core::data_dir() / "docs" / "reference.md";
  const std::string committed = slurp(path);
  const std::string generated = frugal::app::reference_markdown();
  EXPECT_TRUE(committed == generated) << path.string() << " is out of date; regenerate it with\n  "
                                      << frugal::app::kRegenerateReference << "\nfirst difference, "
                                      << first_difference(committed, generated);
}

TEST(ReferencePage, ListMarkdownPrintsThePage) {
  const auto r = run_frugalsim("list --markdown");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, frugal::app::reference_markdown());
  EXPECT_EQ(run_frugalsim("list --markdwon").exit_code, 1);
}

TEST(ReferencePage, EveryFamilyPluginAndParameterIsListedAndDocumented) {
  const auto list = run_frugalsim("list");
  ASSERT_EQ(list.exit_code, 0) << list.output;
  const std::string page = frugal::app::reference_markdown();
  const auto& families = frugal::study::plugin_families();
  std::vector<std::string> names;
  for (const auto& f : families) names.push_back(f.name);
  for (const char* expected : {"parallelism", "checkpoint", "recovery", "availability", "collective_algorithm"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  for (const auto& f : families) {
    EXPECT_FALSE(f.location.empty() || f.meaning.empty()) << f.name;
    EXPECT_FALSE(f.plugins.empty()) << f.name;
    EXPECT_NE(list.output.find(f.name + " (" + f.location + "): " + f.meaning + "\n"), std::string::npos) << f.name;
    EXPECT_NE(page.find("## " + f.name + "\n"), std::string::npos) << f.name;
    for (const auto& p : f.plugins) {
      EXPECT_FALSE(p.summary.empty()) << f.name << "/" << p.name;
      EXPECT_NE(list.output.find("  " + p.name + ": " + p.summary + "\n"), std::string::npos) << f.name << "/" << p.name;
      EXPECT_NE(page.find("### `" + p.name + "`\n\n" + p.summary + "\n"), std::string::npos) << f.name << "/" << p.name;
      for (const auto& spec : p.params) {
        EXPECT_FALSE(spec.description.empty()) << p.name << "/" << spec.name;
        const auto c = frugal::core::param_columns(spec);
        EXPECT_NE(list.output.find("    " + c.key + " (" + c.type), std::string::npos) << p.name << "/" << spec.name;
        EXPECT_NE(page.find("| `" + spec.name + "`"), std::string::npos) << p.name << "/" << spec.name;
      }
    }
  }
  for (const auto* sections : {&frugal::study::study_sections(), &frugal::study::campaign_sections()})
    for (const auto& section : *sections) {
      EXPECT_NE(page.find("### `" + (section.pointer.empty() ? std::string("/") : section.pointer) + "`\n\n" +
                          section.summary + "\n"),
                std::string::npos)
          << section.pointer;
      for (const auto& key : section.keys)
        EXPECT_NE(page.find("| `" + key.spec.name + "`"), std::string::npos) << section.pointer << "/" << key.spec.name;
    }
  // Collective algorithms are described next to the IR enum.
  EXPECT_NE(list.output.find("  hierarchical: all-reduce as intra-node reduce-scatter"), std::string::npos);
}

TEST(PluginErrors, APolicysPlanTimeParameterErrorNamesTheKeyInTheStudy) {
  const auto dir = fresh_dir("plan_time_param");
  const Json study = Json::parse(R"({
    "model": "gpt3-125m", "cluster": "quickstart",
    "training": {"global_batch_size": 16, "micro_batch_size": 2, "seq_length": 512, "iterations": 1},
    "parallelism": {"impl": "megatron", "tensor_model_parallel_size": 3},
    "outputs": {"timeline": false}})");
  write_file(dir / "study.json", study.dump());
  const auto r = run_frugalsim("plan " + (dir / "study.json").string() + " -o " + (dir / "program.json").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("study.json:/parallelism/pipeline_model_parallel_size: GPUs (8) not divisible by "
                          "tensor_model_parallel_size (3)"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "program.json"));
  std::filesystem::remove_all(dir);
}

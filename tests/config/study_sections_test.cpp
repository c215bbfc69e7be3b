// The study's own sections are read through their declarations (study_sections(),
// campaign_sections()): the keys each reader accepts are exactly the declared ones, so the
// reference page documents every key the code accepts; defaults and errors come from them.
#include <gtest/gtest.h>

#include <set>

#include "sim/study/study.hpp"

using namespace frugal;
using core::Json;

namespace {

Json valid_study() {
  return Json::parse(R"({
    "model": "gpt3-125m", "cluster": "quickstart",
    "training": {"global_batch_size": 16, "micro_batch_size": 2, "seq_length": 512},
    "simulation": {}, "outputs": {},
    "campaign": {"goal": {"iterations": 10}, "iteration_time": "10 s",
                 "availability": {"a100": {"impl": "exponential", "mtbf": "6 h"}},
                 "resilience": {"checkpoint": {"impl": "young"}}, "checkpoint": {}}})");
}

core::ConfigError error_of(const Json& doc) {
  try {
    study::read_study(doc, "study.json", ".");
  } catch (const core::ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << doc.dump();
  return core::ConfigError("", "", "");
}

std::vector<core::SectionInfo> all_sections() {
  auto out = study::study_sections();
  for (const auto& s : study::campaign_sections()) out.push_back(s);
  return out;
}

}  // namespace

TEST(StudySections, EachReaderAcceptsExactlyTheDeclaredKeys) {
  std::set<std::string> pointers;
  for (const auto& section : all_sections()) {
    pointers.insert(section.pointer);
    std::set<std::string> declared;  // what "unknown key (valid: ...)" lists, sorted
    for (const auto& k : section.keys) {
      declared.insert(k.spec.name);
      if (k.spec.type == core::ParamType::kQuantity) declared.insert(k.spec.resolved_key());
    }
    std::string expected = "unknown key (valid: ";
    for (const auto& key : declared) expected += (expected.back() == ' ' ? "" : ", ") + key;
    expected += ")";
    Json doc = valid_study();
    doc[Json::json_pointer(section.pointer + "/zz_not_a_key")] = 1;
    const auto e = error_of(doc);
    EXPECT_EQ(e.pointer(), section.pointer + "/zz_not_a_key");
    EXPECT_EQ(e.message(), expected) << "section \"" << section.pointer << "\": declarations and reader disagree";
  }
  EXPECT_EQ(pointers, (std::set<std::string>{"", "/training", "/simulation", "/outputs", "/campaign", "/campaign/goal",
                                             "/campaign/resilience", "/campaign/checkpoint", "/search", "/search/space"}));
}

TEST(StudySections, DeclaredDefaultsAreTheValuesRead) {
  const auto s = study::read_study(valid_study(), "dir/my_study.json", ".");
  EXPECT_EQ(s.name, "my_study");  // absent name: the file's name
  EXPECT_EQ(s.seed, 0u);
  EXPECT_EQ(s.iterations, 2);
  EXPECT_EQ(s.training.reserved_memory_bytes, 1024.0 * 1024 * 1024);
  EXPECT_EQ(core::to_string(s.training.precision), "bf16");
  EXPECT_EQ(s.simulation.coarse_above_ranks, engine::EngineOptions{}.coarse_above_ranks);
  EXPECT_TRUE(s.simulation.closed_form_collectives);
  EXPECT_TRUE(s.write_timeline);
  ASSERT_TRUE(s.campaign);
  EXPECT_EQ(s.campaign->goal.iterations, 10);
  EXPECT_EQ(s.campaign->iteration_time_s, 10.0);
  EXPECT_EQ(s.campaign->horizon_s, 0.0);  // absent: no value (the engine derives it)
  EXPECT_EQ(s.campaign->max_shrink_layouts, 8);
  EXPECT_EQ(s.campaign->checkpoint.bytes_per_parameter, 14.0);
  EXPECT_EQ(s.campaign->checkpoint.storage, "shared");

  Json doc = valid_study();
  doc["name"] = "named";
  doc["training"]["reserved_memory_bytes"] = 2e9;
  doc["campaign"]["horizon_s"] = 3600;
  doc["campaign"]["checkpoint"]["storage"] = "local_disk";
  doc["simulation"]["coarse_above_ranks"] = 4;
  doc["simulation"]["closed_form_collectives"] = false;
  const auto t = study::read_study(doc, "study.json", ".");
  EXPECT_EQ(t.name, "named");
  EXPECT_EQ(t.training.reserved_memory_bytes, 2e9);
  EXPECT_EQ(t.campaign->horizon_s, 3600.0);
  EXPECT_EQ(t.campaign->checkpoint.storage, "local_disk");
  EXPECT_EQ(t.simulation.coarse_above_ranks, 4);
  EXPECT_FALSE(t.simulation.closed_form_collectives);
}

TEST(StudySections, ErrorsNameTheKeyAsWritten) {
  Json doc = valid_study();
  doc["campaign"]["horizon_s"] = -1;
  EXPECT_EQ(std::string(error_of(doc).what()), "study.json:/campaign/horizon_s: value -1 out of range (expected >= 1e-09)");
  doc = valid_study();
  doc["training"]["iterations"] = 0;
  EXPECT_EQ(std::string(error_of(doc).what()), "study.json:/training/iterations: value 0 out of range (expected >= 1)");
  doc = valid_study();
  doc["campaign"]["goal"]["tokens"] = 5;
  EXPECT_EQ(error_of(doc).pointer(), "/campaign/goal");  // two goals: the section, with the count
}

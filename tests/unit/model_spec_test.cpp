// Model descriptions: the zoo loads, strict reading names the pointer, round trip through JSON.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "workloads/model_spec.hpp"

namespace frugal::workloads {
namespace {

using core::ConfigError;
using core::Json;

Json minimal() {
  return Json{{"hidden_size", 64}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
              {"vocab_size", 1000}};
}

// Runs read_model and returns the error, failing the test if none is thrown.
ConfigError read_error(const Json& j) {
  try {
    read_model(j, "m.json", "/model");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << j.dump();
  return ConfigError("", "", "");
}

TEST(ModelSpec, ZooLoadsAllModels) {
  const auto names = list_models();
  for (const char* expected : {"gpt3-125m", "gpt3-1.3b", "gpt3-6.7b", "gpt3-13b", "gpt3-175b",
                               "llama2-7b", "llama2-70b", "llama3-8b", "llama3-70b"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  for (const auto& name : names) {
    const ModelSpec m = load_model(name);
    EXPECT_EQ(m.name, name);
    EXPECT_FALSE(m.source.empty()) << name;
  }
  const ModelSpec l = load_model("llama2-70b");
  EXPECT_EQ(l.num_key_value_heads, 8);
  EXPECT_EQ(l.kv_dim(), 1024);
  EXPECT_TRUE(l.gated_mlp);
  EXPECT_FALSE(l.tie_word_embeddings);
}

TEST(ModelSpec, DefaultsFollowHuggingFace) {
  const ModelSpec m = read_model(minimal(), "m.json", "");
  EXPECT_EQ(m.num_key_value_heads, 4);
  EXPECT_EQ(m.intermediate_size, 256);
  EXPECT_EQ(m.max_position_embeddings, 2048);
  EXPECT_EQ(m.position_embedding_type, "absolute");
  EXPECT_TRUE(m.tie_word_embeddings);
  EXPECT_TRUE(m.use_bias);
}

TEST(ModelSpec, UnknownKeyNamesPointer) {
  Json j = minimal();
  j["hiden_size"] = 3;
  const ConfigError e = read_error(j);
  EXPECT_EQ(e.file(), "m.json");
  EXPECT_EQ(e.pointer(), "/model/hiden_size");
  EXPECT_NE(e.message().find("hidden_size"), std::string::npos);
}

TEST(ModelSpec, WrongTypeMissingKeyAndBadShapes) {
  Json j = minimal();
  j["vocab_size"] = "big";
  EXPECT_EQ(read_error(j).pointer(), "/model/vocab_size");
  j = minimal();
  j.erase("num_hidden_layers");
  EXPECT_EQ(read_error(j).pointer(), "/model/num_hidden_layers");
  j = minimal();
  j["hidden_size"] = 0;
  EXPECT_EQ(read_error(j).pointer(), "/model/hidden_size");
  j = minimal();
  j["num_attention_heads"] = 5;  // 64 % 5
  EXPECT_EQ(read_error(j).pointer(), "/model/num_attention_heads");
  j = minimal();
  j["num_key_value_heads"] = 3;  // 4 % 3
  const ConfigError e = read_error(j);
  EXPECT_EQ(e.pointer(), "/model/num_key_value_heads");
  EXPECT_NE(e.message().find("(4)"), std::string::npos);
  j = minimal();
  j["norm_type"] = "batchnorm";
  EXPECT_NE(read_error(j).message().find("rmsnorm"), std::string::npos);
}

TEST(ModelSpec, UnknownZooNameListsValidNames) {
  try {
    load_model("gpt5", "study.json", "/workload/model");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "study.json");
    EXPECT_EQ(e.pointer(), "/workload/model");
    EXPECT_NE(e.message().find("unknown model \"gpt5\""), std::string::npos);
    EXPECT_NE(e.message().find("llama3-8b"), std::string::npos);
  }
  EXPECT_THROW(load_model("no/such/file.json", "study.json", "/m"), ConfigError);
}

TEST(ModelSpec, JsonRoundTrip) {
  for (const char* name : {"gpt3-13b", "llama3-70b"}) {
    const ModelSpec m = load_model(name);
    EXPECT_EQ(read_model(to_json(m), "", ""), m) << name;
  }
  const ModelSpec m = read_model(minimal(), "", "");
  EXPECT_EQ(read_model(to_json(m), "", ""), m);
}

}  // namespace
}  // namespace frugal::workloads

// HuggingFace config.json files as published (tests/data/hf/): each loads and gives its model
// card's parameter count and the closed-form FLOPs per token; mixture-of-experts, unknown and
// unmodelled keys are refused with file and pointer.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "sim/core/build_info.hpp"
#include "workloads/huggingface_config.hpp"
#include "workloads/layer_chain.hpp"
#include "workloads/model_keys.hpp"

namespace frugal::workloads {
namespace {

using core::ConfigError;
using core::Json;

std::string hf_file(const std::string& folder) {
  return (core::data_dir() / "tests" / "data" / "hf" / folder / "config.json").string();
}

ConfigError load_error(const Json& j) {
  try {
    read_model(j, "config.json", "/model");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << j.dump();
  return ConfigError("", "", "");
}

// Training FLOPs per token, Narayanan et al. eq. 3 generalised to real matrix shapes: 6 FLOPs per
// weight of every GEMM (the card's parameters minus the embedding and position tables, which are
// look-ups, plus the output head when it is tied to the embedding) and 12·L·h·s for the two
// attention matmuls.
double closed_form_flops_per_token(double card_parameters, const ModelSpec& m, double s) {
  const double embedding = double(m.vocab_size) * m.hidden_size;
  const double positions = m.position_embedding_type == "absolute" ? double(m.max_position_embeddings) * m.hidden_size : 0;
  const double gemm_weights = card_parameters - embedding - positions + (m.tie_word_embeddings ? embedding : 0);
  return 6 * gemm_weights + 12.0 * m.num_hidden_layers * m.hidden_size * s;
}

struct Card {
  const char* folder;
  double parameters;  // the model card's figure
  std::int64_t seq_length;
};

TEST(HuggingFaceConfig, PublicConfigsGiveTheirModelCards) {
  for (const Card& c : {Card{"Meta-Llama-3-8B", 8.03e9, 8192}, Card{"Llama-2-7b-hf", 6.74e9, 4096},
                        Card{"Mistral-7B-v0.1", 7.24e9, 4096},
                        Card{"Qwen2-7B", 7.62e9, 4096}, Card{"gpt2", 124e6, 1024},
                        Card{"pythia-160m", 162.3e6, 2048}}) {
    const ModelSpec m = load_model(hf_file(c.folder));
    EXPECT_EQ(m.name, c.folder);
    EXPECT_NEAR(parameter_count(m) / c.parameters, 1.0, 0.01) << c.folder;
    const double per_token = model_flops_per_iteration(m, c.seq_length, 1.0) / double(c.seq_length);
    EXPECT_NEAR(per_token / closed_form_flops_per_token(c.parameters, m, double(c.seq_length)), 1.0, 0.01) << c.folder;
  }
  // The exact counts of the published checkpoints (biases, norms and GQA shapes included).
  EXPECT_DOUBLE_EQ(parameter_count(load_model(hf_file("Meta-Llama-3-8B"))), 8030261248.0);
  EXPECT_DOUBLE_EQ(parameter_count(load_model(hf_file("Llama-2-7b-hf"))), 6738415616.0);
  EXPECT_DOUBLE_EQ(parameter_count(load_model(hf_file("Mistral-7B-v0.1"))), 7241732096.0);
  EXPECT_DOUBLE_EQ(parameter_count(load_model(hf_file("Qwen2-7B"))), 7615616512.0);
  EXPECT_DOUBLE_EQ(parameter_count(load_model(hf_file("gpt2"))), 124439808.0);
  EXPECT_DOUBLE_EQ(parameter_count(load_model(hf_file("pythia-160m"))), 162322944.0);
}

TEST(HuggingFaceConfig, LlamaConfigsAreTheBundledLlamas) {
  const ModelSpec llama3 = load_model(hf_file("Meta-Llama-3-8B"));
  EXPECT_TRUE(llama3.gated_mlp);
  EXPECT_EQ(llama3.num_key_value_heads, 8);
  EXPECT_EQ(llama3.ignored_huggingface_keys.at("rope_theta"), 500000.0);
  EXPECT_TRUE(llama3.ignored_huggingface_keys.contains("bos_token_id"));
  EXPECT_EQ(load_model(hf_file("Llama-2-7b-hf")).name, "Llama-2-7b-hf");  // from _name_or_path
  for (const auto& [folder, zoo_name] : {std::pair{"Meta-Llama-3-8B", "llama3-8b"}, std::pair{"Llama-2-7b-hf", "llama2-7b"}}) {
    ModelSpec hf = load_model(hf_file(folder));
    const ModelSpec zoo = load_model(zoo_name);
    hf.name = zoo.name;
    hf.description = zoo.description;
    hf.source = zoo.source;
    hf.ignored_huggingface_keys = Json::object();
    EXPECT_EQ(hf, zoo) << folder;  // the same block, so the same costs
  }
}

TEST(HuggingFaceConfig, ReferencePageHasTheDeclaredModelKeys) {
  std::ifstream in(core::data_dir() / "docs" / "reference.md");
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string section = model_keys_markdown();
  EXPECT_NE(page.find(section), std::string::npos) << "docs/reference.md lacks the model file section";
  for (const auto& k : model_keys().keys) EXPECT_NE(section.find("`" + k.spec.name + "`"), std::string::npos);
  const HuggingFaceKeys& hf = huggingface_keys();
  for (const auto& k : hf.mapped.keys) EXPECT_NE(section.find("`" + k.spec.name + "`"), std::string::npos);
  for (const auto& k : hf.ignored) EXPECT_NE(section.find("`" + k + "`"), std::string::npos);
  for (const auto& k : hf.refused) EXPECT_NE(section.find("`" + k.key + "`"), std::string::npos);
}

TEST(HuggingFaceConfig, FamiliesFixWhatTheFileDoesNotSay) {
  const ModelSpec gpt2 = load_model(hf_file("gpt2"));
  EXPECT_EQ(gpt2.hidden_size, 768);  // n_embd
  EXPECT_EQ(gpt2.intermediate_size, 3072);  // no n_inner: 4h
  EXPECT_EQ(gpt2.max_position_embeddings, 1024);  // n_positions
  EXPECT_TRUE(gpt2.tie_word_embeddings);  // GPT-2's default, not in the file
  EXPECT_FALSE(gpt2.gated_mlp);
  EXPECT_EQ(gpt2.position_embedding_type, "absolute");
  const ModelSpec qwen = load_model(hf_file("Qwen2-7B"));
  EXPECT_TRUE(qwen.qkv_bias);
  EXPECT_FALSE(qwen.use_bias);
  EXPECT_EQ(qwen.sliding_window, 0);  // use_sliding_window: false
  EXPECT_EQ(load_model(hf_file("Mistral-7B-v0.1")).sliding_window, 4096);
  // Round trip through FrugalSim's format, as config.resolved.json writes it.
  for (const char* f : {"gpt2", "Qwen2-7B", "Mistral-7B-v0.1", "pythia-160m"}) {
    const ModelSpec m = load_model(hf_file(f));
    EXPECT_EQ(read_model(to_json(m), "", ""), m) << f;
  }
}

TEST(HuggingFaceConfig, MixtureOfExpertsIsRefused) {
  try {
    load_model(hf_file("Mixtral-8x7B-v0.1"));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), hf_file("Mixtral-8x7B-v0.1"));
    EXPECT_EQ(e.pointer(), "/model_type");
    EXPECT_NE(e.message().find("mixture-of-experts is not modelled"), std::string::npos) << e.what();
  }
  Json j = core::load_json_file(hf_file("Meta-Llama-3-8B"));
  j["num_local_experts"] = 8;  // experts on a dense family
  EXPECT_EQ(load_error(j).pointer(), "/model/num_local_experts");
}

TEST(HuggingFaceConfig, UnknownAndUnmodelledKeysAreRefused) {
  const Json llama = core::load_json_file(hf_file("Meta-Llama-3-8B"));
  Json j = llama;
  j["num_sparse_layers"] = 4;  // not known: it may change cost
  ConfigError e = load_error(j);
  EXPECT_EQ(e.file(), "config.json");
  EXPECT_EQ(e.pointer(), "/model/num_sparse_layers");
  j = llama;
  j["head_dim"] = 256;  // attention wider than the residual stream
  EXPECT_EQ(load_error(j).pointer(), "/model/head_dim");
  j["head_dim"] = 128;  // = 4096 / 32: the same model
  EXPECT_NO_THROW(read_model(j, "config.json", ""));
  j = llama;
  j["mlp_bias"] = true;
  EXPECT_EQ(load_error(j).pointer(), "/model/mlp_bias");
  j = llama;
  j["architectures"] = Json::array({"LlamaForSequenceClassification"});
  EXPECT_EQ(load_error(j).pointer(), "/model/architectures/0");
  j = llama;
  j["model_type"] = "bert";
  e = load_error(j);
  EXPECT_EQ(e.pointer(), "/model/model_type");
  EXPECT_NE(e.message().find("gpt_neox"), std::string::npos);
  j = llama;
  j.erase("intermediate_size");  // gated families must say it
  EXPECT_EQ(load_error(j).pointer(), "/model/intermediate_size");
  Json gpt2 = core::load_json_file(hf_file("gpt2"));
  gpt2.erase("n_embd");
  e = load_error(gpt2);
  EXPECT_EQ(e.pointer(), "/model/hidden_size");
  EXPECT_NE(e.message().find("n_embd"), std::string::npos);
}

}  // namespace
}  // namespace frugal::workloads

// Model reader (FrugalSim's format and HuggingFace config.json), then the layer chain and the
// parameter count it implies: shapes the reader accepts must build without overflow.
#include "fuzz/fuzz_support.hpp"
#include "workloads/layer_chain.hpp"
#include "workloads/model_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frugal;
  return fuzz::guarded_json(data, size, [](const core::Json& doc) {
    const workloads::ModelSpec model = workloads::read_model(doc, "model.json", "");
    (void)workloads::parameter_count(model);
    (void)workloads::build_layer_chain(model, 1, core::Precision::kBf16, workloads::ShardSpec{});
  });
}

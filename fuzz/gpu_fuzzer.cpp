// One GPU object of the catalogue (platforms/gpus.json, a node type's inline "gpu").
#include "fuzz/fuzz_support.hpp"
#include "platforms/gpu_catalogue.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frugal;
  return fuzz::guarded_json(data, size, [](const core::Json& doc) {
    core::ObjectReader reader(doc, "gpus.json", "/fuzz");
    (void)platforms::read_gpu(reader, "fuzz");
  });
}

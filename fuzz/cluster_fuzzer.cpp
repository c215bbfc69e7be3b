// Cluster reader (node types, links, storage, availability models) over the shipped catalogue.
#include "fuzz/fuzz_support.hpp"
#include "platforms/cluster_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frugal;
  return fuzz::guarded_json(data, size, [](const core::Json& doc) {
    (void)platforms::read_cluster(doc, "cluster.json", "", platforms::GpuCatalogue::shipped());
  });
}

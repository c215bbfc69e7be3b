// Sweep file reader and point expansion; "study" paths resolve from results/checkpoint_interval/
// (the folder of the seed sweep, so "study.json" names a real study).
#include "fuzz/fuzz_support.hpp"
#include "sim/app/sweep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frugal;
  return fuzz::guarded_json(data, size, [](const core::Json& doc) {
    const app::Sweep sweep = app::read_sweep(doc, "sweep.json", FRUGAL_SOURCE_DIR "/results/checkpoint_interval");
    (void)app::expand(sweep);
  });
}

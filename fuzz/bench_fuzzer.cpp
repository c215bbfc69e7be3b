// Bench files through the fits of `frugalsim calibrate`, measurement files through the checks of
// `frugalsim validate`.
#include "fuzz/fuzz_support.hpp"
#include "sim/calibration/calibration.hpp"
#include "sim/calibration/input_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frugal;
  return fuzz::guarded_json(data, size, [](const core::Json& doc) {
    if (doc.is_object() && doc.value("format", core::Json()) == "frugal-real-measurements") {
      calibration::check_measurements_file(doc, "measurements.json");
      return;
    }
    (void)calibration::fit_benches({doc}, {"bench.json"}, 1e11);
  });
}

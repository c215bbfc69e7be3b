// Bench files and nccl-tests output through the fits of `frugalsim calibrate`, measurement files
// through the checks of `frugalsim validate`.
#include "fuzz/fuzz_support.hpp"
#include "sim/calibration/calibration.hpp"
#include "sim/calibration/input_files.hpp"
#include "sim/calibration/nccl_tests.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frugal;
  return fuzz::guarded(data, size, [](const std::string& text) {
    if (calibration::is_nccl_tests_output(text)) {
      (void)calibration::fit_benches({calibration::read_nccl_tests(text, "all_reduce_perf.txt")}, {"all_reduce_perf.txt"}, 1e11);
      return;
    }
    const core::Json doc = core::parse_json(text, "fuzz.json");
    if (doc.is_object() && doc.value("format", core::Json()) == "frugal-real-measurements") {
      calibration::check_measurements_file(doc, "measurements.json");
      return;
    }
    (void)calibration::fit_benches({doc}, {"bench.json"}, 1e11);
  });
}

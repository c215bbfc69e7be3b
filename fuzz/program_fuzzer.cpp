// Program reader, validator and the expansion of a compact program (what frugal-real, validate
// and the simulator read).
#include "fuzz/fuzz_support.hpp"
#include "sim/program/program.hpp"
#include "sim/program/rank_classes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frugal;
  return fuzz::guarded_json(data, size, [](const core::Json& doc) {
    const program::Program p = program::from_json(doc, "program.json");
    program::validate(p, "program.json");
    (void)program::expand(p);
  });
}

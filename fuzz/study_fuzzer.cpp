// Study reader with overrides: lines starting with "/" before the document are `--set
// POINTER=VALUE` overrides, applied as frugalsim applies them, then the study is read (model and
// cluster resolved from the repository's zoo, relative paths from its root).
#include <algorithm>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "sim/study/study.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frugal;
  return fuzz::guarded(data, size, [](const std::string& text) {
    std::vector<study::Override> overrides;
    std::size_t at = 0;
    while (at < text.size() && text[at] == '/') {
      const std::size_t end = std::min(text.find('\n', at), text.size());
      overrides.push_back(study::parse_override(text.substr(at, end - at)));
      at = end + 1;
    }
    core::Json doc = core::parse_json(at < text.size() ? text.substr(at) : std::string(), "study.json");
    study::apply_overrides(doc, overrides, "study.json");
    (void)study::read_study(doc, "study.json", FRUGAL_SOURCE_DIR);
  });
}

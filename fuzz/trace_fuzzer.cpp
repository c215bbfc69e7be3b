// Availability traces in every format: the first byte picks the format, the rest is the trace.
#include "fuzz/fuzz_support.hpp"
#include "platforms/availability/trace_formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frugal;
  if (size == 0) return 0;
  const auto& names = platforms::trace_format_names();
  const platforms::TraceFormat format = platforms::trace_format_from_name(names[data[0] % names.size()]);
  return fuzz::guarded(data + 1, size - 1, [format](const std::string& text) {
    (void)platforms::parse_trace(text, format, "trace");
  });
}

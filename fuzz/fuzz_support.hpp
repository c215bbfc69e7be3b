// Shared body of the libFuzzer targets: the input is handed to one reader; a core::ConfigError
// (bad input, exit 2 in the executables) is the expected outcome of most inputs, and anything
// else that escapes (another exception, a sanitizer report, a crash, a timeout) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/core/error.hpp"
#include "sim/core/json_reader.hpp"

namespace frugal::fuzz {

/// Calls `read(text)` on the input; swallows ConfigError only.
template <class Read>
int guarded(const std::uint8_t* data, std::size_t size, Read&& read) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    read(text);
  } catch (const core::ConfigError&) {
  }
  return 0;
}

/// `guarded` for readers of one JSON document, parsed as every input file is (core::parse_json).
template <class Read>
int guarded_json(const std::uint8_t* data, std::size_t size, Read&& read) {
  return guarded(data, size, [&](const std::string& text) { read(core::parse_json(text, "fuzz.json")); });
}

}  // namespace frugal::fuzz

// Test helper: validate() of a program as "pointer: message", or "" when it is valid.
#pragma once

#include <string>

#include "sim/core/error.hpp"
#include "sim/program/program.hpp"

namespace frugal::test_support {

inline std::string validation_error(const program::Program& p) {
  try {
    program::validate(p, "prog.json");
  } catch (const core::ConfigError& e) {
    return e.pointer() + ": " + e.message();
  }
  return "";
}

}  // namespace frugal::test_support

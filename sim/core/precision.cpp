// Precision names.
#include "sim/core/precision.hpp"

#include <stdexcept>

namespace frugal::core {

Precision parse_precision(const std::string& name) {
  const auto& names = precision_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<Precision>(i);
  throw std::invalid_argument("unknown precision \"" + name + "\"");
}

}  // namespace frugal::core

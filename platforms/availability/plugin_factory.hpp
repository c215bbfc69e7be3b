// Builds a plug-in from its registry and puts the file and JSON pointer on the cross-field
// errors its factory throws. Factories only see validated parameters, not where they came from:
// they throw core::ConfigError("", "/<param>", message) and this names the key the user wrote.
// (Generic; a candidate for sim/core/plugin.hpp.)
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "sim/core/plugin.hpp"

namespace frugal::platforms {

/// The key of `spec` that holds parameter `param`: `param` itself, or its SI-suffixed form
/// ("mtbf_s") when that is what the file has.
inline std::string given_key(const core::Json& spec, const std::string& param) {
  if (!spec.is_object() || spec.contains(param)) return param;
  for (const auto dim : {core::Dimension::kBytes, core::Dimension::kTime, core::Dimension::kBandwidth,
                         core::Dimension::kFlops, core::Dimension::kFlopRate, core::Dimension::kPower,
                         core::Dimension::kEnergy}) {
    const std::string si = param + std::string(core::si_suffix(dim));
    if (spec.contains(si)) return si;
  }
  return param;
}

/// registry.create(spec, file, pointer, resolved), with factory errors located in the file.
template <class Base>
std::unique_ptr<Base> create_plugin(const core::Registry<Base>& registry, const core::Json& spec,
                                    const std::string& file, const std::string& pointer,
                                    std::optional<core::PluginParams>* resolved = nullptr) {
  try {
    return registry.create(spec, file, pointer, resolved);
  } catch (const core::ConfigError& e) {
    if (!e.file().empty()) throw;
    const std::string param = e.pointer().size() > 1 ? e.pointer().substr(1) : std::string();
    throw core::ConfigError(file, param.empty() ? pointer : pointer + "/" + core::pointer_escape(given_key(spec, param)),
                            e.message());
  }
}

}  // namespace frugal::platforms

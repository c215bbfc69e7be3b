// The reference page docs/reference.md, generated from the declarations in the code (the keys
// of the study's sections, plug-in families, their plug-ins and parameters), so the page cannot
// drift from what is accepted.
// `frugalsim list --markdown` prints it; tests/config/reference_page_test.cpp compares.
#pragma once

#include <string>

namespace frugal::app {

/// The whole page, deterministic (sections and families in list order, plug-ins in name order).
std::string reference_markdown();

/// The command that regenerates the committed page, for messages.
inline constexpr const char* kRegenerateReference = "build/bin/frugalsim list --markdown > docs/reference.md";

}  // namespace frugal::app

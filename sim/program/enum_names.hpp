// Internal: string ↔ enum for the IR's JSON form (instantiated in program.cpp).
#pragma once

#include <string>
#include <vector>

namespace frugal::program {

template <class E>
E enum_from_string(const std::string& s, bool* ok);

template <class E>
const std::vector<std::string>& enum_names();

}  // namespace frugal::program

// Command-line parsing shared by frugalsim and frugal-real (boost::program_options): one style
// of options and one --help format ("usage: <tool> <command> ..." then the option table).
#pragma once

#include <iostream>
#include <ostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace frugal::core {

/// Where a command's positional arguments go: a hidden option of that name (its semantic
/// stores them), and how many there may be (-1: any number).
struct Positional {
  const char* name = nullptr;
  const boost::program_options::value_semantic* value = nullptr;  ///< owned by the parser once used
  int max_count = 1;
};

/// Parses `args` (the words after the command) against `options` plus "-h/--help" and the
/// positional arguments, if any. On --help prints "usage: " `usage` and the options to `help`
/// and returns false before any check of required options; otherwise stores and notifies
/// (required options missing throw) and returns true. Throws boost::program_options::error for
/// bad usage (unknown option, missing or malformed value, too many positional arguments).
bool parse_command_line(const std::vector<std::string>& args, const std::string& usage,
                        boost::program_options::options_description& options, const Positional& positional = {},
                        std::ostream& help = std::cout);

}  // namespace frugal::core

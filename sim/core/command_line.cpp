// Command-line parsing shared by the executables (contract in command_line.hpp).
#include "sim/core/command_line.hpp"

namespace frugal::core {

namespace po = boost::program_options;

bool parse_command_line(const std::vector<std::string>& args, const std::string& usage, po::options_description& options,
                        const Positional& positional, std::ostream& help) {
  options.add_options()("help,h", "show this help");
  po::options_description all;
  all.add(options);
  po::positional_options_description pos;
  if (positional.name != nullptr) {
    po::options_description hidden;
    hidden.add_options()(positional.name, positional.value, positional.name);
    all.add(hidden);
    pos.add(positional.name, positional.max_count);
  }
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  if (vm.count("help")) {
    help << "usage: " << usage << "\n" << options;
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace frugal::core

// frugalsim: command-line entry point. All logic lives in frugal_sim (sim/app); main() only maps
// errors to exit codes: 0 ok, 2 bad input (ConfigError), 3 internal error.
#include "sim/app/command_line.hpp"
#include "sim/app/commands.hpp"

int main(int argc, char** argv) {
  frugal::app::tune_allocator();
  frugal::core::install_output_guards();
  return frugal::app::run_main(argc, argv);
}

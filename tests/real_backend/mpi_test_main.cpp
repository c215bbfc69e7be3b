// main() of the real-backend tests: MPI is initialised once per test process (a singleton
// world of one rank), as frugal-real does, so in-process tests can build MPI communicators.
#include <gtest/gtest.h>

#include "real_backend/launch.hpp"

int main(int argc, char** argv) {
  frugal::real::MpiSession session(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

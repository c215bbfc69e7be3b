// Command-line plumbing shared by the subcommands (see command_line.hpp).
#include "sim/app/command_line.hpp"

#include <malloc.h>

#include <fstream>
#include <iostream>


namespace frugal::app {

namespace po = boost::program_options;

void tune_allocator() { mallopt(M_MXFAST, 0); }

void commit_files(const std::filesystem::path& dir, const std::vector<PendingFile>& files) {
  if (!dir.empty()) std::filesystem::create_directories(dir);
  std::vector<std::filesystem::path> temps;
  const auto discard = [&temps] {
    std::error_code ignored;
    for (const auto& t : temps) std::filesystem::remove(t, ignored);
  };
  for (const auto& f : files) {
    auto tmp = f.final_path;
    tmp += ".tmp";
    temps.push_back(tmp);
    std::ofstream out(tmp, std::ios::binary);
    if (f.write) f.write(out);
    else out << f.text;
    out.close();  // the last buffered write can fail too
    if (!out) {
      discard();
      throw OutputError(tmp.string() + ": cannot write file");
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i) std::filesystem::rename(temps[i], files[i].final_path);
}

void write_atomically(const std::filesystem::path& path, const std::string& text) { commit_files({}, {{path, text}}); }

}  // namespace frugal::app

// Command-line plumbing shared by the subcommands (see command_line.hpp).
#include "sim/app/command_line.hpp"

#include <malloc.h>

#include <fstream>
#include <iostream>


namespace frugal::app {

namespace po = boost::program_options;

void tune_allocator() { mallopt(M_MXFAST, 0); }

void commit_files(const std::filesystem::path& dir, const std::vector<PendingFile>& files) {
  // Only regular files are replaced: never a directory, and never a device such as /dev/null
  // (renaming over it would replace the device node with a plain file).
  for (const auto& f : files) {
    std::error_code ec;
    const auto status = std::filesystem::status(f.final_path, ec);  // through links: /dev/stdout too
    if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
      throw core::ConfigError(f.final_path.string(), "",
                              std::string("output path exists and is ") +
                                  (std::filesystem::is_directory(status) ? "a directory" : "not a regular file") +
                                  ": name a file (it is created or replaced)");
  }
  if (!dir.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec))
      throw core::ConfigError(dir.string(), "", "output folder exists and is not a folder: name a folder");
    std::filesystem::create_directories(dir, ec);
    if (ec) throw OutputError(dir.string() + ": cannot create the output folder (" + ec.message() + ")");
  }
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
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::error_code ec;
    std::filesystem::rename(temps[i], files[i].final_path, ec);
    if (ec) {
      discard();
      throw OutputError(files[i].final_path.string() + ": cannot write file (" + ec.message() + ")");
    }
  }
}

void write_atomically(const std::filesystem::path& path, const std::string& text) { commit_files({}, {{path, text}}); }

}  // namespace frugal::app

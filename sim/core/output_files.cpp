// Output files written whole or not at all (see output_files.hpp).
#include "sim/core/output_files.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>
#include <fstream>

#include "sim/core/error.hpp"

namespace frugal::core {
namespace {

// Temporaries being written, for the signal handler: fixed storage, so that removing them is
// async-signal-safe (unlink only). A path too long for a slot is not guarded (and not written
// differently).
constexpr std::size_t kSlots = 64, kPathBytes = 4096;
std::array<std::array<char, kPathBytes>, kSlots> g_temps{};
volatile sig_atomic_t g_live = 0;  // slots [0, g_live) hold live temporaries

void remove_temporaries_and_die(int signal) {
  for (sig_atomic_t i = 0; i < g_live; ++i) ::unlink(g_temps[static_cast<std::size_t>(i)].data());
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

/// Guards `temps` (the temporaries of one commit_files) until destroyed.
class GuardedTemporaries {
 public:
  explicit GuardedTemporaries(const std::vector<std::filesystem::path>& temps) {
    sig_atomic_t n = 0;
    for (const auto& t : temps) {
      const std::string s = t.string();
      if (static_cast<std::size_t>(n) == kSlots || s.size() >= kPathBytes) continue;
      std::memcpy(g_temps[static_cast<std::size_t>(n)].data(), s.c_str(), s.size() + 1);
      ++n;
    }
    g_live = n;
  }
  ~GuardedTemporaries() { g_live = 0; }
  GuardedTemporaries(const GuardedTemporaries&) = delete;
  GuardedTemporaries& operator=(const GuardedTemporaries&) = delete;
};

}  // namespace

void check_output_target(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);  // through links: /dev/stdout too
  if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    throw ConfigError(path.string(), "",
                      std::string("output path exists and is ") +
                          (std::filesystem::is_directory(status) ? "a directory" : "not a regular file") +
                          ": name a file (it is created or replaced)");
}

void commit_files(const std::filesystem::path& dir, const std::vector<PendingFile>& files) {
  for (const auto& f : files) check_output_target(f.final_path);
  if (!dir.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec))
      throw ConfigError(dir.string(), "", "output folder exists and is not a folder: name a folder");
    std::filesystem::create_directories(dir, ec);
    if (ec) throw OutputError(dir.string() + ": cannot create the output folder (" + ec.message() + ")");
  }
  std::vector<std::filesystem::path> temps;
  for (const auto& f : files) temps.push_back(std::filesystem::path(f.final_path) += ".tmp");
  const GuardedTemporaries guard(temps);
  const auto discard = [&temps] {
    std::error_code ignored;
    for (const auto& t : temps) std::filesystem::remove(t, ignored);
  };
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::ofstream out(temps[i], std::ios::binary);
    if (files[i].write) files[i].write(out);
    else out << files[i].text;
    out.close();  // the last buffered write can fail too
    if (!out) {
      const int error = errno;
      discard();
      throw OutputError(files[i].final_path.string() + ": cannot write file" +
                        (error ? std::string(" (") + std::strerror(error) + ")" : std::string()));
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

void write_atomically(const std::filesystem::path& path, const std::string& text) {
  commit_files({}, {{path, text, nullptr}});
}

void install_output_guards() {
  ::signal(SIGXFSZ, SIG_IGN);
  struct sigaction action {};
  action.sa_handler = remove_temporaries_and_die;
  sigemptyset(&action.sa_mask);
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction previous {};
    // A signal the parent chose to ignore (nohup) stays ignored.
    if (::sigaction(s, nullptr, &previous) == 0 && previous.sa_handler == SIG_IGN) continue;
    ::sigaction(s, &action, nullptr);
  }
}

}  // namespace frugal::core

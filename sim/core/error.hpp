// Typed errors of FrugalSim. Library code throws; only main() turns an error into an exit code.
// A ConfigError always names the file and the JSON pointer (or line) of the faulty input.
#pragma once

#include <stdexcept>
#include <string>

namespace frugal::core {

/// Bad user input: a file, a JSON pointer (or "line N") inside it, and what was expected.
/// `what()` reads `file:pointer: message` (`--option: message` for a command-line option), control characters other than newline and tab (a NUL in a key, say) written as
/// \xNN so the whole message prints. The CLI exits with code 2 on it.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, std::string pointer, std::string message)
      : std::runtime_error(format(file, pointer, message)),
        file_(std::move(file)),
        pointer_(std::move(pointer)),
        message_(std::move(message)) {}

  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }
  const std::string& message() const { return message_; }

 private:
  static std::string format(const std::string& file, const std::string& pointer,
                            const std::string& message) {
    std::string out = file.empty() ? std::string("<input>") : file;
    // A command-line option ("--ranks") has no JSON inside it: "--ranks: message".
    if (!pointer.empty() || file.rfind("--", 0) != 0) out += ":" + (pointer.empty() ? std::string("/") : pointer);
    out += ": ";
    out += message;
    std::string shown;
    for (const char c : out) {
      const auto u = static_cast<unsigned char>(c);
      if ((u >= 0x20 && u != 0x7f) || c == '\n' || c == '\t') {
        shown += c;
      } else {
        static constexpr char kHex[] = "0123456789abcdef";
        shown += "\\x";
        shown += kHex[u >> 4];
        shown += kHex[u & 15];
      }
    }
    return shown;
  }
  std::string file_;
  std::string pointer_;
  std::string message_;
};

/// A broken internal invariant (a bug, not bad input). The CLI exits with code 3 on it.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace frugal::core

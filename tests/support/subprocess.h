// Subprocess: starts a program for an integration test and stops it by PID.
// The child's stdout and stderr go to a file the test can read. Not thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vigil::testing {

class Subprocess {
 public:
  // Starts argv[0] with the arguments; output to `log_path`.
  Subprocess(const std::vector<std::string>& argv, const std::string& log_path);
  ~Subprocess();  // SIGKILL if still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  int pid() const { return pid_; }
  bool Signal(int sig);
  // The exit status (or 128+signal) once it ended within `timeout`; nullopt otherwise.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool Running();
  std::string Output() const;

 private:
  int pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

// Runs a shell command; returns (exit code, combined output).
std::pair<int, std::string> RunCommand(const std::string& command);
// A free TCP port on 127.0.0.1 (bound to port 0 and released); -1 when none.
int FreePort();
// Waits until `url` answers 200 (real time, bounded).
bool WaitForHttp(const std::string& host, int port, const std::string& path,
                 std::chrono::milliseconds timeout);
// Polls `done` every `every` until it is true or `max` has passed; returns the last result.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds max,
             std::chrono::milliseconds every = std::chrono::milliseconds(50));
// Writes `text` to `path` (replacing it).
void WriteFile(const std::filesystem::path& path, const std::string& text);
// The value of environment variable `name`; FAILs the test (loudly) when it is unset.
std::string RequireEnv(const char* name);

}  // namespace vigil::testing

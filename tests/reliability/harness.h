// The reliability suite's harness: real servers the test starts itself (so it can kill,
// freeze and restart them), the vigil binary, and helpers to read vigil's /metrics and
// Alertmanager's alerts. Everything started is stopped by PID in destructors, however the test
// ends (a frozen server is thawed first).
#pragma once

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace vigil::reliability {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double SecondsSince(Clock::time_point t0);
void WriteFile(const fs::path& p, const std::string& text);
// A fresh temporary directory for one test, removed by the destructor.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name);
  ~TempDir();
};

using testing::WaitFor;

// A server started with tests/support/servers.sh (postgres, redis, alertmanager).
class Server {
 public:
  Server(std::string kind, fs::path dir, std::string extra_env = "");
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void Start();  // on the same port after the first start
  void Stop();   // servers.sh stop
  // SIGKILL (PostgreSQL: the postmaster and every backend, as a host crash would).
  void Kill();
  // SIGSTOP / SIGCONT (PostgreSQL: every process of the server), so connections hang.
  void Freeze();
  void Thaw();
  int port() const { return port_; }
  int pid() const { return pid_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::vector<int> Pids() const;
  std::string kind_;
  fs::path dir_;
  std::string extra_env_;
  int port_ = 0;
  int pid_ = 0;
  bool frozen_ = false;
};

// A static /metrics endpoint (python3 http.server over a directory): the scrape target.
class MetricsTarget {
 public:
  explicit MetricsTarget(fs::path dir);
  void Start();  // on the same port after the first start
  void Kill() {
    proc_->Signal(SIGKILL);
    proc_->Wait(5s);
  }
  void Freeze() { proc_->Signal(SIGSTOP); }
  void Thaw() { proc_->Signal(SIGCONT); }
  int port() const { return port_; }
  ~MetricsTarget();

 private:
  fs::path dir_;
  int port_ = 0;
  std::unique_ptr<testing::Subprocess> proc_;
};

// The vigil binary on a free port.
class Vigil {
 public:
  Vigil(const fs::path& config, const fs::path& log, int port = 0);
  ~Vigil();
  int port() const { return port_; }
  int pid() const { return proc_->pid(); }
  testing::Subprocess& proc() { return *proc_; }
  // GET on vigil; nullopt when it fails. `latency` gets the time taken.
  std::optional<std::string> Get(const std::string& path, std::chrono::milliseconds timeout = 2s,
                                 double* latency = nullptr) const;

 private:
  int port_;
  std::unique_ptr<testing::Subprocess> proc_;
};

// The value of the first sample of `name` in exposition text whose labels contain every
// `label="value"` pair in `match` (nullopt when none).
std::optional<double> SampleValue(const std::string& metrics, const std::string& name,
                                  const std::vector<std::string>& match = {});
// Sum of every sample of `name` matching `match`.
double SampleSum(const std::string& metrics, const std::string& name,
                 const std::vector<std::string>& match = {});
// Every sample value of `name`.
std::vector<double> SampleValues(const std::string& metrics, const std::string& name);

// The alerts named `alertname` an Alertmanager holds (GET /api/v2/alerts): "" when none,
// "active" (or another state), nullopt when Alertmanager does not answer.
std::optional<std::string> AmAlertState(int am_port, const std::string& alertname);

// A numeric field of /proc/PID/status ("VmRSS:", "VmHWM:" in kB; "Threads:"); 0 when absent.
double ProcStatusField(int pid, const std::string& field);
// /proc/PID/task and /proc/PID/fd entries.
int CountThreads(int pid);
// Threads of PID whose name (/proc/PID/task/TID/comm) is `name`.
int CountThreadsNamed(int pid, const std::string& name);
int CountFds(int pid);

}  // namespace vigil::reliability

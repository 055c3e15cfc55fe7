// PrometheusProcess: runs a real `prometheus` binary on a TSDB directory, on a free loopback
// port, for differential tests. The process is started by PID and stopped by that PID in the
// destructor (SIGTERM, then SIGKILL after 10 s). Not thread-safe.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace vigil::promql::testing {

// Runs a command to completion; returns its exit code (-1 when it could not start). Output
// goes to `log_path`.
int RunCommand(const std::vector<std::string>& argv, const std::string& log_path);

using ::vigil::testing::FreePort;

class PrometheusProcess {
 public:
  PrometheusProcess() = default;
  ~PrometheusProcess();
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // Starts prometheus on `tsdb_dir` and waits up to 60 s for /-/ready. Returns "" or an error.
  std::string Start(const std::string& tsdb_dir, const std::string& work_dir);
  void Stop();
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace vigil::promql::testing

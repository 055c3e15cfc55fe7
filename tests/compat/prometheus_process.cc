#include "tests/compat/prometheus_process.h"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

extern char** environ;

namespace vigil::promql::testing {
namespace {

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

}  // namespace

int RunCommand(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_t pid = Spawn(argv, log_path);
  if (pid < 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

PrometheusProcess::~PrometheusProcess() { Stop(); }

std::string PrometheusProcess::Start(const std::string& tsdb_dir, const std::string& work_dir) {
  port_ = FreePort();
  if (port_ <= 0) return "no free port";
  std::string config = work_dir + "/prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 15s\n";
  pid_ = Spawn({"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + tsdb_dir,
                "--storage.tsdb.retention.time=100y",
                "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
               work_dir + "/prometheus.log");
  if (pid_ < 0) return "cannot start prometheus (is it installed?)";
  httplib::Client cli("127.0.0.1", port_);
  cli.set_connection_timeout(1, 0);
  for (int i = 0; i < 600; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return "prometheus exited early; see " + work_dir + "/prometheus.log";
    }
    auto res = cli.Get("/-/ready");
    if (res && res->status == 200) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "prometheus not ready after 60 s";
}

void PrometheusProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace vigil::promql::testing

#include "tests/reliability/harness.h"

#include <httplib.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace vigil::reliability {

namespace {
const std::string kServers = std::string(VIGIL_SOURCE_DIR) + "/tests/support/servers.sh";

std::vector<int> ChildrenOf(int parent) {
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(e.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) out.push_back(std::stoi(name));
  }
  return out;
}
}  // namespace

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
}

TempDir::TempDir(const std::string& name)
    : path(fs::temp_directory_path() / ("vigil-rel-" + name + "-" + std::to_string(getpid()))) {
  fs::remove_all(path);
  fs::create_directories(path);
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

Server::Server(std::string kind, fs::path dir, std::string extra_env)
    : kind_(std::move(kind)), dir_(std::move(dir)), extra_env_(std::move(extra_env)) {
  Start();
}

Server::~Server() {
  if (frozen_) Thaw();
  Stop();
}

void Server::Start() {
  std::string env = extra_env_ + " ";
  if (port_) env += "VIGIL_PORT=" + std::to_string(port_) + " ";
  // A killed PostgreSQL's backends may take a moment to let go of shared memory: retry.
  for (int attempt = 0;; ++attempt) {
    auto [rc, out] = testing::RunCommand(env + kServers + " start " + kind_ + " " + dir_.string());
    if (rc == 0) {
      std::string last = out.substr(out.find_last_of('\n', out.size() - 2) + 1);
      std::istringstream in(last);
      in >> port_ >> pid_;
      return;
    }
    if (attempt == 10) FAIL("cannot start " << kind_ << ": " << out);
    std::this_thread::sleep_for(300ms);
  }
}

void Server::Stop() { testing::RunCommand(kServers + " stop " + kind_ + " " + dir_.string()); }

std::vector<int> Server::Pids() const {
  std::vector<int> pids{pid_};
  if (kind_ == "postgres") {
    for (int c : ChildrenOf(pid_)) pids.push_back(c);
  }
  return pids;
}

void Server::Kill() {
  for (int p : Pids()) ::kill(p, SIGKILL);
  // Wait until the processes are gone (the postmaster is not our child: poll /proc).
  WaitFor(
      [&] {
        return !fs::exists("/proc/" + std::to_string(pid_)) || [&] {
          std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
          std::string s((std::istreambuf_iterator<char>(in)), {});
          auto c = s.rfind(')');
          return c != std::string::npos && s.size() > c + 2 && s[c + 2] == 'Z';
        }();
      },
      5s);
}

void Server::Freeze() {
  // Children first, so none notices its parent stopped.
  std::vector<int> pids = Pids();
  for (auto it = pids.rbegin(); it != pids.rend(); ++it) ::kill(*it, SIGSTOP);
  frozen_ = true;
}

void Server::Thaw() {
  for (int p : Pids()) ::kill(p, SIGCONT);
  frozen_ = false;
}

MetricsTarget::MetricsTarget(fs::path dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_);
  WriteFile(dir_ / "metrics",
            "# HELP shop_up A static target.\n# TYPE shop_up gauge\nshop_up 1\n"
            "# TYPE shop_requests_total counter\nshop_requests_total{code=\"200\"} 42\n");
  port_ = testing::FreePort();
  Start();
}

void MetricsTarget::Start() {
  proc_ = std::make_unique<testing::Subprocess>(
      std::vector<std::string>{"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                               "--directory", dir_.string(), std::to_string(port_)},
      (dir_ / "http.log").string());
  if (!testing::WaitForHttp("127.0.0.1", port_, "/metrics", 10s)) {
    FAIL("the metrics target did not start");
  }
}

MetricsTarget::~MetricsTarget() {
  if (proc_) {
    proc_->Signal(SIGCONT);
    proc_->Signal(SIGKILL);
    proc_->Wait(5s);
  }
}

Vigil::Vigil(const fs::path& config, const fs::path& log, int port)
    : port_(port ? port : testing::FreePort()) {
  proc_ = std::make_unique<testing::Subprocess>(
      std::vector<std::string>{VIGIL_BINARY, "--config.file=" + config.string(),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
      log.string());
  if (!testing::WaitForHttp("127.0.0.1", port_, "/-/healthy", 10s)) {
    FAIL("vigil did not start: " << proc_->Output());
  }
}

Vigil::~Vigil() {
  if (proc_->Running()) {
    proc_->Signal(SIGTERM);
    if (!proc_->Wait(5s)) proc_->Signal(SIGKILL);
  }
}

std::optional<std::string> Vigil::Get(const std::string& path, std::chrono::milliseconds timeout,
                                      double* latency) const {
  auto t0 = Clock::now();
  httplib::Client c("127.0.0.1", port_);
  c.set_connection_timeout(timeout);
  c.set_read_timeout(timeout);
  auto res = c.Get(path.c_str());
  if (latency) *latency = SecondsSince(t0);
  if (!res || res->status != 200) return std::nullopt;
  return res->body;
}

namespace {
// Lines "name{labels} value" or "name value".
template <typename F>
void ForEachSample(const std::string& metrics, const std::string& name,
                   const std::vector<std::string>& match, F f) {
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() <= name.size() || line.compare(0, name.size(), name) != 0) continue;
    char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    std::string labels =
        next == '{' ? line.substr(name.size(), line.rfind('}') - name.size()) : std::string();
    bool ok = true;
    for (const std::string& m : match) {
      if (labels.find(m) == std::string::npos) ok = false;
    }
    if (!ok) continue;
    std::size_t space = line.rfind(' ');
    try {
      f(std::stod(line.substr(space + 1)));
    } catch (...) {
    }
  }
}
}  // namespace

std::optional<double> SampleValue(const std::string& metrics, const std::string& name,
                                  const std::vector<std::string>& match) {
  std::optional<double> out;
  ForEachSample(metrics, name, match, [&](double v) {
    if (!out) out = v;
  });
  return out;
}

double SampleSum(const std::string& metrics, const std::string& name,
                 const std::vector<std::string>& match) {
  double sum = 0;
  ForEachSample(metrics, name, match, [&](double v) { sum += v; });
  return sum;
}

std::vector<double> SampleValues(const std::string& metrics, const std::string& name) {
  std::vector<double> out;
  ForEachSample(metrics, name, {}, [&](double v) { out.push_back(v); });
  return out;
}

std::optional<std::string> AmAlertState(int am_port, const std::string& alertname) {
  httplib::Client c("127.0.0.1", am_port);
  c.set_connection_timeout(1s);
  c.set_read_timeout(1s);
  auto res = c.Get(("/api/v2/alerts?filter=alertname%3D%22" + alertname + "%22").c_str());
  if (!res || res->status != 200) return std::nullopt;
  auto alerts = nlohmann::json::parse(res->body, nullptr, false);
  if (!alerts.is_array()) return std::nullopt;
  for (const auto& a : alerts) {
    // Resolved alerts (endsAt in the past) are not listed by default; be explicit anyway.
    return a["status"]["state"].get<std::string>();
  }
  return std::string();
}

double ProcStatusField(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field)) return std::atof(line.c_str() + field.size());
  }
  return 0;
}

int CountThreads(int pid) {
  int n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec);
       !ec && it != fs::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

int CountThreadsNamed(int pid, const std::string& name) {
  int n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec);
       !ec && it != fs::directory_iterator(); ++it) {
    std::ifstream comm(it->path() / "comm");
    std::string line;
    if (std::getline(comm, line) && line == name) ++n;
  }
  return n;
}

int CountFds(int pid) {
  int n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

}  // namespace vigil::reliability

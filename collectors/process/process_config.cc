#include "collectors/process/process_config.h"

#include "collectors/process/process_collector.h"

namespace vigil {

void ParseProcessConfig(const ConfigNode& node, CollectorSpec& spec) {
  ProcessGroupConfig config;
  config.name = spec.target;
  config.proc_root = node.String("proc_root", "/proc");
  config.threads = node.Bool("threads", true);
  std::optional<ConfigNode> match = node.Child("match");
  if (!match || !match->IsMap()) {
    node.Error("missing \"match\": give one of comm, cmdline, pidfile, cgroup or self");
  } else {
    ProcessMatch& m = config.match;
    if (auto comm = match->Child("comm")) {
      if (match->List("comm").empty()) {
        m.comm.push_back(comm->AsString());
      } else {
        m.comm = match->StringList("comm");
      }
    }
    m.cmdline = match->Regex("cmdline");
    m.pidfile = match->String("pidfile");
    m.cgroup = match->String("cgroup");
    m.self = match->Bool("self", false);
    match->CheckUnknownKeys();
    int given =
        !m.comm.empty() + !m.cmdline.empty() + !m.pidfile.empty() + !m.cgroup.empty() + m.self;
    if (given == 0) match->Error("give one of comm, cmdline, pidfile, cgroup or self");
    if (m.self && given > 1) match->Error("self: true cannot be combined with other matchers");
  }
  spec.make = [config] { return std::make_unique<ProcessCollector>(config); };
}

std::vector<CollectorSpec> SelfProcessDefaults() {
  CollectorSpec spec;
  spec.kind = "self";
  spec.target = "vigil";
  spec.make = [] { return std::make_unique<SelfProcessCollector>(); };
  return {spec};
}

}  // namespace vigil

#include "collectors/process/process_config.h"

#include "collectors/process/process_collector.h"

namespace vigil::collectors {

void ParseProcessConfig(const ConfigNode& node, CollectorSpec& spec) {
  ProcessGroupConfig config;
  config.name = spec.target;
  config.proc_root = node.String("proc_root", "/proc");
  config.threads = node.Bool("threads", true);
  config.pss_interval = node.GetDuration("pss_interval", config.pss_interval);
  std::optional<ConfigNode> match = node.Child("match");
  if (!match || !match->IsMap()) {
    node.Error("missing \"match\": give one of comm, cmdline, pidfile, cgroup or self");
  } else {
    ProcessMatch& m = config.match;
    if (auto comm = match->Child("comm"); comm && comm->IsList()) {
      m.comm = match->StringList("comm");
    } else if (comm) {
      m.comm.push_back(comm->AsString());
    }
    m.cmdline = match->Regex("cmdline");
    m.pidfile = match->String("pidfile");
    m.cgroup = match->String("cgroup");
    m.self = match->Bool("self", false);
    match->CheckUnknownKeys();
    int given = 0;  // counted by key, so a bad value is not reported twice
    for (const char* key : {"comm", "cmdline", "pidfile", "cgroup"}) given += match->Has(key);
    given += m.self;
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

}  // namespace vigil::collectors

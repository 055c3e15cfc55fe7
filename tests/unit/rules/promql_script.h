// PromQL engine test scripts (Prometheus-style):
//
//   load 5m
//     http_requests_total{job="api"} 0+10x10 _ stale
//   eval instant at 10m rate(http_requests_total[5m])
//     {job="api"} 0.0333333
//   eval_ordered instant at 10m sort(x)      (result order must match)
//   eval_fail instant at 10m a + on() b      (an optional line "error <substring>")
//   eval range from 0 to 10m step 5m x       (lines "{labels} v v _ v")
//   clear
//
// Lines starting with '#' are comments. RunPromqlScript is thread-compatible.
#pragma once

#include <string>
#include <vector>

namespace vigil::promql::testing {

struct ScriptResult {
  int evals = 0;                      // eval commands run
  std::vector<std::string> failures;  // "file:line: message"
};

ScriptResult RunPromqlScript(const std::string& text, const std::string& filename);

}  // namespace vigil::promql::testing

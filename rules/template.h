// Template: the subset of Go's text/template that Prometheus alert labels and annotations use.
//
// Supports {{ }} actions with trim markers, pipelines with `|`, variables ($labels, $value,
// $externalLabels, $externalURL and declared ones), fields (.Labels.x, .Value), if/else if/
// else, range (with $i, $x :=), with, and the functions printf, print, humanize,
// humanize1024, humanizeDuration, humanizePercentage, humanizeTimestamp, query, first, value,
// label, sortByLabel, toUpper, toLower, title, match, reReplaceAll, eq ne lt le gt ge, and
// or not, len, index. Missing map keys give "" (Prometheus' missingkey=zero). Errors are
// values. A Template is immutable once parsed; Execute is thread-safe when the query
// function is.
//
// Bounds (vigil's own: Go's text/template has none of these, Prometheus relies on the rule's
// context deadline). Parse rejects unknown functions (as Go's parser does), nesting deeper than
// kMaxTemplateNesting and literal printf formats with a width or precision over
// kMaxPrintfWidth. Execute stops with a limit error when the output or any string it builds
// passes kMaxTemplateOutputBytes, after kMaxTemplateSteps steps (nodes, range iterations,
// function calls) or kMaxTemplateQueries query calls; a printf width over the bound in a
// format built at run time is a limit error too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/base/labels.h"
#include "agent/base/status.h"
#include "rules/promql/value.h"

namespace vigil::rules {

inline constexpr int kMaxPrintfWidth = 4096;  // printf width and precision
inline constexpr std::size_t kMaxTemplateOutputBytes = 64 * 1024;
inline constexpr int kMaxTemplateNesting = 100;  // if/range/with/else-if and parentheses
inline constexpr std::int64_t kMaxTemplateSteps = 100'000;
inline constexpr int kMaxTemplateQueries = 100;

// Runs a PromQL instant query at the template's evaluation time.
using TemplateQueryFunc = std::function<Result<promql::Vector>(const std::string& query)>;

struct TemplateData {
  Labels labels;
  Labels external_labels;
  std::string external_url;
  double value = 0;
};

class Template {
 public:
  // Parses `text`; `name` is used in error messages.
  static Result<Template> Parse(const std::string& name, const std::string& text);

  // `limit_hit` (optional) is set when execution stopped at one of the bounds above rather
  // than at an error of the template itself.
  Result<std::string> Execute(const TemplateData& data, const TemplateQueryFunc& query,
                              bool* limit_hit = nullptr) const;

  struct Node;  // defined in template.cc

 private:
  std::string name_;
  std::shared_ptr<const std::vector<std::unique_ptr<Node>>> root_;
};

// Expands `text` for an alert as Prometheus does: errors come back as the text
// "<error expanding template: ...>". When the expansion stopped at a bound, `limit_error`
// (optional) gets the error too, so that the caller can mark the rule unhealthy.
std::string ExpandAlertTemplate(const std::string& name, const std::string& text,
                                const TemplateData& data, const TemplateQueryFunc& query,
                                std::string* limit_error = nullptr);

// Go's %v formatting of a float64 ("1e+06", "0.5", "NaN", "+Inf").
std::string GoFormatFloat(double v);

}  // namespace vigil::rules

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
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/base/labels.h"
#include "agent/base/status.h"
#include "rules/promql/value.h"

namespace vigil::rules {

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

  Result<std::string> Execute(const TemplateData& data, const TemplateQueryFunc& query) const;

  struct Node;  // defined in template.cc

 private:
  std::string name_;
  std::shared_ptr<const std::vector<std::unique_ptr<Node>>> root_;
};

// Expands `text` for an alert as Prometheus does: errors come back as the text
// "<error expanding template: ...>".
std::string ExpandAlertTemplate(const std::string& name, const std::string& text,
                                const TemplateData& data, const TemplateQueryFunc& query);

// Go's %v formatting of a float64 ("1e+06", "0.5", "NaN", "+Inf").
std::string GoFormatFloat(double v);

}  // namespace vigil::rules

// Labels: an immutable-by-convention, sorted set of name/value pairs identifying a series.
//
// Names are unique and kept sorted by name, so two equal label sets compare equal and hash
// equal. The metric name, where present, is the label "__name__". Not thread-safe to mutate.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/base/status.h"

namespace vigil {

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
  auto operator<=>(const Label&) const = default;
};

class Labels {
 public:
  Labels() = default;
  Labels(std::initializer_list<Label> labels);  // later duplicates replace earlier ones
  explicit Labels(std::vector<Label> labels);

  // Returns the value of `name`, or "" when absent (as PromQL treats missing labels).
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // Sets `name` to `value`; an empty value removes the label (PromQL semantics).
  void Set(std::string_view name, std::string_view value);
  void Remove(std::string_view name);

  const std::vector<Label>& items() const { return items_; }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

  std::size_t Hash() const;
  // {a="1", b="x\"y"} with Prometheus escaping; "{}" when empty.
  std::string ToString() const;

  bool operator==(const Labels&) const = default;
  auto operator<=>(const Labels&) const = default;

 private:
  std::vector<Label> items_;  // sorted by name, names unique
};

struct LabelsHash {
  std::size_t operator()(const Labels& l) const { return l.Hash(); }
};

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(std::string_view name);
// Label names: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsValidLabelName(std::string_view name);
// OK when every name is valid and none is reserved ("__" prefix); otherwise names the offender.
Status ValidateUserLabels(const Labels& labels);
// Escapes \, " and newline as the text exposition format requires for label values.
std::string EscapeLabelValue(std::string_view value);

}  // namespace vigil

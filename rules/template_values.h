// The values a template computes with (TValue: Go's nil, bool, int, float64, string,
// map[string]string, structs and slices, as far as Prometheus's templates use them) and Go's
// fmt as they need it (Sprintf's verbs, Prometheus's humanize functions, Go's float
// formatting). Internal to the template engine (rules/template*.cc): not a public API.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agent/base/labels.h"
#include "agent/base/status.h"
#include "rules/promql/value.h"

namespace vigil::rules::template_internal {

struct TValue;
using Fields = std::vector<std::pair<std::string, TValue>>;

struct TValue {
  enum class Kind { kNil, kBool, kInt, kFloat, kString, kStringMap, kObject, kList };
  // Declared here, defined below once TValue is complete: std::pair<std::string, TValue>
  // (Fields) must not be instantiated while TValue is incomplete (clang rejects it).
  TValue();
  TValue(const TValue&);
  TValue(TValue&&) noexcept;
  TValue& operator=(const TValue&);
  TValue& operator=(TValue&&) noexcept;
  ~TValue();

  Kind kind = Kind::kNil;
  bool b = false;
  std::int64_t i = 0;
  double f = 0;
  std::string s;
  std::map<std::string, std::string> map;  // kStringMap
  Fields fields;                           // kObject (ordered)
  std::vector<TValue> list;                // kList

  static TValue Bool(bool v) {
    TValue t;
    t.kind = Kind::kBool;
    t.b = v;
    return t;
  }
  static TValue Int(std::int64_t v) {
    TValue t;
    t.kind = Kind::kInt;
    t.i = v;
    return t;
  }
  static TValue Float(double v) {
    TValue t;
    t.kind = Kind::kFloat;
    t.f = v;
    return t;
  }
  static TValue Str(std::string v) {
    TValue t;
    t.kind = Kind::kString;
    t.s = std::move(v);
    return t;
  }
  static TValue Map(const Labels& l) {
    TValue t;
    t.kind = Kind::kStringMap;
    for (const auto& lab : l) t.map[lab.name] = lab.value;
    return t;
  }
};

// {Labels, Value} of a query result's sample.
TValue SampleValue(const promql::Sample& s);
// Go's %T of the value ("string", "float64", ...), for error messages.
const char* GoTypeName(const TValue& v);
// What {{ . }} writes: Go's %v.
std::string Print(const TValue& v);
// Go's truth: false, 0, "", nil and empty collections are false.
bool Truth(const TValue& v);
// A number from a number or a numeric string (Prometheus's humanize functions accept both).
Result<double> ToFloat(const TValue& v);

// fmt.Sprintf("%.4g", v).
std::string GoG4(double v);
// fmt.Sprintf subset: flags, width, precision and the verbs v s d f F e E g G x X q t %.
// Widths and precisions over kMaxPrintfWidth are errors.
Result<std::string> GoSprintf(const std::string& format, const std::vector<TValue>& args);
// The widths and precisions of a literal printf format, checked at parse time.
Status CheckPrintfFormat(const std::string& format);
std::string Humanize(double v);
std::string Humanize1024(double v);
std::string HumanizeDuration(double v);
std::string HumanizeTimestamp(double v);

}  // namespace vigil::rules::template_internal

// Aggregation operators with Prometheus 2.42 semantics (promql/engine.go aggregation()).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "rules/promql/functions.h"

namespace vigil::promql {
namespace {

struct Group {
  Labels labels;
  double value = 0;
  double mean = 0;
  double count = 0;
  std::vector<Sample> heap;  // topk/bottomk (Go container/heap layout), quantile values
};

// Go's sort-heap "Less" for topk (min-heap, NaN smallest) and bottomk (max-heap, NaN first).
bool HeapLess(const Sample& a, const Sample& b, bool bottom) {
  if (std::isnan(a.v)) return true;
  return bottom ? a.v > b.v : a.v < b.v;
}

void HeapUp(std::vector<Sample>& h, std::size_t j, bool bottom) {
  while (j > 0) {
    std::size_t i = (j - 1) / 2;
    if (!HeapLess(h[j], h[i], bottom)) break;
    std::swap(h[i], h[j]);
    j = i;
  }
}

bool HeapDown(std::vector<Sample>& h, std::size_t i0, bool bottom) {
  std::size_t i = i0, n = h.size();
  while (true) {
    std::size_t j1 = 2 * i + 1;
    if (j1 >= n) break;
    std::size_t j = j1;
    if (j1 + 1 < n && HeapLess(h[j1 + 1], h[j1], bottom)) j = j1 + 1;
    if (!HeapLess(h[j], h[i], bottom)) break;
    std::swap(h[i], h[j]);
    i = j;
  }
  return i > i0;
}

std::string GroupingKey(const Labels& m, const std::vector<std::string>& grouping, bool without) {
  std::string key;
  for (const auto& l : m) {
    bool listed = std::find(grouping.begin(), grouping.end(), l.name) != grouping.end();
    if (without ? (listed || l.name == "__name__") : !listed) continue;
    key += l.name;
    key += '\xff';
    key += l.value;
    key += '\xff';
  }
  return key;
}

std::string FormatGoFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return FormatValue(v);
}

}  // namespace

Status Aggregate(const AggregateExpr& agg, const Vector& in, const Value* param, Vector* out) {
  const AggOp op = agg.op;
  std::vector<std::string> grouping = agg.grouping;
  std::int64_t k = 0;
  if (op == AggOp::kTopK || op == AggOp::kBottomK) {
    double f = param->scalar;
    if (!(f <= 9.223372036854775807e18 && f >= -9.223372036854775808e18)) {
      return Status::InvalidArgument("Scalar value " + FormatGoFloat(f) + " overflows int64");
    }
    k = static_cast<std::int64_t>(f);
    if (k < 1) return Status::Ok();
  }
  double q = op == AggOp::kQuantile ? param->scalar : 0;
  std::string value_label;
  if (op == AggOp::kCountValues) {
    value_label = param->str;
    if (!IsValidLabelName(value_label)) {
      return Status::InvalidArgument("invalid label name \"" + value_label + "\"");
    }
    if (!agg.without) grouping.push_back(value_label);
  }
  const bool bottom = op == AggOp::kBottomK;
  std::unordered_map<std::string, std::size_t> index;
  std::vector<Group> groups;
  for (const auto& s : in) {
    Labels metric = s.metric;
    if (op == AggOp::kCountValues) metric.Set(value_label, FormatGoFloat(s.v));
    std::string key = GroupingKey(metric, grouping, agg.without);
    auto it = index.find(key);
    if (it == index.end()) {
      Group g;
      if (agg.without) {
        g.labels = metric;
        for (const auto& n : grouping) g.labels.Remove(n);
        g.labels.Remove("__name__");
      } else {
        std::vector<Label> keep;
        for (const auto& l : metric) {
          if (std::find(grouping.begin(), grouping.end(), l.name) != grouping.end()) {
            keep.push_back(l);
          }
        }
        g.labels = Labels(std::move(keep));
      }
      g.value = s.v;
      g.mean = s.v;
      g.count = 1;
      switch (op) {
        case AggOp::kStddev:
        case AggOp::kStdvar:
          g.value = 0;
          break;
        case AggOp::kTopK:
        case AggOp::kBottomK:
        case AggOp::kQuantile:
          g.heap.push_back(Sample{s.metric, s.v, s.t});
          break;
        case AggOp::kGroup:
          g.value = 1;
          break;
        default:
          break;
      }
      index.emplace(std::move(key), groups.size());
      groups.push_back(std::move(g));
      continue;
    }
    Group& g = groups[it->second];
    switch (op) {
      case AggOp::kSum:
        g.value += s.v;
        break;
      case AggOp::kAvg:
        g.count++;
        if (std::isinf(g.mean)) {
          if (std::isinf(s.v) && (g.mean > 0) == (s.v > 0)) break;
          if (!std::isinf(s.v) && !std::isnan(s.v)) break;
        }
        g.mean += s.v / g.count - g.mean / g.count;
        break;
      case AggOp::kGroup:
        break;
      case AggOp::kMax:
        if (g.value < s.v || std::isnan(g.value)) g.value = s.v;
        break;
      case AggOp::kMin:
        if (g.value > s.v || std::isnan(g.value)) g.value = s.v;
        break;
      case AggOp::kCount:
      case AggOp::kCountValues:
        g.count++;
        break;
      case AggOp::kStddev:
      case AggOp::kStdvar: {
        g.count++;
        double delta = s.v - g.mean;
        g.mean += delta / g.count;
        g.value += delta * (s.v - g.mean);
        break;
      }
      case AggOp::kTopK:
      case AggOp::kBottomK: {
        Sample ns{s.metric, s.v, s.t};
        if (static_cast<std::int64_t>(g.heap.size()) < k) {
          g.heap.push_back(std::move(ns));
          HeapUp(g.heap, g.heap.size() - 1, bottom);
        } else if ((bottom ? g.heap[0].v > s.v : g.heap[0].v < s.v) ||
                   (std::isnan(g.heap[0].v) && !std::isnan(s.v))) {
          g.heap[0] = std::move(ns);
          if (k > 1 && !HeapDown(g.heap, 0, bottom)) HeapUp(g.heap, 0, bottom);
        }
        break;
      }
      case AggOp::kQuantile:
        g.heap.push_back(Sample{s.metric, s.v, s.t});
        break;
    }
  }
  for (auto& g : groups) {
    switch (op) {
      case AggOp::kAvg:
        g.value = g.mean;
        break;
      case AggOp::kCount:
      case AggOp::kCountValues:
        g.value = g.count;
        break;
      case AggOp::kStdvar:
        g.value = g.value / g.count;
        break;
      case AggOp::kStddev:
        g.value = std::sqrt(g.value / g.count);
        break;
      case AggOp::kTopK:
      case AggOp::kBottomK: {
        // Largest first for topk, smallest first for bottomk; NaN last.
        std::stable_sort(g.heap.begin(), g.heap.end(), [&](const Sample& a, const Sample& b) {
          if (std::isnan(a.v)) return false;
          if (std::isnan(b.v)) return true;
          return bottom ? a.v < b.v : a.v > b.v;
        });
        for (auto& s : g.heap) out->push_back(std::move(s));
        continue;
      }
      case AggOp::kQuantile: {
        std::vector<double> vals;
        for (const auto& s : g.heap) vals.push_back(s.v);
        g.value = Quantile(q, std::move(vals));
        break;
      }
      default:
        break;
    }
    out->push_back(Sample{std::move(g.labels), g.value, 0});
  }
  return Status::Ok();
}

}  // namespace vigil::promql

// Binary operators with Prometheus 2.42 semantics (promql/engine.go VectorBinop & co.).
#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "rules/promql/functions.h"

namespace vigil::promql {
namespace {

// Returns (value, keep) as Prometheus' vectorElemBinop.
std::pair<double, bool> ElemBinop(BinOp op, double l, double r) {
  switch (op) {
    case BinOp::kAdd:
      return {l + r, true};
    case BinOp::kSub:
      return {l - r, true};
    case BinOp::kMul:
      return {l * r, true};
    case BinOp::kDiv:
      return {l / r, true};
    case BinOp::kPow:
      return {std::pow(l, r), true};
    case BinOp::kMod:
      return {std::fmod(l, r), true};
    case BinOp::kAtan2:
      return {std::atan2(l, r), true};
    case BinOp::kEql:
      return {l, l == r};
    case BinOp::kNeq:
      return {l, l != r};
    case BinOp::kGtr:
      return {l, l > r};
    case BinOp::kLss:
      return {l, l < r};
    case BinOp::kGte:
      return {l, l >= r};
    case BinOp::kLte:
      return {l, l <= r};
    default:
      return {0, false};
  }
}

bool DropsName(BinOp op) {
  return op == BinOp::kAdd || op == BinOp::kSub || op == BinOp::kMul || op == BinOp::kDiv ||
         op == BinOp::kPow || op == BinOp::kMod;
}

std::string Signature(const Labels& l, const VectorMatching& m) {
  std::string sig;
  for (const auto& lab : l) {
    bool listed = std::find(m.labels.begin(), m.labels.end(), lab.name) != m.labels.end();
    if (m.on ? !listed : (listed || lab.name == "__name__")) continue;
    sig += lab.name;
    sig += '\xff';
    sig += lab.value;
    sig += '\xff';
  }
  return sig;
}

Labels MatchedLabels(const Labels& l, const VectorMatching& m) {
  std::vector<Label> out;
  for (const auto& lab : l) {
    bool listed = std::find(m.labels.begin(), m.labels.end(), lab.name) != m.labels.end();
    if (m.on ? listed : !(listed || lab.name == "__name__")) out.push_back(lab);
  }
  return Labels(std::move(out));
}

Labels ResultMetric(const Labels& lhs, const Labels& rhs, BinOp op, const VectorMatching& m) {
  Labels out = lhs;
  if (DropsName(op)) out.Remove("__name__");
  if (m.card == VectorMatching::Card::kOneToOne) {
    if (m.on) {
      std::vector<Label> keep;
      for (const auto& l : out) {
        if (std::find(m.labels.begin(), m.labels.end(), l.name) != m.labels.end()) {
          keep.push_back(l);
        }
      }
      out = Labels(std::move(keep));
    } else {
      for (const auto& n : m.labels) out.Remove(n);
    }
  }
  for (const auto& n : m.include) {
    std::string v(rhs.Get(n));
    if (!v.empty()) {
      out.Set(n, v);
    } else {
      out.Remove(n);
    }
  }
  return out;
}

}  // namespace

double ScalarBinop(BinOp op, double lhs, double rhs) {
  auto [v, keep] = ElemBinop(op, lhs, rhs);
  if (IsComparison(op)) return keep ? 1 : 0;
  return v;
}

Vector VectorScalarBinop(BinOp op, const Vector& vec, double scalar, bool scalar_on_left,
                         bool return_bool) {
  Vector out;
  for (const auto& s : vec) {
    double lv = s.v, rv = scalar;
    if (scalar_on_left) std::swap(lv, rv);
    auto [value, keep] = ElemBinop(op, lv, rv);
    if (IsComparison(op) && scalar_on_left) value = rv;
    if (return_bool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    Sample o = s;
    o.v = value;
    if (DropsName(op) || return_bool) o.metric.Remove("__name__");
    out.push_back(std::move(o));
  }
  return out;
}

Status VectorVectorBinop(const BinaryExpr& e, const Vector& lhs_in, const Vector& rhs_in,
                         Vector* out) {
  const VectorMatching& m = e.matching;
  switch (e.op) {
    case BinOp::kAnd: {
      if (lhs_in.empty() || rhs_in.empty()) return Status::Ok();
      std::unordered_set<std::string> right;
      for (const auto& s : rhs_in) right.insert(Signature(s.metric, m));
      for (const auto& s : lhs_in) {
        if (right.count(Signature(s.metric, m))) out->push_back(s);
      }
      return Status::Ok();
    }
    case BinOp::kOr: {
      std::unordered_set<std::string> left;
      for (const auto& s : lhs_in) {
        left.insert(Signature(s.metric, m));
        out->push_back(s);
      }
      for (const auto& s : rhs_in) {
        if (!left.count(Signature(s.metric, m))) out->push_back(s);
      }
      return Status::Ok();
    }
    case BinOp::kUnless: {
      std::unordered_set<std::string> right;
      for (const auto& s : rhs_in) right.insert(Signature(s.metric, m));
      for (const auto& s : lhs_in) {
        if (!right.count(Signature(s.metric, m))) out->push_back(s);
      }
      return Status::Ok();
    }
    default:
      break;
  }
  const bool one_to_many = m.card == VectorMatching::Card::kOneToMany;
  const Vector& lhs = one_to_many ? rhs_in : lhs_in;
  const Vector& rhs = one_to_many ? lhs_in : rhs_in;
  std::unordered_map<std::string, const Sample*> right;
  for (const auto& rs : rhs) {
    std::string sig = Signature(rs.metric, m);
    auto it = right.find(sig);
    if (it != right.end()) {
      return Status::InvalidArgument(
          "found duplicate series for the match group " + MatchedLabels(rs.metric, m).ToString() +
          " on the " + (one_to_many ? "left" : "right") + " hand-side of the operation: [" +
          rs.metric.ToString() + ", " + it->second->metric.ToString() +
          "];many-to-many matching not allowed: matching labels must be unique on one side");
    }
    right.emplace(std::move(sig), &rs);
  }
  std::unordered_map<std::string, std::unordered_set<std::string>> matched;
  for (const auto& ls : lhs) {
    std::string sig = Signature(ls.metric, m);
    auto it = right.find(sig);
    if (it == right.end()) continue;
    const Sample& rs = *it->second;
    double vl = ls.v, vr = rs.v;
    if (one_to_many) std::swap(vl, vr);
    auto [value, keep] = ElemBinop(e.op, vl, vr);
    if (e.return_bool) {
      value = keep ? 1 : 0;
    } else if (!keep) {
      continue;
    }
    Labels metric = ResultMetric(ls.metric, rs.metric, e.op, m);
    if (e.return_bool) metric.Remove("__name__");
    auto [mit, inserted] = matched.try_emplace(sig);
    if (m.card == VectorMatching::Card::kOneToOne) {
      if (!inserted) {
        return Status::InvalidArgument(
            "multiple matches for labels: many-to-one matching must be explicit "
            "(group_left/group_right)");
      }
    } else {
      std::string key = metric.ToString();
      if (!mit->second.insert(key).second) {
        return Status::InvalidArgument(
            "multiple matches for labels: grouping labels must ensure unique matches");
      }
    }
    out->push_back(Sample{std::move(metric), value, 0});
  }
  return Status::Ok();
}

}  // namespace vigil::promql

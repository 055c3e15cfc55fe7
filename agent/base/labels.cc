#include "agent/base/labels.h"

#include <algorithm>
#include <functional>

namespace vigil {
namespace {
bool IsNameStart(char c, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}
bool IsNameChar(char c, bool colon_ok) {
  return IsNameStart(c, colon_ok) || (c >= '0' && c <= '9');
}

bool IsValidName(std::string_view name, bool colon_ok) {
  if (name.empty() || !IsNameStart(name[0], colon_ok)) return false;
  return std::all_of(name.begin() + 1, name.end(), [&](char c) { return IsNameChar(c, colon_ok); });
}

auto FindLabel(const std::vector<Label>& items, std::string_view name) {
  return std::lower_bound(items.begin(), items.end(), name,
                          [](const Label& l, std::string_view n) { return l.name < n; });
}
}  // namespace

Labels::Labels(std::initializer_list<Label> labels) {
  for (const Label& l : labels) Set(l.name, l.value);
}

Labels::Labels(std::vector<Label> labels) {
  std::stable_sort(labels.begin(), labels.end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  for (Label& l : labels) {
    if (l.value.empty()) continue;
    if (!items_.empty() && items_.back().name == l.name) {
      items_.back().value = std::move(l.value);
    } else {
      items_.push_back(std::move(l));
    }
  }
}

std::string_view Labels::Get(std::string_view name) const {
  auto it = FindLabel(items_, name);
  return (it != items_.end() && it->name == name) ? std::string_view(it->value) : "";
}

bool Labels::Has(std::string_view name) const {
  auto it = FindLabel(items_, name);
  return it != items_.end() && it->name == name;
}

void Labels::Set(std::string_view name, std::string_view value) {
  if (value.empty()) {
    Remove(name);
    return;
  }
  auto it = FindLabel(items_, name);
  if (it != items_.end() && it->name == name) {
    items_[it - items_.begin()].value = std::string(value);
  } else {
    items_.insert(it, Label{std::string(name), std::string(value)});
  }
}

void Labels::Remove(std::string_view name) {
  auto it = FindLabel(items_, name);
  if (it != items_.end() && it->name == name) items_.erase(it);
}

std::size_t Labels::Hash() const {
  std::size_t h = 1469598103934665603ull;
  std::hash<std::string_view> hs;
  for (const Label& l : items_) {
    h = (h ^ hs(l.name)) * 1099511628211ull;
    h = (h ^ hs(l.value)) * 1099511628211ull;
  }
  return h;
}

std::string Labels::ToString() const {
  std::string out = "{";
  for (std::size_t i = 0; i < items_.size(); ++i) {
    if (i) out += ", ";
    out += items_[i].name;
    out += "=\"";
    out += EscapeLabelValue(items_[i].value);
    out += '"';
  }
  out += '}';
  return out;
}

bool IsValidMetricName(std::string_view name) { return IsValidName(name, true); }
bool IsValidLabelName(std::string_view name) { return IsValidName(name, false); }

Status ValidateUserLabels(const Labels& labels) {
  for (const Label& l : labels) {
    if (!IsValidLabelName(l.name)) {
      return Status::InvalidArgument("invalid label name \"" + l.name + "\"");
    }
    if (l.name.starts_with("__")) {
      return Status::InvalidArgument("label name \"" + l.name + "\" is reserved (starts with __)");
    }
  }
  return Status::Ok();
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace vigil

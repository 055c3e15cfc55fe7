#include "service/validation.h"

#include <algorithm>
#include <charconv>

namespace vigil::shop {

std::optional<nlohmann::json> ParseJsonObject(std::string_view body, FieldError* error) {
  nlohmann::json doc = nlohmann::json::parse(body.begin(), body.end(), nullptr,
                                             /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    *error = {"body", "must be valid JSON"};
    return std::nullopt;
  }
  if (!doc.is_object()) {
    *error = {"body", "must be a JSON object"};
    return std::nullopt;
  }
  return doc;
}

ObjectValidator::ObjectValidator(const nlohmann::json& object, std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {}

void ObjectValidator::Fail(std::string field, std::string message) {
  if (!error_) error_ = FieldError{std::move(field), std::move(message)};
}

const nlohmann::json* ObjectValidator::Find(std::string_view name, bool required) {
  known_.emplace_back(name);
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) {
    if (required) Fail(prefix_ + std::string(name), "is required");
    return nullptr;
  }
  any_present_ = true;
  return &*it;
}

std::optional<std::string> ObjectValidator::String(std::string_view name, bool required,
                                                   std::size_t min_len, std::size_t max_len) {
  const nlohmann::json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  const std::string msg = "must be a string of " + std::to_string(min_len) + " to " +
                          std::to_string(max_len) + " bytes without NUL";
  if (!v->is_string()) {
    Fail(prefix_ + std::string(name), msg);
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() < min_len || !IsStorableText(s, max_len)) {
    Fail(prefix_ + std::string(name), msg);
    return std::nullopt;
  }
  return s;
}

std::optional<std::int64_t> ObjectValidator::Int(std::string_view name, bool required,
                                                 std::int64_t min, std::int64_t max) {
  const nlohmann::json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  const std::string msg =
      "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
  std::int64_t value = 0;
  if (v->is_number_integer() && v->is_number_unsigned()) {
    const auto u = v->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max)) {
      Fail(prefix_ + std::string(name), msg);
      return std::nullopt;
    }
    value = static_cast<std::int64_t>(u);
  } else if (v->is_number_integer()) {
    value = v->get<std::int64_t>();
  } else {
    Fail(prefix_ + std::string(name), msg);
    return std::nullopt;
  }
  if (value < min || value > max) {
    Fail(prefix_ + std::string(name), msg);
    return std::nullopt;
  }
  return value;
}

std::optional<bool> ObjectValidator::Bool(std::string_view name, bool required) {
  const nlohmann::json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    Fail(prefix_ + std::string(name), "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

const nlohmann::json* ObjectValidator::Array(std::string_view name, bool required,
                                             std::size_t min_items, std::size_t max_items) {
  const nlohmann::json* v = Find(name, required);
  if (v == nullptr) return nullptr;
  if (!v->is_array() || v->size() < min_items || v->size() > max_items) {
    Fail(prefix_ + std::string(name), "must be an array of " + std::to_string(min_items) + " to " +
                                          std::to_string(max_items) + " items");
    return nullptr;
  }
  return v;
}

void ObjectValidator::RejectUnknownFields() {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (std::find(known_.begin(), known_.end(), it.key()) == known_.end()) {
      Fail(prefix_ + it.key(), "is not a known field");
      return;
    }
  }
}

std::optional<std::int64_t> ParseIntParam(std::string_view text, std::string_view name,
                                          std::int64_t min, std::int64_t max, FieldError* error) {
  std::int64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || value < min ||
      value > max) {
    *error = {std::string(name),
              "must be an integer from " + std::to_string(min) + " to " + std::to_string(max)};
    return std::nullopt;
  }
  return value;
}

bool IsStorableText(std::string_view text, std::size_t max_len) {
  return text.size() <= max_len && text.find('\0') == std::string_view::npos;
}

}  // namespace vigil::shop

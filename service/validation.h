// Strict validation of request input: JSON bodies and query/path parameters.
//
// A JSON body must be one object; every field has the declared JSON type (integers are JSON
// integers, never "1" or 1.5), strings are bounded and free of NUL, and unknown fields are
// rejected. The first failure is kept as a FieldError naming the offending field, which the
// server turns into a 400 JSON error. Pure; an ObjectValidator is not thread-safe (one per
// request).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::shop {

struct FieldError {
  std::string field;    // "email", "items[2].quantity", or "body" for the document itself
  std::string message;  // "must be a string of 1 to 200 characters"
};

// Parses `body` as one JSON object. On failure sets *error (field "body") and returns nullopt.
std::optional<nlohmann::json> ParseJsonObject(std::string_view body, FieldError* error);

class ObjectValidator {
 public:
  // `object` must outlive the validator. `prefix` is prepended to field names ("items[0].").
  explicit ObjectValidator(const nlohmann::json& object, std::string prefix = "");

  // Each accessor returns the value when present and valid; nullopt when absent (and not
  // required) or invalid. Only the first failure is recorded.
  std::optional<std::string> String(std::string_view name, bool required, std::size_t min_len,
                                    std::size_t max_len);
  std::optional<std::int64_t> Int(std::string_view name, bool required, std::int64_t min,
                                  std::int64_t max);
  std::optional<bool> Bool(std::string_view name, bool required);
  // Returns the array (or nullptr) after checking its size.
  const nlohmann::json* Array(std::string_view name, bool required, std::size_t min_items,
                              std::size_t max_items);

  // Checks for fields no accessor asked about. Call after the accessors.
  void RejectUnknownFields();
  // Records an error found by the caller (e.g. a cross-field rule) unless one is recorded.
  void Fail(std::string field, std::string message);

  // True when some accessor found its field present (valid or not).
  bool any_present() const { return any_present_; }
  bool ok() const { return !error_.has_value(); }
  const FieldError& error() const { return *error_; }

 private:
  const nlohmann::json* Find(std::string_view name, bool required);

  const nlohmann::json& object_;
  std::string prefix_;
  std::vector<std::string> known_;
  std::optional<FieldError> error_;
  bool any_present_ = false;
};

// Parses a decimal integer parameter in [min, max]; on failure sets *error naming `name`.
std::optional<std::int64_t> ParseIntParam(std::string_view text, std::string_view name,
                                          std::int64_t min, std::int64_t max, FieldError* error);

// True when `text` holds no NUL byte and is at most `max_len` bytes.
bool IsStorableText(std::string_view text, std::size_t max_len);

}  // namespace vigil::shop

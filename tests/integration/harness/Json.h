// A strict JSON reader (RFC 8259) for the admin API's answers: the whole text must be one
// value, strings valid UTF-8 with their escapes resolved, no duplicate member names.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::it {

class Json {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  Kind kind() const { return kind_; }
  bool IsNull() const { return kind_ == Kind::kNull; }
  bool IsBool() const { return kind_ == Kind::kBool; }
  bool IsNumber() const { return kind_ == Kind::kNumber; }
  bool IsString() const { return kind_ == Kind::kString; }
  bool IsArray() const { return kind_ == Kind::kArray; }
  bool IsObject() const { return kind_ == Kind::kObject; }

  // The value when it is of that kind; false, 0 or "" otherwise.
  bool Bool() const { return kind_ == Kind::kBool && bool_; }
  double Number() const { return kind_ == Kind::kNumber ? number_ : 0; }
  const std::string& String() const;

  // Array items, or an object's member values (in order); empty for other kinds.
  const std::vector<Json>& items() const { return items_; }
  // An object's member names, in order (items() holds their values).
  const std::vector<std::string>& keys() const { return keys_; }
  size_t size() const { return items_.size(); }

  // Member `key` of an object; nullptr when this is not an object or has no such member.
  const Json* Get(std::string_view key) const;
  // Follows a path of member names and array indexes, e.g. "pools.0.endpoints.1.healthy";
  // nullptr when a step is missing.
  const Json* Find(std::string_view path) const;

  // Compact JSON text (for failure messages).
  std::string Dump() const;

 private:
  friend class JsonReader;

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<std::string> keys_;
  std::vector<Json> items_;
};

// The value in `text`, or nullopt with *error (if given) saying where and why not.
std::optional<Json> ParseJson(std::string_view text, std::string* error = nullptr);

}  // namespace portico::it

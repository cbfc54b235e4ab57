// An ordered list of header fields as they appeared on the wire, with case-insensitive lookup.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::it {

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string ToLower(std::string_view s);

class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }

  // The first value of `name`, if present.
  std::optional<std::string> Get(std::string_view name) const;
  // Value of `name` or "" (handy in EXPECT_EQ).
  std::string Value(std::string_view name) const { return Get(name).value_or(""); }
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  size_t Count(std::string_view name) const;
  std::vector<std::string> All(std::string_view name) const;

  // True if the comma-separated tokens of header `name` contain `token` (case-insensitive).
  bool HasToken(std::string_view name, std::string_view token) const;

  const std::vector<Field>& fields() const { return fields_; }
  std::string ToString() const;  // "Name: value\n" lines, for failure messages

 private:
  std::vector<Field> fields_;
};

}  // namespace portico::it

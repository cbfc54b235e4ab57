// JSON text built front to back into one string, for the admin API's answers. The writer
// tracks nesting and places the commas, so callers only say what comes next:
//
//   JsonWriter w;
//   w.begin_object().key("status").value("ok").key("workers").value(4).end_object();
//
// Strings are written as given, with quotes, backslashes and control characters escaped;
// bytes from 0x80 up pass through, so UTF-8 text stays UTF-8 (and invalid UTF-8 stays
// invalid: callers that forward foreign bytes should clean them first). Misuse (a value
// where a key is due, unbalanced ends) is caught by assertions in debug builds.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace portico::admin {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }  // not bool
  JsonWriter& value(bool b);
  JsonWriter& value(std::nullptr_t);
  // The shortest text that reads back as the same double; NaN and the infinities, which
  // JSON cannot express, are written as null.
  JsonWriter& value(double d);
  template <std::integral T>
  requires(!std::same_as<T, bool>) JsonWriter& value(T n) {
    if constexpr (std::is_signed_v<T>)
      return write_integer(static_cast<int64_t>(n));
    else
      return write_integer(static_cast<uint64_t>(n));
  }

  // key(name) then value(v).
  template <typename T>
  JsonWriter& member(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  enum class Scope : uint8_t { Object, Array };
  struct Open {
    Scope scope;
    bool has_items;
  };

  void before_value();
  void open(Scope scope, char bracket);
  void close(Scope scope, char bracket);
  void write_string(std::string_view text);
  JsonWriter& write_integer(int64_t n);
  JsonWriter& write_integer(uint64_t n);

  std::string out_;
  std::vector<Open> open_;
  bool key_written_ = false;  // inside an object, a key is waiting for its value
};

}  // namespace portico::admin

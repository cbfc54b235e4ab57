#include "admin/JsonWriter.h"

#include <cassert>
#include <charconv>
#include <cmath>

namespace portico::admin {

JsonWriter& JsonWriter::begin_object() {
  open(Scope::Object, '{');
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  close(Scope::Object, '}');
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  open(Scope::Array, '[');
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  close(Scope::Array, ']');
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  assert(!open_.empty() && open_.back().scope == Scope::Object && !key_written_);
  if (open_.back().has_items) out_ += ',';
  open_.back().has_items = true;
  write_string(name);
  out_ += ':';
  key_written_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  before_value();
  write_string(text);
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::value(std::nullptr_t) {
  before_value();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::value(double d) {
  before_value();
  if (!std::isfinite(d)) {
    out_ += "null";
    return *this;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  assert(ec == std::errc{});
  out_.append(buf, end);
  return *this;
}

JsonWriter& JsonWriter::write_integer(int64_t n) {
  before_value();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, n).ptr);
  return *this;
}

JsonWriter& JsonWriter::write_integer(uint64_t n) {
  before_value();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, n).ptr);
  return *this;
}

void JsonWriter::before_value() {
  if (open_.empty()) {
    assert(out_.empty() && "one top-level value per writer");
    return;
  }
  Open& top = open_.back();
  if (top.scope == Scope::Object) {
    assert(key_written_ && "a value in an object needs a key first");
    key_written_ = false;
    return;
  }
  if (top.has_items) out_ += ',';
  top.has_items = true;
}

void JsonWriter::open(Scope scope, char bracket) {
  before_value();
  out_ += bracket;
  open_.push_back({scope, false});
}

void JsonWriter::close(Scope scope, char bracket) {
  assert(!open_.empty() && open_.back().scope == scope && !key_written_);
  (void)scope;
  open_.pop_back();
  out_ += bracket;
}

void JsonWriter::write_string(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out_ += '"';
  size_t plain_from = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    // Runs of ordinary bytes are copied in one append.
    out_.append(text.substr(plain_from, i - plain_from));
    plain_from = i + 1;
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      case '\b':
        out_ += "\\b";
        break;
      case '\f':
        out_ += "\\f";
        break;
      default:
        out_ += "\\u00";
        out_ += kHex[c >> 4];
        out_ += kHex[c & 0xf];
    }
  }
  out_.append(text.substr(plain_from));
  out_ += '"';
}

}  // namespace portico::admin

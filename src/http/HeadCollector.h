// Records where a message head's pieces lie in the read buffer, as offsets, while
// llhttp streams over it. Offsets (not pointers) survive the buffer growing when a head
// spans several reads; views are built once the head is complete. The vectors keep
// their capacity across messages, so a steady connection allocates nothing per header.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "http/Header.h"

namespace portico::http {

struct Span {
  uint32_t off = 0;
  uint32_t len = 0;
  std::string_view in(const char* base) const { return {base + off, len}; }
};

class HeadCollector {
 public:
  void reset() {
    spans_.clear();
    headers_.clear();
    method_ = target_ = status_ = {};
    last_was_value_ = true;
  }
  // Each llhttp data callback hands a piece of the head; `off` is its offset in the buffer.
  void add_method(uint32_t off, uint32_t len) { extend(method_, off, len); }
  void add_target(uint32_t off, uint32_t len) { extend(target_, off, len); }
  void add_status(uint32_t off, uint32_t len) { extend(status_, off, len); }
  void add_field(uint32_t off, uint32_t len) {
    if (last_was_value_) spans_.push_back({{off, len}, {off + len, 0}});
    else spans_.back().name.len += len;
    last_was_value_ = false;
  }
  void add_value(uint32_t off, uint32_t len) {
    if (spans_.empty()) return;
    Span& v = spans_.back().value;
    if (!last_was_value_) v = {off, len};
    else v.len += len;
    last_was_value_ = true;
  }

  // Builds the header views over `base` (trailing whitespace of values trimmed).
  void finish(const char* base) {
    headers_.clear();
    for (const HeaderSpan& s : spans_) {
      std::string_view v = s.value.in(base);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      headers_.push_back({s.name.in(base), v});
    }
  }

  std::string_view method(const char* base) const { return method_.in(base); }
  std::string_view target(const char* base) const { return target_.in(base); }
  std::string_view status_text(const char* base) const { return status_.in(base); }
  const std::vector<Header>& headers() const { return headers_; }
  size_t header_count() const { return spans_.size(); }

 private:
  struct HeaderSpan {
    Span name;
    Span value;
  };
  static void extend(Span& s, uint32_t off, uint32_t len) {
    if (s.len == 0) s = {off, len};
    else s.len += len;
  }

  std::vector<HeaderSpan> spans_;
  std::vector<Header> headers_;
  Span method_, target_, status_;
  bool last_was_value_ = true;
};

}  // namespace portico::http

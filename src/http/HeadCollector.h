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
    folded_ = false;
  }
  // Each llhttp data callback hands a piece of the head; `off` is its offset in the buffer.
  void add_method(uint32_t off, uint32_t len) { extend(method_, off, len); }
  void add_target(uint32_t off, uint32_t len) { extend(target_, off, len); }
  void add_status(uint32_t off, uint32_t len) { extend(status_, off, len); }
  void add_field(uint32_t off, uint32_t len) {
    if (last_was_value_)
      spans_.push_back({{off, len}, {off + len, 0}, false});
    else
      spans_.back().name.len += len;
    last_was_value_ = false;
  }
  void add_value(uint32_t off, uint32_t len) {
    if (spans_.empty()) return;
    HeaderSpan& h = spans_.back();
    if (!last_was_value_) {
      h.value = {off, len};
    } else {
      // A piece that does not start where the last one ended is an obs-fold line
      // continuation (llhttp skips its CRLF); finish() turns the line break into spaces.
      if (off != h.value.off + h.value.len) h.folded = folded_ = true;
      h.value.len = off + len - h.value.off;
    }
    last_was_value_ = true;
  }
  bool folded() const { return folded_; }

  // Replaces the line breaks of obs-folded values with spaces, in place (RFC 9112 §5.2
  // allows that or a 400), so no CR or LF can reach a forwarded head. Call before finish().
  void unfold(char* base) {
    if (!folded_) return;
    for (const HeaderSpan& s : spans_) {
      if (!s.folded) continue;
      for (uint32_t i = s.value.off; i < s.value.off + s.value.len; ++i)
        if (base[i] == '\r' || base[i] == '\n') base[i] = ' ';
    }
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
  size_t footprint() const {
    return spans_.capacity() * sizeof(HeaderSpan) + headers_.capacity() * sizeof(Header);
  }

 private:
  struct HeaderSpan {
    Span name;
    Span value;
    bool folded = false;
  };
  static void extend(Span& s, uint32_t off, uint32_t len) {
    if (s.len == 0)
      s = {off, len};
    else
      s.len += len;
  }

  std::vector<HeaderSpan> spans_;
  std::vector<Header> headers_;
  Span method_, target_, status_;
  bool last_was_value_ = true;
  bool folded_ = false;
};

}  // namespace portico::http

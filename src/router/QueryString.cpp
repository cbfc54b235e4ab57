#include "router/QueryString.h"

#include "http/Header.h"

namespace portico::router {

namespace {

// Decodes the unit starting at raw[i] (one byte, or a three-byte "%XY" escape) and
// advances i past it.
char decode_one(std::string_view raw, size_t& i) {
  const char c = raw[i];
  if (c == '+') {
    ++i;
    return ' ';
  }
  if (c == '%' && raw.size() - i >= 3) {
    const int hi = http::hex_value(raw[i + 1]);
    const int lo = http::hex_value(raw[i + 2]);
    if (hi >= 0 && lo >= 0) {
      i += 3;
      return static_cast<char>(hi * 16 + lo);
    }
  }
  ++i;
  return c;
}

}  // namespace

void QueryParams::iterator::advance() {
  while (!rest_.empty()) {
    const size_t amp = rest_.find('&');
    const std::string_view segment = rest_.substr(0, amp);
    rest_ = amp == std::string_view::npos ? std::string_view() : rest_.substr(amp + 1);
    if (segment.empty()) continue;
    const size_t eq = segment.find('=');
    if (eq == std::string_view::npos) {
      current_ = {segment, {}};
    } else {
      current_ = {segment.substr(0, eq), segment.substr(eq + 1)};
    }
    return;
  }
  done_ = true;
}

std::optional<std::string_view> percent_decode(std::string_view raw, std::span<char> out) {
  if (raw.find_first_of("%+") == std::string_view::npos) return raw;
  size_t n = 0;
  for (size_t i = 0; i < raw.size();) {
    if (n == out.size()) return std::nullopt;
    out[n++] = decode_one(raw, i);
  }
  return std::string_view(out.data(), n);
}

bool decoded_equals(std::string_view raw, std::string_view expected) {
  // Decoding never lengthens the text, so a shorter raw text can never be equal.
  if (raw.size() < expected.size()) return false;
  if (raw.find_first_of("%+") == std::string_view::npos) return raw == expected;
  size_t j = 0;
  for (size_t i = 0; i < raw.size();) {
    if (j == expected.size() || decode_one(raw, i) != expected[j]) return false;
    ++j;
  }
  return j == expected.size();
}

}  // namespace portico::router

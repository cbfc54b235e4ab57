// Header views: a request or response head is kept as one byte range and its
// headers as views into it, so parsing a head allocates nothing per header.
#pragma once

#include <span>
#include <string_view>

namespace portico::http {

struct Header {
  std::string_view name;
  std::string_view value;
};

// ASCII case-insensitive comparison without building lower-cased copies.
constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// RFC 9110 §5.6.2 token characters; header names must be tokens (llhttp 8 lets a space
// before the colon through, which would let two parsers disagree on a header's name).
namespace detail {
constexpr bool tchar_slow(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}
struct TcharTable {
  bool v[256];
  constexpr TcharTable() : v() {
    for (int c = 0; c < 256; ++c) v[c] = tchar_slow(static_cast<unsigned char>(c));
  }
};
inline constexpr TcharTable kTchar{};
}  // namespace detail

constexpr bool is_tchar(unsigned char c) {
  return detail::kTchar.v[c];
}

constexpr bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(static_cast<unsigned char>(c))) return false;
  return true;
}

// Optional whitespace around field values and list elements (RFC 9110 §5.6.3).
constexpr bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

constexpr std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// A hexadecimal digit's value (either case), or -1.
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// First header with this name (case-insensitive), or nullptr.
inline const Header* find_header(std::span<const Header> headers, std::string_view name) {
  for (const Header& h : headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

}  // namespace portico::http

#include "router/CidrSet.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace portico::router {

namespace {

constexpr unsigned kMappedPrefixBits = 96;  // ::ffff:0:0/96 holds the IPv4 addresses

// Dotted-quad IPv4 in strict form (what inet_pton accepts: four decimal parts 0-255,
// no leading zeros), without the copy and the call: it runs per request for allow lists.
bool parse_ipv4(std::string_view text, uint8_t out[4]) {
  size_t part = 0, i = 0;
  while (part < 4) {
    size_t start = i;
    unsigned value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3)
      value = value * 10 + unsigned(text[i++] - '0');
    size_t digits = i - start;
    if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) return false;
    out[part++] = uint8_t(value);
    if (part < 4) {
      if (i >= text.size() || text[i] != '.') return false;
      ++i;
    }
  }
  return i == text.size();
}

// Parses an IPv4 or IPv6 literal into 16 bytes; `v4` says which it was.
bool parse_address(std::string_view text, std::array<uint8_t, 16>& out, bool& v4) {
  if (parse_ipv4(text, out.data() + 12)) {
    std::fill(out.begin(), out.begin() + 10, 0);
    out[10] = out[11] = 0xff;
    v4 = true;
    return true;
  }
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  in6_addr a6;
  if (inet_pton(AF_INET6, buf, &a6) == 1) {
    std::memcpy(out.data(), &a6, 16);
    v4 = false;
    return true;
  }
  return false;
}

bool prefix_equal(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b,
                  unsigned bits) {
  unsigned whole = bits / 8;
  if (std::memcmp(a.data(), b.data(), whole) != 0) return false;
  unsigned rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = uint8_t(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

bool CidrSet::add(std::string_view text, std::string& error) {
  size_t slash = text.find('/');
  std::string_view address = text.substr(0, slash);
  Range r;
  bool v4 = false;
  if (!parse_address(address, r.bytes, v4)) {
    error = "invalid address '" + std::string(address) + "' (expected IPv4 or IPv6, e.g. " +
            "10.0.0.0/8 or ::1)";
    return false;
  }
  unsigned max_bits = v4 ? 32 : 128;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        bits > max_bits) {
      error = "invalid prefix length in '" + std::string(text) + "' (expected 0 to " +
              std::to_string(max_bits) + ")";
      return false;
    }
  }
  r.bits = v4 ? kMappedPrefixBits + bits : bits;
  std::array<uint8_t, 16> zero_host = r.bytes;
  for (unsigned i = r.bits; i < 128; ++i) zero_host[i / 8] &= uint8_t(~(0x80 >> (i % 8)));
  if (zero_host != r.bytes) {
    error =
        "'" + std::string(text) + "' has bits set beyond its /" + std::to_string(bits) + " prefix";
    return false;
  }
  ranges_.push_back(r);
  return true;
}

bool CidrSet::contains(std::string_view address) const {
  std::array<uint8_t, 16> bytes;
  bool v4 = false;
  if (!parse_address(address, bytes, v4)) return false;
  for (const Range& r : ranges_)
    if (prefix_equal(bytes, r.bytes, r.bits)) return true;
  return false;
}

}  // namespace portico::router

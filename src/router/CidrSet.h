// A set of client address ranges ("10.0.0.0/8", "::1", "2001:db8::/32"), for deciding who
// may do something by where a request comes from (a flag's allow list, a canary's forced
// routing). IPv4-mapped IPv6 addresses ("::ffff:10.1.2.3") count as their IPv4 address,
// as a dual-stack listener reports IPv4 clients that way.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portico::router {

class CidrSet {
 public:
  // Adds "ADDRESS" (a single host) or "ADDRESS/BITS". Host bits beyond the prefix must be
  // zero ("10.0.0.1/8" is refused: it usually means a typo). False with `error` set on
  // anything else.
  bool add(std::string_view text, std::string& error);

  bool empty() const { return ranges_.empty(); }
  // Whether the address (as text, without port or brackets) is in one of the ranges.
  // An unparsable address is in none. Allocates nothing.
  bool contains(std::string_view address) const;

 private:
  struct Range {
    std::array<uint8_t, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    unsigned bits = 0;                // prefix length over the 128 bits
  };
  std::vector<Range> ranges_;
};

}  // namespace portico::router

// Hop-by-hop handling (RFC 9110 §7.6.1): the Connection header's tokens and the
// fields a proxy must not forward.
#pragma once

#include <array>
#include <span>
#include <string_view>

#include "http/Header.h"

namespace portico::http {

class ConnectionTokens {
 public:
  void parse(std::span<const Header> headers);
  bool close() const { return close_; }
  bool keep_alive() const { return keep_alive_; }
  // More than kMax tokens: no real client or server sends that many, and honouring them
  // would cost a scan per header; the message is refused (400 / 502) instead.
  bool too_many() const { return overflow_; }
  // True when a Connection token names this header (framing and Host are never dropped).
  bool names(std::string_view header) const;

 private:
  static constexpr size_t kMax = 32;
  std::array<std::string_view, kMax> tokens_{};
  size_t count_ = 0;
  bool overflow_ = false;
  bool close_ = false;
  bool keep_alive_ = false;
};

// Connection, Keep-Alive, Proxy-Connection, TE, Upgrade: meaningful for one hop only.
bool is_hop_by_hop(std::string_view name);

}  // namespace portico::http

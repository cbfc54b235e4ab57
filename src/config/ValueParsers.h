// Parsers for the scalar value types the config uses: durations, byte sizes and socket
// addresses. They are separate from the YAML walk so that filters parsing their own
// config nodes (window: 10s, max_bytes: 64MiB) accept exactly the same spellings.
#pragma once

#include <netdb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/Config.h"

namespace portico::config {

// The outcome of parsing one value: either a value or a message saying what is wrong.
// It reads like std::optional (if (r) ... *r) so callers that only care whether the
// text was valid need not look at `error`; C++20 has no std::expected.
template <typename T>
struct ParseResult {
  std::optional<T> value;
  std::string error;  // set iff !value; a full sentence quoting the input

  static ParseResult ok(T v) { return ParseResult{std::move(v), {}}; }
  static ParseResult fail(std::string message) {
    return ParseResult{std::nullopt, std::move(message)};
  }

  bool has_value() const { return value.has_value(); }
  explicit operator bool() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  T& operator*() { return *value; }
  const T* operator->() const { return &*value; }
  T* operator->() { return &*value; }
  operator std::optional<T>() const { return value; }  // NOLINT: meant to convert implicitly
};

// "250ms", "10s", "1m", "2h", "1.5s". A unit is required; the only exception is "0".
// Results must be a whole number of milliseconds ("0.5ms" is rejected) and fit in Duration.
ParseResult<Duration> parse_duration(std::string_view text);

// "65536" (bytes), "512B", "64KB" (64000), "64KiB" (65536), "10MB", "10MiB", "1GB", "1GiB".
// A decimal fraction is allowed when the result is a whole number of bytes ("1.5KiB").
ParseResult<uint64_t> parse_size(std::string_view text);

// "HOST:PORT" taken apart without looking anything up: the checks every address gets
// (brackets around IPv6, a port from 1 to 65535, a host), whatever the host turns out to be.
struct HostPort {
  std::string host;  // without the brackets of an IPv6 literal
  uint16_t port = 0;
  bool bracketed = false;  // written as [IPv6]:PORT
};
ParseResult<HostPort> parse_host_port(std::string_view text);

// An upstream endpoint's address. Syntax errors (and a malformed IP literal or host name)
// fail; a well-formed name that does not resolve does not: upstream names may appear in
// DNS after the config is written, so the endpoint is kept with `address.length == 0` and
// `resolve_error` saying why, and the loader reports it as a warning.
struct EndpointAddress {
  HostPort host_port;
  SocketAddress address;      // `text` is always set; length 0 when the name did not resolve
  std::string resolve_error;  // "cannot resolve 'NAME': REASON"; empty when resolved
  bool named = false;         // the host is a name, not an IP literal
  std::vector<SocketAddress> resolved;  // names: every address, in the resolver's order
};
ParseResult<EndpointAddress> parse_endpoint_address(std::string_view text);

// The IPv4 and IPv6 addresses of a getaddrinfo answer, in order, without duplicates,
// each with its text ("10.0.0.1:80", "[::1]:80").
std::vector<SocketAddress> socket_addresses(const addrinfo* list);

// "127.0.0.1:8080", "[::1]:8080" and, when resolve_names is true, "localhost:9000"
// (resolved once, now, with getaddrinfo; the first address returned is used). The port is
// required and must be 1..65535. `text` in the result is the input as written.
// A name that does not resolve is an error here (see parse_endpoint_address for the lenient
// form).
ParseResult<SocketAddress> parse_socket_address(std::string_view text, bool resolve_names);

// A whole percentage: "10%", "10" (YAML gives `10` and `"10"` as the same text). The '%' is
// optional so that `budget: 20` and `budget: 20%` mean the same; fractions ("12.5%") are
// refused because every percentage the config takes is stored as a whole number. There is
// no upper bound here (each key has its own range, checked by the caller), only overflow.
ParseResult<uint32_t> parse_percent(std::string_view text);

}  // namespace portico::config

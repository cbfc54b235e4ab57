#include "config/ValueParsers.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>
#include <memory>

namespace portico::config {
namespace {

struct Unit {
  std::string_view name;
  uint64_t multiplier;
};

constexpr std::array<Unit, 4> kDurationUnits{{
    {"ms", 1},
    {"s", 1'000},
    {"m", 60'000},
    {"h", 3'600'000},
}};

constexpr std::array<Unit, 7> kSizeUnits{{
    {"B", 1},
    {"KB", 1'000},
    {"KiB", 1ull << 10},
    {"MB", 1'000'000},
    {"MiB", 1ull << 20},
    {"GB", 1'000'000'000},
    {"GiB", 1ull << 30},
}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// A number as written: integer digits, optional fraction digits, then the rest (the unit).
struct Decimal {
  std::string_view integer;
  std::string_view fraction;  // without the '.'; empty when there is none
  std::string_view unit;
};

// Splits "1.5KiB" into {"1", "5", "KiB"}. Fails on anything that does not start with a
// digit, and on "1." or "1.x", so that no spelling is accepted by accident.
std::optional<Decimal> split_decimal(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i == 0) return std::nullopt;
  Decimal d;
  d.integer = text.substr(0, i);
  if (i < text.size() && text[i] == '.') {
    size_t start = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == start) return std::nullopt;
    d.fraction = text.substr(start, i - start);
  }
  d.unit = text.substr(i);
  return d;
}

enum class ScaleError { None, Overflow, NotWhole };

// integer.fraction * multiplier, exactly, in integer arithmetic: binary floating point
// would turn "0.1s" into 99 or 100 ms depending on rounding.
ScaleError scale(const Decimal& d, uint64_t multiplier, uint64_t& out) {
  uint64_t whole = 0;
  auto [end, ec] = std::from_chars(d.integer.data(), d.integer.data() + d.integer.size(), whole);
  if (ec != std::errc{} || end != d.integer.data() + d.integer.size()) return ScaleError::Overflow;
  uint64_t result = 0;
  if (__builtin_mul_overflow(whole, multiplier, &result)) return ScaleError::Overflow;

  std::string_view frac = d.fraction;
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  if (!frac.empty()) {
    // 10^19 does not fit in 64 bits; a fraction that long cannot give a whole unit anyway
    // for the multipliers used here (all below 10^10).
    if (frac.size() > 18) return ScaleError::NotWhole;
    uint64_t numerator = 0;
    std::from_chars(frac.data(), frac.data() + frac.size(), numerator);
    uint64_t denominator = 1;
    for (size_t i = 0; i < frac.size(); ++i) denominator *= 10;
    unsigned __int128 product = static_cast<unsigned __int128>(numerator) * multiplier;
    if (product % denominator != 0) return ScaleError::NotWhole;
    uint64_t part = static_cast<uint64_t>(product / denominator);
    if (__builtin_add_overflow(result, part, &result)) return ScaleError::Overflow;
  }
  out = result;
  return ScaleError::None;
}

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

template <size_t N>
std::string unit_list(const std::array<Unit, N>& units) {
  std::string list;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) list += (i + 1 == N) ? " or " : ", ";
    list += units[i].name;
  }
  return list;
}

// Looks the unit up; on failure says why, with a hint when only the case is wrong
// ("kib" for "KiB"), since "64kb" meaning 64000 or 65536 should not be guessed.
template <size_t N>
const Unit* find_unit(const std::array<Unit, N>& units, std::string_view name, std::string& why) {
  for (const Unit& u : units) {
    if (u.name == name) return &u;
  }
  for (const Unit& u : units) {
    if (iequals(u.name, name)) {
      why = "unknown unit " + quoted(name) + " (units are case-sensitive: did you mean " +
            quoted(u.name) + "?)";
      return nullptr;
    }
  }
  why = "unknown unit " + quoted(name) + " (expected " + unit_list(units) + ")";
  return nullptr;
}

std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
  }
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

struct AddrInfoDeleter {
  void operator()(addrinfo* info) const { freeaddrinfo(info); }
};

}  // namespace

ParseResult<Duration> parse_duration(std::string_view text) {
  using R = ParseResult<Duration>;
  auto invalid = [&](const std::string& why) {
    return R::fail(quoted(text) + " is not a valid duration: " + why);
  };
  if (text.empty()) return R::fail("empty duration (expected e.g. '10s' or '250ms')");
  if (text == "0") return R::ok(Duration::zero());
  if (text.front() == '-') return invalid("durations cannot be negative");
  auto d = split_decimal(text);
  if (!d) return invalid("expected a number followed by a unit (ms, s, m or h), e.g. '10s'");
  if (d->unit.empty()) {
    return invalid("a unit is required, e.g. '" + std::string(text) + "s' or '" +
                   std::string(text) + "ms'");
  }
  std::string why;
  const Unit* unit = find_unit(kDurationUnits, d->unit, why);
  if (!unit) return invalid(why);
  uint64_t ms = 0;
  switch (scale(*d, unit->multiplier, ms)) {
    case ScaleError::Overflow:
      return invalid("too large");
    case ScaleError::NotWhole:
      return invalid("durations are counted in whole milliseconds");
    case ScaleError::None:
      break;
  }
  if (ms > static_cast<uint64_t>(std::numeric_limits<Duration::rep>::max())) {
    return invalid("too large");
  }
  return R::ok(Duration{static_cast<Duration::rep>(ms)});
}

ParseResult<uint64_t> parse_size(std::string_view text) {
  using R = ParseResult<uint64_t>;
  auto invalid = [&](const std::string& why) {
    return R::fail(quoted(text) + " is not a valid size: " + why);
  };
  if (text.empty()) return R::fail("empty size (expected e.g. '65536', '64KiB' or '10MiB')");
  if (text.front() == '-') return invalid("sizes cannot be negative");
  auto d = split_decimal(text);
  if (!d) return invalid("expected a number of bytes, optionally followed by a unit, e.g. '64KiB'");
  uint64_t multiplier = 1;
  if (!d->unit.empty()) {
    std::string why;
    const Unit* unit = find_unit(kSizeUnits, d->unit, why);
    if (!unit) return invalid(why);
    multiplier = unit->multiplier;
  }
  uint64_t bytes = 0;
  switch (scale(*d, multiplier, bytes)) {
    case ScaleError::Overflow:
      return invalid("too large");
    case ScaleError::NotWhole:
      return invalid("not a whole number of bytes");
    case ScaleError::None:
      break;
  }
  return R::ok(bytes);
}

ParseResult<HostPort> parse_host_port(std::string_view text) {
  using R = ParseResult<HostPort>;
  auto invalid = [&](const std::string& why) {
    return R::fail(quoted(text) + " is not a valid address: " + why);
  };
  if (text.empty()) return R::fail("empty address (expected HOST:PORT, e.g. 127.0.0.1:8080)");

  std::string_view host;
  std::string_view port_text;
  bool bracketed = false;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return invalid("missing ']' after the IPv6 address");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return invalid("expected ':PORT' after ']', e.g. [::1]:8080");
    }
    port_text = rest.substr(1);
    bracketed = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid("missing ':PORT'");
    if (text.find(':') != colon) {
      return invalid("IPv6 addresses must be written in brackets, e.g. [::1]:8080");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (host.empty()) return invalid("missing host (use 0.0.0.0 or [::] for all interfaces)");
  auto port = parse_port(port_text);
  if (!port) return invalid("port must be a number from 1 to 65535");
  return R::ok(HostPort{std::string(host), *port, bracketed});
}

namespace {

enum class Literal { Yes, No, BadIpv6 };

// Fills `out` when the host is an IP literal. Bracketed hosts must be IPv6; an unbracketed
// one that is not IPv4 is a name (or garbage, which check_host_name decides).
Literal to_literal(const HostPort& hp, SocketAddress& out) {
  if (!hp.bracketed) {
    sockaddr_in v4{};
    if (inet_pton(AF_INET, hp.host.c_str(), &v4.sin_addr) != 1) return Literal::No;
    v4.sin_family = AF_INET;
    v4.sin_port = htons(hp.port);
    std::memcpy(&out.storage, &v4, sizeof v4);
    out.length = sizeof v4;
    return Literal::Yes;
  }
  // getaddrinfo rather than inet_pton so that zone ids ("fe80::1%eth0") work; it is told
  // not to resolve, so this never touches DNS.
  addrinfo hints{};
  hints.ai_family = AF_INET6;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* raw = nullptr;
  int rc = getaddrinfo(hp.host.c_str(), nullptr, &hints, &raw);
  std::unique_ptr<addrinfo, AddrInfoDeleter> info(raw);
  if (rc != 0 || !info) return Literal::BadIpv6;
  sockaddr_in6 v6{};
  std::memcpy(&v6, info->ai_addr, sizeof v6);
  v6.sin6_port = htons(hp.port);
  std::memcpy(&out.storage, &v6, sizeof v6);
  out.length = sizeof v6;
  return Literal::Yes;
}

// Why `host` can never resolve, or empty. Now that an unresolvable name is only a warning,
// a typo such as "10.0.0.256" or "api .internal" must still be an error: otherwise it
// would be accepted and the endpoint would quietly never get traffic.
std::string host_name_error(std::string_view host) {
  if (std::all_of(host.begin(), host.end(), [](char c) { return is_digit(c) || c == '.'; })) {
    // getaddrinfo would take "127.1" or "010.0.0.1" through inet_aton's old rules; a
    // dotted number that is not plain IPv4 is a mistake, not a name.
    return quoted(host) + " is not a valid IPv4 address";
  }
  std::string_view name = host;
  if (name.back() == '.') name.remove_suffix(1);  // fully qualified "api.internal."
  const std::string rule =
      " is not a valid host name (letters, digits, '-' and '_' in labels "
      "of 1 to 63 characters separated by '.')";
  if (name.empty() || name.size() > 253) return quoted(host) + rule;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return quoted(host) + rule;
      label = 0;
      continue;
    }
    const bool ok =
        is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
    if (!ok || ++label > 63) return quoted(host) + rule;
  }
  if (label == 0) return quoted(host) + rule;
  return {};
}

// Resolves a host name now; returns why it failed, or empty.
std::string resolve(const HostPort& hp, std::vector<SocketAddress>& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* raw = nullptr;
  const std::string port_str = std::to_string(hp.port);
  int rc = getaddrinfo(hp.host.c_str(), port_str.c_str(), &hints, &raw);
  std::unique_ptr<addrinfo, AddrInfoDeleter> info(raw);
  if (rc != 0 || !info) {
    return "cannot resolve " + quoted(hp.host) + ": " +
           (rc != 0 ? gai_strerror(rc) : "no addresses");
  }
  out = socket_addresses(info.get());
  if (out.empty()) return "cannot resolve " + quoted(hp.host) + ": unsupported address family";
  return {};
}

}  // namespace

ParseResult<EndpointAddress> parse_endpoint_address(std::string_view text) {
  using R = ParseResult<EndpointAddress>;
  auto hp = parse_host_port(text);
  if (!hp) return R::fail(std::move(hp.error));
  EndpointAddress result;
  result.host_port = std::move(*hp);
  result.address.text = std::string(text);
  switch (to_literal(result.host_port, result.address)) {
    case Literal::Yes:
      return R::ok(std::move(result));
    case Literal::BadIpv6:
      return R::fail(quoted(text) + " is not a valid address: " + quoted(result.host_port.host) +
                     " is not an IPv6 address");
    case Literal::No:
      break;
  }
  if (std::string why = host_name_error(result.host_port.host); !why.empty()) {
    return R::fail(quoted(text) + " is not a valid address: " + why);
  }
  result.named = true;
  result.resolve_error = resolve(result.host_port, result.resolved);
  if (!result.resolved.empty()) {
    result.address.storage = result.resolved.front().storage;
    result.address.length = result.resolved.front().length;
  }
  return R::ok(std::move(result));
}

std::vector<SocketAddress> socket_addresses(const addrinfo* list) {
  std::vector<SocketAddress> out;
  for (const addrinfo* a = list; a; a = a->ai_next) {
    if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
        a->ai_addrlen > sizeof(sockaddr_storage))
      continue;
    SocketAddress s;
    std::memcpy(&s.storage, a->ai_addr, a->ai_addrlen);
    s.length = static_cast<socklen_t>(a->ai_addrlen);
    bool seen = false;
    for (const SocketAddress& o : out)
      seen = seen || (o.length == s.length && std::memcmp(&o.storage, &s.storage, s.length) == 0);
    if (seen) continue;
    char ip[INET6_ADDRSTRLEN] = {};
    uint16_t port = 0;
    if (a->ai_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
      port = ntohs(v4->sin_port);
      s.text = std::string(ip) + ":" + std::to_string(port);
    } else {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
      port = ntohs(v6->sin6_port);
      s.text = "[" + std::string(ip) + "]:" + std::to_string(port);
    }
    out.push_back(std::move(s));
  }
  return out;
}

ParseResult<SocketAddress> parse_socket_address(std::string_view text, bool resolve_names) {
  using R = ParseResult<SocketAddress>;
  if (resolve_names) {
    auto endpoint = parse_endpoint_address(text);
    if (!endpoint) return R::fail(std::move(endpoint.error));
    if (!endpoint->resolve_error.empty()) {
      return R::fail(quoted(text) + " is not a valid address: " + endpoint->resolve_error);
    }
    return R::ok(std::move(endpoint->address));
  }
  auto hp = parse_host_port(text);
  if (!hp) return R::fail(std::move(hp.error));
  SocketAddress result;
  result.text = std::string(text);
  switch (to_literal(*hp, result)) {
    case Literal::Yes:
      return R::ok(std::move(result));
    case Literal::BadIpv6:
      return R::fail(quoted(text) + " is not a valid address: " + quoted(hp->host) +
                     " is not an IPv6 address");
    case Literal::No:
      break;
  }
  return R::fail(quoted(text) + " is not a valid address: " + quoted(hp->host) +
                 " is not an IP address (host names are not allowed here)");
}

ParseResult<uint32_t> parse_percent(std::string_view text) {
  using R = ParseResult<uint32_t>;
  auto invalid = [&](const std::string& why) {
    return R::fail(quoted(text) + " is not a valid percentage: " + why);
  };
  if (text.empty()) return R::fail("empty percentage (expected e.g. '10%')");
  std::string_view number = text;
  if (number.back() == '%') number.remove_suffix(1);
  if (!number.empty() && number.front() == '-') return invalid("percentages cannot be negative");
  auto d = split_decimal(number);
  if (!d || !d->unit.empty()) {
    return invalid("expected a whole number, optionally followed by '%', e.g. '10%'");
  }
  if (!d->fraction.empty()) return invalid("percentages are whole numbers");
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(d->integer.data(), d->integer.data() + d->integer.size(), value);
  if (ec != std::errc{} || end != d->integer.data() + d->integer.size()) {
    return invalid("too large");
  }
  return R::ok(value);
}

}  // namespace portico::config

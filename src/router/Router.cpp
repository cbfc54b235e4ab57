#include "router/Router.h"

#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "flags/FlagDecisions.h"
#include "router/MatchScratch.h"
#include "router/QueryString.h"
#include "router/Regex.h"

namespace portico::router {

namespace {

using config::RouteMatch;
using config::ValueMatch;

// Standard methods get a bit each so the common case is one AND; any other token
// (WebDAV, custom) falls back to comparing strings.
constexpr std::array<std::string_view, 9> kKnownMethods = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

uint32_t method_bit(std::string_view method) {
  for (size_t i = 0; i < kKnownMethods.size(); ++i)
    if (kKnownMethods[i] == method) return uint32_t{1} << i;
  return 0;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = http::ascii_lower(c);
  return out;
}

bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && http::iequals(s.substr(s.size() - suffix.size()), suffix);
}

// The host as routes name it: no port, no trailing root dot ("example.com." is the same
// name as "example.com"). An IPv6 literal keeps its brackets ("[::1]"), since its
// colons are not a port separator.
std::string_view host_name(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  host = host.substr(0, host.find(':'));
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

// One header or query condition, with its regex compiled.
struct Condition {
  std::string name;
  ValueMatch::Kind kind;
  std::string value;
  std::optional<Regex> regex;
};

[[noreturn]] void throw_bad_regex(const config::Route& route, std::string_view pattern,
                                  const RegexError& e) {
  throw std::invalid_argument("route '" + route.name + "': invalid regex '" + std::string(pattern) +
                              "': " + e.what());
}

Regex compile_full_match(const config::Route& route, std::string_view pattern) {
  try {
    return Regex(pattern, Regex::Mode::FullMatch);
  } catch (const RegexError& e) {
    throw_bad_regex(route, pattern, e);
  }
}

std::vector<Condition> compile_conditions(const config::Route& route,
                                          const std::vector<ValueMatch>& matches) {
  std::vector<Condition> out;
  out.reserve(matches.size());
  for (const ValueMatch& m : matches) {
    Condition c{m.name, m.kind, m.value, std::nullopt};
    if (m.kind == ValueMatch::Kind::Regex) c.regex = compile_full_match(route, m.value);
    out.push_back(std::move(c));
  }
  return out;
}

bool header_condition_holds(const Condition& c, std::span<const http::Header> headers,
                            MatchScratch& scratch) {
  switch (c.kind) {
    case ValueMatch::Kind::Present:
      return http::find_header(headers, c.name) != nullptr;
    case ValueMatch::Kind::Absent:
      return http::find_header(headers, c.name) == nullptr;
    case ValueMatch::Kind::Exact:
      for (const http::Header& h : headers)
        if (http::iequals(h.name, c.name) && h.value == c.value) return true;
      return false;
    case ValueMatch::Kind::Regex:
      for (const http::Header& h : headers)
        if (http::iequals(h.name, c.name) && c.regex->matches(h.value, scratch)) return true;
      return false;
  }
  return false;
}

bool query_has(std::string_view query, std::string_view name) {
  for (const QueryParam& p : QueryParams(query))
    if (decoded_equals(p.name, name)) return true;
  return false;
}

bool query_condition_holds(const Condition& c, std::string_view query, MatchScratch& scratch) {
  switch (c.kind) {
    case ValueMatch::Kind::Present:
      return query_has(query, c.name);
    case ValueMatch::Kind::Absent:
      return !query_has(query, c.name);
    case ValueMatch::Kind::Exact:
      for (const QueryParam& p : QueryParams(query))
        if (decoded_equals(p.name, c.name) && decoded_equals(p.value, c.value)) return true;
      return false;
    case ValueMatch::Kind::Regex: {
      const std::span<char> buffer = scratch.decode_buffer();
      for (const QueryParam& p : QueryParams(query)) {
        if (!decoded_equals(p.name, c.name)) continue;
        // The limit applies even when the value needs no decoding (and so no buffer),
        // so that whether a long value can match does not depend on its encoding.
        const std::optional<std::string_view> value = percent_decode(p.value, buffer);
        if (!value || value->size() > buffer.size()) continue;
        if (c.regex->matches(*value, scratch)) return true;
      }
      return false;
    }
  }
  return false;
}

}  // namespace

struct Router::Compiled {
  const config::Route* route = nullptr;

  std::vector<std::string> exact_hosts;    // lower case
  std::vector<std::string> host_suffixes;  // lower case, with the leading dot: ".example.com"

  RouteMatch::PathKind path_kind = RouteMatch::PathKind::Any;
  std::string path;
  std::optional<Regex> path_regex;

  bool any_method = true;
  uint32_t method_mask = 0;
  std::vector<std::string> other_methods;

  std::vector<Condition> headers;
  std::vector<Condition> query;

  uint64_t flag_mask = 0;  // bit i: the route has a condition on flag i
  uint64_t flag_want = 0;  // bit i: ... and wants it on

  bool host_matches(std::string_view host) const {
    if (exact_hosts.empty() && host_suffixes.empty()) return true;
    for (const std::string& h : exact_hosts)
      if (http::iequals(host, h)) return true;
    // "*.example.com" needs at least one label before the suffix, so it does not
    // match "example.com" itself.
    for (const std::string& s : host_suffixes)
      if (host.size() > s.size() && iends_with(host, s)) return true;
    return false;
  }

  bool method_matches(std::string_view method, uint32_t bit) const {
    if (any_method) return true;
    if (bit != 0) return (method_mask & bit) != 0;
    for (const std::string& m : other_methods)
      if (m == method) return true;
    return false;
  }

  bool path_matches(std::string_view request_path, MatchScratch& scratch) const {
    switch (path_kind) {
      case RouteMatch::PathKind::Any:
        return true;
      case RouteMatch::PathKind::Exact:
        return request_path == path;
      case RouteMatch::PathKind::Prefix:
        return request_path.starts_with(path);
      case RouteMatch::PathKind::Regex:
        return path_regex->matches(request_path, scratch);
    }
    return false;
  }

  bool headers_match(std::span<const http::Header> request_headers, MatchScratch& scratch) const {
    for (const Condition& h : headers)
      if (!header_condition_holds(h, request_headers, scratch)) return false;
    return true;
  }

  bool query_matches(std::string_view request_query, MatchScratch& scratch) const {
    for (const Condition& q : query)
      if (!query_condition_holds(q, request_query, scratch)) return false;
    return true;
  }

  bool flags_match(flags::FlagDecisions* decisions) const {
    if (flag_mask == 0) return true;
    if (!decisions) return false;
    for (uint64_t left = flag_mask; left != 0; left &= left - 1) {
      const int i = std::countr_zero(left);
      if (size_t(i) >= decisions->size()) return false;
      if (decisions->on(size_t(i)) != ((flag_want >> i) & 1)) return false;
    }
    return true;
  }
};

Router::Router(const std::vector<config::Route>& routes) {
  routes_.reserve(routes.size());
  for (const config::Route& route : routes) {
    auto c = std::make_unique<Compiled>();
    c->route = &route;
    const RouteMatch& m = route.match;

    for (const std::string& host : m.hosts) {
      // The loader lower-cases hosts already; doing it again here keeps the router
      // correct for configs built in code (tests, defaults).
      if (host.starts_with("*."))
        c->host_suffixes.push_back(to_lower(std::string_view(host).substr(1)));
      else
        c->exact_hosts.push_back(to_lower(host));
    }

    c->path_kind = m.path_kind;
    c->path = m.path;
    if (m.path_kind == RouteMatch::PathKind::Regex)
      c->path_regex = compile_full_match(route, m.path);

    c->any_method = m.methods.empty();
    for (const std::string& method : m.methods) {
      const uint32_t bit = method_bit(method);
      if (bit != 0)
        c->method_mask |= bit;
      else
        c->other_methods.push_back(method);
    }

    c->headers = compile_conditions(route, m.headers);
    c->query = compile_conditions(route, m.query);
    for (const config::FlagCondition& f : m.flags) {
      if (f.index >= 64)
        throw std::invalid_argument("route '" + route.name + "': flag '" + f.name + "' has index " +
                                    std::to_string(f.index) + " (at most 63)");
      c->flag_mask |= uint64_t{1} << f.index;
      if (f.on) c->flag_want |= uint64_t{1} << f.index;
    }
    routes_.push_back(std::move(c));
  }
}

Router::~Router() = default;

const config::Route* Router::match(const RequestView& request, MatchScratch& scratch) const {
  // Per-request work done once, not once per route.
  const std::string_view host = host_name(request.host);
  const uint32_t method = method_bit(request.method);

  for (const auto& c : routes_) {
    if (!c->method_matches(request.method, method)) continue;
    if (!c->host_matches(host)) continue;
    if (!c->path_matches(request.path, scratch)) continue;
    if (!c->headers_match(request.headers, scratch)) continue;
    if (!c->query_matches(request.query, scratch)) continue;
    // Last: a flag is decided (and counted) only when everything else about the route holds.
    if (!c->flags_match(request.flags)) continue;
    return c->route;
  }
  return nullptr;
}

}  // namespace portico::router

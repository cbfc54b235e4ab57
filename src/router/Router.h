// Chooses the route for a request: first match in file order wins.
//
// Matching semantics (see RouteMatch in config/Config.h):
// - host: the port is ignored ("a.com:8080" is "a.com"; "[::1]:8080" is "[::1]", an
//   IPv6 literal keeps its brackets), as is a trailing root dot ("a.com." is "a.com").
//   Names compare case-insensitively. "*.example.com" matches any name with at least
//   one more label ("a.example.com", "a.b.example.com") but not "example.com".
// - path: matched against the path exactly as sent: NOT percent-decoded and NOT
//   normalised ("/a/../b", "/a//b" and "/%61" are all distinct from "/b", "/a/b" and
//   "/a"). A regex must match the whole path. Hardening (decoding, dot-segment
//   removal) belongs in front of the router and is not done yet.
// - methods: exact, case-sensitive tokens.
// - headers: names case-insensitive, values byte-exact; with repeated headers a
//   condition holds if ANY one of them satisfies it (no splitting on commas). A
//   regex must match the whole value.
// - query: names and values are percent-decoded ('+' is a space, a malformed escape
//   such as "%zz" stays literal; see QueryString.h) and compared exactly; with
//   repeated parameters ANY one may satisfy a condition. A regex condition does not
//   match a value longer than MatchScratch::kDecodeBufferSize after decoding.
// - flags: each named flag's decision for the request (flags/FlagSet.h) must be the one
//   given. Flags are decided lazily, only for routes whose other conditions hold, and
//   each at most once per request (the caller's FlagDecisions remembers them). Without
//   decisions (nullptr) a route with flag conditions does not match.
// - A regex whose matching hits the backtracking budget counts as not matching (the
//   route is skipped) and is counted in MatchScratch::regex_errors().
//
// match() does not allocate; everything it needs per call lives in the MatchScratch.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "config/Config.h"
#include "http/Header.h"

namespace portico::flags {
class FlagDecisions;
}

namespace portico::router {

// What the router looks at, all views into the request head.
struct RequestView {
  std::string_view method;  // "GET"
  std::string_view path;    // target up to '?', e.g. "/v1/users"
  std::string_view query;   // after '?', without it; empty if none
  std::string_view host;    // Host header (or absolute-form authority), port included as sent
  std::span<const http::Header> headers;
  flags::FlagDecisions* flags = nullptr;  // this request's flag decisions, made on demand
};

class MatchScratch;  // per-thread scratch space for matching (see MatchScratch.h)

class Router {
 public:
  // Compiles the routes; on an invalid regex (or a flag index beyond 63), throws
  // std::invalid_argument naming the route.
  // The routes must outlive the router: match() returns pointers into them.
  explicit Router(const std::vector<config::Route>& routes);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // The matching route (pointer into the config the router was built from), or nullptr.
  const config::Route* match(const RequestView& request, MatchScratch& scratch) const;

 private:
  // Each route's conditions in a form cheap to test per request (methods as a bitmask,
  // hosts split into exact names and wildcard suffixes, regexes compiled).
  struct Compiled;
  std::vector<std::unique_ptr<Compiled>> routes_;
};

}  // namespace portico::router

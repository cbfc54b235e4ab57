// Chooses the route for a request: first match in file order wins.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "config/Config.h"
#include "http/Header.h"

namespace portico::router {

// What the router looks at, all views into the request head.
struct RequestView {
  std::string_view method;  // "GET"
  std::string_view path;    // target up to '?', e.g. "/v1/users"
  std::string_view query;   // after '?', without it; empty if none
  std::string_view host;    // Host header (or absolute-form authority), port included as sent
  std::span<const http::Header> headers;
};

class MatchScratch;  // per-thread scratch space for regex matching (see RouteMatcher.h)

class Router {
 public:
  // Compiles the routes; on an invalid regex, throws std::invalid_argument naming the route.
  explicit Router(const std::vector<config::Route>& routes);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // The matching route (pointer into the config the router was built from), or nullptr.
  const config::Route* match(const RequestView& request, MatchScratch& scratch) const;

 private:
  struct Compiled;
  std::vector<std::unique_ptr<Compiled>> routes_;
};

}  // namespace portico::router

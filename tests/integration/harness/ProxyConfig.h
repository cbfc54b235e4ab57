// Builds the YAML for the common test setup: one listener whose routes end with a catch-all
// route to one upstream pool. Tests with other shapes write their YAML with Fill().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/PorticoProcess.h"

namespace portico::it {

struct ProxyConfig {
  ProxyConfig();  // picks a free listen port

  uint16_t port;                       // the listener's port
  std::vector<std::string> endpoints;  // upstream endpoints ("127.0.0.1:N")
  std::string workers = "1";
  std::string drain_timeout = "5s";
  std::string access_log = "stdout";
  std::string log_level = "info";
  std::string limits;  // flow map, e.g. "{ header_timeout: 1s }"; "" = none
  std::string timeouts = "{ connect: 1s, response: 3s }";
  std::string keepalive;       // flow map for the upstream; "" = none
  std::string upstream_extra;  // more YAML lines for the upstream, indented 4 spaces
  std::string routes_before;   // YAML route items (indented 6 spaces) before the catch-all
  std::string host_rewrite;    // for the catch-all route; "" = none
  bool catch_all = true;       // add the catch-all proxy route

  std::string Yaml() const;
  PorticoOptions Options() const;  // config + ready port
};

}  // namespace portico::it

#include "harness/ProxyConfig.h"

#include "harness/Ports.h"

namespace portico::it {

ProxyConfig::ProxyConfig() : port(FreePort()) {}

std::string ProxyConfig::Yaml() const {
  std::string y;
  y += "workers: " + workers + "\n";
  y += "drain_timeout: " + drain_timeout + "\n";
  y += "log: { level: " + log_level + ", access_log: " + access_log + " }\n";
  y += "listeners:\n";
  y += "  - name: main\n";
  y += "    address: 127.0.0.1:" + std::to_string(port) + "\n";
  if (!limits.empty()) y += "    limits: " + limits + "\n";
  y += "    routes:\n";
  y += routes_before;
  if (catch_all) {
    y += "      - name: proxy\n";
    y += "        match: { path_prefix: / }\n";
    y += "        upstream: backend\n";
    if (!host_rewrite.empty()) y += "        host_rewrite: " + host_rewrite + "\n";
  }
  if (!endpoints.empty()) {
    y += "upstreams:\n";
    y += "  - name: backend\n";
    y += "    endpoints: [";
    for (size_t i = 0; i < endpoints.size(); ++i) y += (i ? ", " : " ") + endpoints[i];
    y += " ]\n";
    y += "    timeouts: " + timeouts + "\n";
    if (!keepalive.empty()) y += "    keepalive: " + keepalive + "\n";
    y += upstream_extra;
  }
  return y;
}

PorticoOptions ProxyConfig::Options() const {
  PorticoOptions o;
  o.config = Yaml();
  o.ready_ports = {port};
  return o;
}

}  // namespace portico::it

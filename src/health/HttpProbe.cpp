#include "health/HttpProbe.h"

namespace portico::health {

namespace {
std::string endpoint_authority(const config::Endpoint& endpoint) {
  // An IPv6 literal needs its brackets back in a Host header (RFC 9110, section 7.2).
  bool ipv6 = endpoint.host.find(':') != std::string::npos;
  std::string host = ipv6 ? "[" + endpoint.host + "]" : endpoint.host;
  return host + ":" + std::to_string(endpoint.port);
}
}  // namespace

std::string probe_request(const config::HealthCheck& check, const config::Endpoint& endpoint) {
  std::string r;
  r.reserve(128 + check.path.size() + check.host.size());
  r += check.method;
  r += ' ';
  r += check.path;
  r += " HTTP/1.1\r\nHost: ";
  r += check.host.empty() ? endpoint_authority(endpoint) : check.host;
  r += "\r\nUser-Agent: portico-health-check\r\nConnection: close\r\n\r\n";
  return r;
}

bool status_expected(const std::vector<std::pair<int, int>>& ranges, int status) {
  for (const auto& [low, high] : ranges)
    if (status >= low && status <= high) return true;
  return false;
}

}  // namespace portico::health

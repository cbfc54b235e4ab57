// What an HTTP health probe sends, and which answers count as healthy.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/Config.h"

namespace portico::health {

// The whole probe request: `METHOD PATH HTTP/1.1`, Host (the check's `host`, else the
// endpoint's HOST:PORT), a User-Agent that identifies probes in upstream logs, and
// Connection: close, since each probe uses a connection of its own.
std::string probe_request(const config::HealthCheck& check, const config::Endpoint& endpoint);

// True when `status` lies in one of the inclusive ranges.
bool status_expected(const std::vector<std::pair<int, int>>& ranges, int status);

}  // namespace portico::health

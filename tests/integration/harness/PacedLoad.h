// Open-loop load for tests of rates: requests offered at a fixed rate for a fixed time,
// whatever the answers, spread over keep-alive connections (so that several workers get
// them) and over several proxies. Each connection sends on its own schedule; a request
// whose answer has not come within `response_timeout` counts as stalled.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness/Deadline.h"

namespace portico::it {

struct PacedLoadOptions {
  std::vector<uint16_t> ports;  // connections go round-robin over these
  std::string request;          // the bytes of one request (keep-alive)
  double rate = 100;            // requests per second, all connections together
  Ms duration{1000};
  size_t connections = 8;
  Ms response_timeout{2000};
};

struct PacedLoadResult {
  size_t sent = 0;
  size_t stalled = 0;            // no answer within response_timeout (or the connection failed)
  std::map<int, size_t> status;  // answers by status code
  Ms longest{0};                 // the slowest answer
  size_t count(int code) const {
    auto it = status.find(code);
    return it == status.end() ? 0 : it->second;
  }
  std::string Describe() const;
};

PacedLoadResult OfferLoad(const PacedLoadOptions& options);

}  // namespace portico::it

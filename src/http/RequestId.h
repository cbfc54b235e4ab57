// X-Request-Id values: random UUIDv4 text from a per-worker generator (no lock, no
// system call per request).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "http/RandomIdBits.h"

namespace portico::http {

class RequestIdGenerator {
 public:
  // Writes a 36-character UUID into `out` and returns a view of it.
  std::string_view next(std::array<char, 36>& out);

 private:
  RandomIdBits bits_;
};

}  // namespace portico::http

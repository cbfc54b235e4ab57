// X-Request-Id values: random UUIDv4 text from a per-worker generator (no lock, no
// system call per request).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace portico::http {

class RequestIdGenerator {
 public:
  RequestIdGenerator();
  // Writes a 36-character UUID into `out` and returns a view of it.
  std::string_view next(std::array<char, 36>& out);

 private:
  uint64_t next_u64();
  uint64_t s_[4];
};

}  // namespace portico::http

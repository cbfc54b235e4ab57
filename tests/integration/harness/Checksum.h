// Deterministic body content and an incremental checksum, to move large bodies without
// keeping copies. Byte i of a generated body is PatternByte(i); the pattern repeats every
// kPatternPeriod bytes (a prime, so it never lines up with power-of-two buffer sizes) and
// views of it are served from one static buffer, so generating and checking are memcpy/memcmp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portico::it {

inline constexpr uint64_t kPatternPeriod = 251;
inline constexpr size_t kMaxPatternView = 1 << 20;

char PatternByte(uint64_t i);

// Bytes [offset, offset + n) of the pattern, n <= kMaxPatternView; valid for the whole run.
std::string_view PatternView(uint64_t offset, size_t n);

// Bytes [offset, offset + n) of the pattern as a string, any n.
std::string PatternBytes(uint64_t offset, size_t n);

// Checks that `data` equals the pattern at `offset`; on mismatch stores the first bad index.
bool MatchesPattern(std::string_view data, uint64_t offset, uint64_t* bad_index = nullptr);

// FNV-1a 64, fed in pieces.
class Checksum {
 public:
  void Update(std::string_view data);
  uint64_t value() const { return hash_; }
  uint64_t size() const { return size_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ull;
  uint64_t size_ = 0;
};

// Checksum of PatternBytes(0, n).
uint64_t PatternChecksum(uint64_t n);

}  // namespace portico::it

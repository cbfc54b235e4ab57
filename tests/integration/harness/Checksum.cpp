#include "harness/Checksum.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace portico::it {

namespace {

const std::vector<char>& PatternBuffer() {
  static const std::vector<char> buffer = [] {
    std::vector<char> b(kPatternPeriod + kMaxPatternView);
    for (size_t i = 0; i < b.size(); ++i) {
      b[i] = static_cast<char>('0' + ((i % kPatternPeriod) * 37) % 75);
    }
    return b;
  }();
  return buffer;
}

}  // namespace

char PatternByte(uint64_t i) {
  return PatternBuffer()[i % kPatternPeriod];
}

std::string_view PatternView(uint64_t offset, size_t n) {
  n = std::min(n, kMaxPatternView);
  return std::string_view(PatternBuffer().data() + offset % kPatternPeriod, n);
}

std::string PatternBytes(uint64_t offset, size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    std::string_view piece = PatternView(offset + out.size(), n - out.size());
    out.append(piece);
  }
  return out;
}

bool MatchesPattern(std::string_view data, uint64_t offset, uint64_t* bad_index) {
  size_t done = 0;
  while (done < data.size()) {
    std::string_view want = PatternView(offset + done, data.size() - done);
    if (std::memcmp(data.data() + done, want.data(), want.size()) != 0) {
      for (size_t i = 0; i < want.size(); ++i) {
        if (data[done + i] != want[i]) {
          if (bad_index) *bad_index = offset + done + i;
          break;
        }
      }
      return false;
    }
    done += want.size();
  }
  return true;
}

void Checksum::Update(std::string_view data) {
  uint64_t h = hash_;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  hash_ = h;
  size_ += data.size();
}

uint64_t PatternChecksum(uint64_t n) {
  Checksum sum;
  for (uint64_t off = 0; off < n;) {
    std::string_view piece =
        PatternView(off, static_cast<size_t>(std::min<uint64_t>(kMaxPatternView, n - off)));
    sum.Update(piece);
    off += piece.size();
  }
  return sum.value();
}

}  // namespace portico::it

#include "http/RequestId.h"

#include <random>

namespace portico::http {

RequestIdGenerator::RequestIdGenerator() {
  std::random_device rd;
  for (auto& s : s_) s = (uint64_t(rd()) << 32) ^ rd();
}

// xoshiro256** (Blackman & Vigna): fast, and random enough for identifiers.
uint64_t RequestIdGenerator::next_u64() {
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::string_view RequestIdGenerator::next(std::array<char, 36>& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hi = next_u64(), lo = next_u64();
  hi = (hi & ~0xF000ull) | 0x4000ull;                  // version 4
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);  // RFC 4122 variant
  uint8_t bytes[16];
  for (int i = 0; i < 8; ++i) bytes[i] = uint8_t(hi >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) bytes[8 + i] = uint8_t(lo >> (56 - 8 * i));
  size_t o = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = kHex[bytes[i] >> 4];
    out[o++] = kHex[bytes[i] & 15];
  }
  return {out.data(), out.size()};
}

}  // namespace portico::http

#include "http/RequestId.h"

namespace portico::http {

std::string_view RequestIdGenerator::next(std::array<char, 36>& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hi = bits_.next(), lo = bits_.next();
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

#include "upstream/HashKey.h"

#include "http/Cookies.h"

namespace portico::upstream {

namespace {

constexpr uint64_t kK1 = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kK2 = 0xC2B2AE3D27D4EB4Full;

constexpr uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

// Up to 8 bytes as a little-endian word, whatever the host's byte order.
uint64_t load_le(const char* p, size_t n) {
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return w;
}

constexpr uint64_t scramble(uint64_t w) {
  return rotl(w * kK2, 31) * kK1;
}

std::optional<uint64_t> hash_nonempty(std::string_view value) {
  if (value.empty()) return std::nullopt;
  return hash_bytes(value);
}

}  // namespace

uint64_t hash_bytes(std::string_view bytes) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  uint64_t h = kK1 ^ (uint64_t(n) * kK2);
  for (; n >= 8; p += 8, n -= 8) {
    h ^= scramble(load_le(p, 8));
    h = rotl(h, 27) * kK1 + kK2;
  }
  if (n > 0) h ^= scramble(load_le(p, n));
  return mix64(h);
}

std::optional<uint64_t> request_hash(const config::HashKey& key, const RequestKeyView& request) {
  switch (key.kind) {
    case config::HashKey::Kind::None:
      return std::nullopt;
    case config::HashKey::Kind::Path:
      return hash_nonempty(request.path);
    case config::HashKey::Kind::ClientIp:
      return hash_nonempty(request.client_ip);
    case config::HashKey::Kind::Header: {
      const http::Header* h = http::find_header(request.headers, key.name);
      if (!h) return std::nullopt;
      return hash_nonempty(http::trim_ows(h->value));
    }
    case config::HashKey::Kind::Cookie:
      // A client may split its cookies over several Cookie lines (HTTP/2 gateways do).
      if (auto value = http::find_cookie(request.headers, key.name)) return hash_nonempty(*value);
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace portico::upstream

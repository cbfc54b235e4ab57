// The key a consistent-hash balancer (ring_hash, maglev) uses for a request, and the
// 64-bit hash behind it. The hash must give the same value in every process on every
// platform, release after release: several Portico instances in front of the same pool
// send a key to the same endpoint only because they all compute the same number. Its
// exact definition is therefore part of Portico's behaviour; the unit test pins values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "config/Config.h"
#include "http/Header.h"

namespace portico::upstream {

// The finalizer of splitmix64 (Steele, Lea and Flood, 2014, constants from Vigna's
// "variant 13"): a bijection on 64-bit words in which every input bit affects every
// output bit. Used to finish hash_bytes, to derive ring points and Maglev permutations
// from an endpoint's hash, and to spread a request key over a table.
constexpr uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Portico's stable 64-bit hash of a byte string ("portico hash v1"). With
// K1 = 0x9E3779B97F4A7C15, K2 = 0xC2B2AE3D27D4EB4F, rotl = 64-bit left rotation and all
// arithmetic modulo 2^64:
//   h = K1 ^ (length * K2)
//   for each whole 8-byte block, read little-endian into w:
//     h ^= rotl(w * K2, 31) * K1
//     h  = rotl(h, 27) * K1 + K2
//   if 1..7 bytes remain, read them little-endian into w (missing high bytes are zero):
//     h ^= rotl(w * K2, 31) * K1
//   result = mix64(h)
// Bytes are assembled explicitly, so the value does not depend on the machine's byte
// order. Not cryptographic: a client that can choose keys can aim them at one endpoint,
// which is no worse than choosing the endpoint.
uint64_t hash_bytes(std::string_view bytes);

// The parts of a request a hash key can come from, as views into the request head.
struct RequestKeyView {
  std::string_view path;       // hashed as given (the caller decides whether the query belongs)
  std::string_view client_ip;  // address text, without the port
  std::span<const http::Header> headers;
};

// hash_bytes of the request's key, or nullopt when the request has none (kind None, the
// header or cookie is absent, or its value is empty), in which case the balancer picks at
// random. Header: the first header of that name (case-insensitive), its value without
// surrounding spaces or tabs. Cookie: the first cookie of that name (case-sensitive) over
// every Cookie header, its value without surrounding spaces and without one pair of
// surrounding double quotes (RFC 6265 allows either spelling of the same value).
// Allocates nothing.
std::optional<uint64_t> request_hash(const config::HashKey& key, const RequestKeyView& request);

}  // namespace portico::upstream

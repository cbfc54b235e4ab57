#include "upstream/HashKey.h"

#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <vector>

namespace portico::upstream {
namespace {

using config::HashKey;
using http::Header;

TEST(HashKey, HashBytesIsPinned) {
  // These values define "portico hash v1" (see HashKey.h). Several Portico processes
  // agree on where a key goes only if they all compute them: if this test fails, the
  // algorithm changed and every sticky key in a fleet would move. Change these only with a
  // new algorithm version that deployments opt into.
  EXPECT_EQ(hash_bytes(""), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(hash_bytes("a"), 0x1BD57B795B2BAF91ull);
  EXPECT_EQ(hash_bytes("abc"), 0x03E87D3A6F65A1AEull);
  EXPECT_EQ(hash_bytes("12345678"), 0x037AAD390857C753ull);
  EXPECT_EQ(hash_bytes("123456789"), 0x44A8F2D53DCAA57Dull);
  EXPECT_EQ(hash_bytes("10.0.0.11:8080"), 0x4AA4B5AD1989400Cull);
  EXPECT_EQ(hash_bytes("The quick brown fox jumps over the lazy dog"), 0x701CD906959568DCull);
  EXPECT_EQ(mix64(0), 0x0ull);  // a fixed point of the finalizer
  EXPECT_EQ(mix64(1), 0x5692161D100B05E5ull);
}

TEST(HashKey, HashBytesSeesLengthAndEveryByte) {
  using namespace std::string_literals;
  EXPECT_NE(hash_bytes("a"), hash_bytes("a\0"s));
  EXPECT_NE(hash_bytes(""), hash_bytes("\0"s));
  EXPECT_NE(hash_bytes("12345678"), hash_bytes("12345678\0"s));
  EXPECT_NE(hash_bytes("ab"), hash_bytes("ba"));
  // Every input bit should flip about half of the output bits (avalanche).
  std::string text = "user-1234567890-abcdefghij";
  uint64_t base = hash_bytes(text);
  int total = 0, worst = 64;
  for (size_t byte = 0; byte < text.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = text;
      flipped[byte] = char(flipped[byte] ^ (1 << bit));
      int changed = std::popcount(base ^ hash_bytes(flipped));
      total += changed;
      worst = std::min(worst, changed);
    }
  }
  double mean = double(total) / double(text.size() * 8);
  EXPECT_NEAR(mean, 32.0, 2.0);
  EXPECT_GE(worst, 16);
}

std::optional<uint64_t> hash_of(HashKey::Kind kind, std::string name, std::vector<Header> headers,
                                std::string_view path = "/p", std::string_view ip = "192.0.2.1") {
  HashKey key{kind, std::move(name)};
  return request_hash(key, RequestKeyView{path, ip, headers});
}

std::optional<uint64_t> cookie(std::string name, std::vector<Header> headers) {
  return hash_of(HashKey::Kind::Cookie, std::move(name), std::move(headers));
}

TEST(HashKey, EachKindHashesItsPart) {
  std::vector<Header> headers = {{"Host", "a.example"}, {"X-User", "alice"}, {"x-user", "bob"}};
  EXPECT_EQ(hash_of(HashKey::Kind::None, "", headers), std::nullopt);
  EXPECT_EQ(hash_of(HashKey::Kind::Path, "", headers, "/v1/items"), hash_bytes("/v1/items"));
  EXPECT_EQ(hash_of(HashKey::Kind::ClientIp, "", headers, "/", "2001:db8::1"),
            hash_bytes("2001:db8::1"));
  // Header names are case-insensitive; the first of several wins.
  EXPECT_EQ(hash_of(HashKey::Kind::Header, "x-USER", headers), hash_bytes("alice"));
  EXPECT_EQ(hash_of(HashKey::Kind::Header, "x-missing", headers), std::nullopt);
}

TEST(HashKey, HeaderValueIsTrimmedAndEmptyMeansNoKey) {
  EXPECT_EQ(hash_of(HashKey::Kind::Header, "x-user", {{"x-user", " \talice \t"}}),
            hash_bytes("alice"));
  EXPECT_EQ(hash_of(HashKey::Kind::Header, "x-user", {{"x-user", ""}}), std::nullopt);
  EXPECT_EQ(hash_of(HashKey::Kind::Header, "x-user", {{"x-user", "  "}}), std::nullopt);
  EXPECT_EQ(hash_of(HashKey::Kind::Path, "", {}, ""), std::nullopt);
  EXPECT_EQ(hash_of(HashKey::Kind::ClientIp, "", {}, "/", ""), std::nullopt);
}

TEST(HashKey, CookieIsFoundAmongOthers) {
  EXPECT_EQ(cookie("b", {{"Cookie", "a=1; b=2; c=3"}}), hash_bytes("2"));
  EXPECT_EQ(cookie("a", {{"Cookie", "a=1; b=2; c=3"}}), hash_bytes("1"));
  EXPECT_EQ(cookie("c", {{"Cookie", "a=1; b=2; c=3"}}), hash_bytes("3"));
  EXPECT_EQ(cookie("a", {{"Cookie", "a=1"}}), hash_bytes("1"));
  EXPECT_EQ(cookie("a", {{"cOOKIE", "a=1"}}), hash_bytes("1"));  // header name: any case
}

TEST(HashKey, CookieToleratesSpaces) {
  EXPECT_EQ(cookie("b", {{"Cookie", "a=1;b=2"}}), hash_bytes("2"));
  EXPECT_EQ(cookie("b", {{"Cookie", "  a = 1 ;  b = 2  ; "}}), hash_bytes("2"));
  EXPECT_EQ(cookie("b", {{"Cookie", "a=1;\tb=2\t"}}), hash_bytes("2"));
  EXPECT_EQ(cookie("b", {{"Cookie", ";;b=2;;"}}), hash_bytes("2"));
}

TEST(HashKey, CookieNameMustMatchExactly) {
  EXPECT_EQ(cookie("uid", {{"Cookie", "uid2=x; xuid=y; uid=z"}}), hash_bytes("z"));
  EXPECT_EQ(cookie("uid", {{"Cookie", "uid2=x; xuid=y"}}), std::nullopt);
  EXPECT_EQ(cookie("uid", {{"Cookie", "UID=x"}}), std::nullopt);  // cookie names: exact case
  EXPECT_EQ(cookie("uid2", {{"Cookie", "uid=x"}}), std::nullopt);
  EXPECT_EQ(cookie("uid", {{"Cookie", "uid"}}), std::nullopt);      // no '=': not a cookie
  EXPECT_EQ(cookie("uid", {{"Cookie", "x=uid=1"}}), std::nullopt);  // '=' inside a value
  EXPECT_EQ(cookie("x", {{"Cookie", "x=uid=1"}}), hash_bytes("uid=1"));
}

TEST(HashKey, CookieAcrossSeveralHeaders) {
  std::vector<Header> headers = {
      {"Cookie", "a=1"}, {"Accept", "uid=no"}, {"Cookie", "uid=42; b=2"}, {"Cookie", "uid=43"}};
  EXPECT_EQ(cookie("uid", headers), hash_bytes("42"));  // the first occurrence wins
  EXPECT_EQ(cookie("b", headers), hash_bytes("2"));
  EXPECT_EQ(cookie("a", headers), hash_bytes("1"));
}

TEST(HashKey, CookieQuotesEmptyAndMissing) {
  EXPECT_EQ(cookie("uid", {{"Cookie", "uid=\"42\""}}), hash_bytes("42"));
  EXPECT_EQ(cookie("uid", {{"Cookie", "uid=\""}}), hash_bytes("\""));
  EXPECT_EQ(cookie("uid", {{"Cookie", "uid="}}), std::nullopt);
  EXPECT_EQ(cookie("uid", {{"Cookie", "uid=\"\""}}), std::nullopt);
  EXPECT_EQ(cookie("uid", {{"Cookie", ""}}), std::nullopt);
  EXPECT_EQ(cookie("uid", {{"Set-Cookie", "uid=1"}}), std::nullopt);
  EXPECT_EQ(cookie("uid", {}), std::nullopt);
}

}  // namespace
}  // namespace portico::upstream

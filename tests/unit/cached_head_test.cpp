// The head of an answer from the cache: stored fields, Age, added lines, framing; and the
// 304 a client's conditional request gets.
#include "cache/CachedHead.h"

#include <gtest/gtest.h>

namespace portico::cache {
namespace {

CachedResponse stored() {
  CachedResponse r;
  r.status = 200;
  r.reason = "OK";
  r.fields =
      "Content-Type: text/plain\r\nETag: \"a\"\r\nCache-Control: max-age=60\r\nX-Other: 1\r\n";
  std::string_view f = r.fields;
  r.headers = {{f.substr(0, 12), f.substr(14, 10)},
               {f.substr(26, 4), f.substr(32, 3)},
               {f.substr(37, 13), f.substr(52, 10)},
               {f.substr(64, 7), f.substr(73, 1)}};
  r.body = std::make_shared<const std::string>("hello");
  return r;
}

TEST(CachedHead, StoredResponseWithAgeAndFraming) {
  CachedResponse r = stored();
  ASSERT_EQ(r.headers[3].value, "1");
  std::string out;
  write_cached_head(out, {.stored = &r, .age = 42, .added_lines = "x-cache: HIT\r\n"});
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\n" + r.fields +
                     "Age: 42\r\nx-cache: HIT\r\nContent-Length: 5\r\n\r\n");
  write_cached_head(out, {.stored = &r, .close = true});
  EXPECT_NE(out.find("Connection: close\r\n\r\n"), std::string::npos);
  write_cached_head(out, {.stored = &r, .keep_alive_http10 = true});
  EXPECT_NE(out.find("Connection: keep-alive\r\n\r\n"), std::string::npos);
}

TEST(CachedHead, NotModifiedCarriesOnlyTheFieldsA304May) {
  CachedResponse r = stored();
  std::string out;
  write_cached_head(out, {.stored = &r, .not_modified = true, .age = 3});
  EXPECT_EQ(out,
            "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\nCache-Control: max-age=60\r\nAge: "
            "3\r\n\r\n");
}

TEST(CachedHead, BodylessStatusesHaveNoContentLength) {
  CachedResponse r = stored();
  r.status = 204;
  r.reason = "No Content";
  std::string out;
  write_cached_head(out, {.stored = &r});
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
}

}  // namespace
}  // namespace portico::cache

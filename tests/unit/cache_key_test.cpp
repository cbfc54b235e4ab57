// Cache keys, and the keys of the URIs a response to an unsafe request names.
#include "cache/CacheKey.h"

#include <gtest/gtest.h>

namespace portico::cache {
namespace {

std::string key(std::string_view host, std::string_view target) {
  std::string k;
  append_key(k, host, target);
  return k;
}

std::string reference(std::string_view value, std::string_view target = "/a/b?q=1") {
  std::string k;
  if (!key_of_reference(k, value, "Example.com", target)) return "(none)";
  return k;
}

TEST(CacheKey, HostIsLowerCasedTargetIsNot) {
  EXPECT_EQ(key("API.Example.com:8080", "/Items?Page=2"), "api.example.com:8080/Items?Page=2");
}

TEST(CacheKey, ReferencesOfTheSameOrigin) {
  EXPECT_EQ(reference("/x/y"), "example.com/x/y");
  EXPECT_EQ(reference("http://example.com/x"), "example.com/x");
  EXPECT_EQ(reference("HTTPS://EXAMPLE.COM/x?z"), "example.com/x?z");
  EXPECT_EQ(reference("http://example.com"), "example.com/");
  EXPECT_EQ(reference("http://example.com?z"), "example.com/?z");
  EXPECT_EQ(reference("//example.com/n"), "example.com/n");
  EXPECT_EQ(reference("c"), "example.com/a/c");
  EXPECT_EQ(reference("../c"), "example.com/c");
  EXPECT_EQ(reference("./c/./d/../e"), "example.com/a/c/e");
  EXPECT_EQ(reference("../../../c"), "example.com/c");
  EXPECT_EQ(reference(".."), "example.com/");
  EXPECT_EQ(reference("/x#frag"), "example.com/x");
  EXPECT_EQ(reference("?page=2"), "example.com/a/b?page=2");
  EXPECT_EQ(reference("c?d:e"), "example.com/a/c?d:e");  // no scheme: the colon comes later
  EXPECT_EQ(reference("c:d"), "(none)");                 // the scheme c, not ours
}

TEST(CacheKey, ReferencesElsewhereAreNotInvalidated) {
  EXPECT_EQ(reference("http://other.com/x"), "(none)");
  EXPECT_EQ(reference("//other.com/x"), "(none)");
  EXPECT_EQ(reference("ftp://example.com/x"), "(none)");
  EXPECT_EQ(reference("mailto:a@example.com"), "(none)");
  EXPECT_EQ(reference(""), "(none)");
  EXPECT_EQ(reference("http://example.com.evil/x"), "(none)");
}

}  // namespace
}  // namespace portico::cache

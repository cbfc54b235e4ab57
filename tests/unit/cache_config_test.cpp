// `cache:` in the config: its keys and their mistakes (each with file:line:col and the key
// path), its place in the chain, and how zones are shared and kept across reloads.
#include <gtest/gtest.h>

#include <string>

#include "config/ConfigLoader.h"
#include "core/Runtime.h"

namespace portico::config {
namespace {

// The route's filters start at line 7.
std::string with_filters(std::string_view filters, std::string_view more_routes = "") {
  return "listeners:\n"
         "  - name: l\n"
         "    address: 127.0.0.1:8080\n"
         "    routes:\n"
         "      - name: r\n"
         "        upstream: u\n"
         "        filters:\n" +
         std::string(filters) + std::string(more_routes) +
         "upstreams:\n"
         "  - name: u\n"
         "    endpoints: [ 127.0.0.1:9 ]\n";
}

std::vector<std::string> errors_of(std::string_view yaml) {
  LoadResult result = load_config_string(yaml, "test.yaml");
  EXPECT_FALSE(result.config.has_value());
  std::vector<std::string> lines;
  for (const ConfigError& e : result.errors) lines.push_back(e.to_string());
  return lines;
}

std::string only_error(std::string_view yaml) {
  auto lines = errors_of(yaml);
  EXPECT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
  return lines.empty() ? "" : lines.front();
}

std::shared_ptr<const core::Runtime> build(std::string_view yaml,
                                           const core::Runtime* previous = nullptr) {
  LoadResult r = load_config_string(yaml, "test.yaml");
  EXPECT_TRUE(r.config.has_value()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  return core::Runtime::build(std::move(*r.config), previous);
}

TEST(CacheConfig, DefaultsAndEveryKey) {
  auto rt = build(with_filters("          - cache:\n"));
  ASSERT_EQ(rt->cache_zones().all().size(), 1u);
  const cache::CacheZone& zone = *rt->cache_zones().all()[0];
  EXPECT_EQ(zone.name(), "default");
  EXPECT_EQ(zone.store().limits().max_bytes, 64ull << 20);
  EXPECT_EQ(zone.store().limits().max_object_bytes, 1ull << 20);
  auto custom = build(with_filters(
      "          - cache: { zone: pages, max_bytes: 1MiB, max_object_bytes: 64KiB, status_header: "
      "X-Edge-Cache, store_set_cookie: true, heuristic: 0%, collapse: { timeout: 1s, "
      "max_waiters: 0 } }\n"));
  const cache::CacheZone& pages = *custom->cache_zones().all()[0];
  EXPECT_EQ(pages.name(), "pages");
  EXPECT_EQ(pages.store().limits().max_bytes, 1ull << 20);
  EXPECT_EQ(pages.store().limits().max_object_bytes, 64ull << 10);
}

TEST(CacheConfig, Mistakes) {
  EXPECT_EQ(only_error(with_filters("          - cache: { max_bytes: 1KiB }\n")),
            "test.yaml:8:33: listeners[0].routes[0].filters[0].cache.max_bytes: must be at least "
            "64KiB, got 1024 bytes");
  EXPECT_EQ(
      only_error(with_filters("          - cache: { max_bytes: 1MiB, max_object_bytes: 2MiB }\n")),
      "test.yaml:8:57: listeners[0].routes[0].filters[0].cache.max_object_bytes: must not "
      "be larger than max_bytes (1048576 bytes)");
  EXPECT_EQ(only_error(with_filters("          - cache: { status_header: \"x cache\" }\n")),
            "test.yaml:8:37: listeners[0].routes[0].filters[0].cache.status_header: must be a "
            "header name or 'off', got 'x cache'");
  EXPECT_EQ(only_error(with_filters("          - cache: { heuristic: 150% }\n")),
            "test.yaml:8:33: listeners[0].routes[0].filters[0].cache.heuristic: must be a "
            "percentage from 0% to 100%, got 150%");
  EXPECT_EQ(only_error(with_filters("          - cache: { collapse: { timeout: 0s } }\n")),
            "test.yaml:8:43: listeners[0].routes[0].filters[0].cache.collapse.timeout: must be "
            "greater than 0");
  EXPECT_EQ(only_error(with_filters("          - cache: { max_age: 10s }\n")),
            "test.yaml:8:22: listeners[0].routes[0].filters[0].cache.max_age: unknown key "
            "'max_age' (expected one of: zone, max_bytes, max_object_bytes, status_header, "
            "store_set_cookie, heuristic, default_ttl, collapse)");
}

TEST(CacheConfig, CacheIsTheLastFilter) {
  EXPECT_EQ(only_error(with_filters("          - cache: {}\n"
                                    "          - rate_limit: { rate: 10/s }\n")),
            "test.yaml:9:13: listeners[0].routes[0].filters[1].rate_limit: 'cache' must be the "
            "last filter of a route (a hit answers once every other filter has let the request "
            "through)");
}

TEST(CacheConfig, AZoneIsOneStoreWithOneSize) {
  std::string other_route =
      "      - name: r2\n"
      "        upstream: u\n"
      "        filters:\n"
      "          - cache: { max_bytes: 2MiB }\n";
  try {
    build(with_filters("          - cache: { max_bytes: 1MiB }\n", other_route));
    ADD_FAILURE() << "two sizes for one zone were accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "route 'r2': filter 'cache': cache zone 'default' is given other sizes on "
                 "another route: a zone is one store");
  }
  // The same sizes: one store for both routes.
  auto rt = build(with_filters("          - cache: { max_bytes: 2MiB }\n", other_route));
  EXPECT_EQ(rt->cache_zones().all().size(), 1u);
}

TEST(CacheConfig, AReloadKeepsAZoneWhoseSizesAreUnchanged) {
  auto first = build(with_filters("          - cache: { max_bytes: 2MiB }\n"));
  auto same = build(with_filters("          - cache: { max_bytes: 2MiB, status_header: off }\n"),
                    first.get());
  EXPECT_EQ(same->cache_zones().all()[0], first->cache_zones().all()[0]);
  auto resized = build(with_filters("          - cache: { max_bytes: 3MiB }\n"), same.get());
  EXPECT_NE(resized->cache_zones().all()[0], same->cache_zones().all()[0]);
}

}  // namespace
}  // namespace portico::config

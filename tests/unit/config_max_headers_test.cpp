// limits.max_headers: how many header fields a request head may have.
#include <gtest/gtest.h>

#include "config/ConfigLoader.h"

namespace portico::config {
namespace {

LoadResult load_limits(std::string_view limits) {
  std::string yaml = "listeners:\n  - name: l\n    address: 127.0.0.1:8080\n    limits: ";
  yaml.append(limits).append("\n    routes: [ { name: r, respond: {} } ]\n");
  return load_config_string(yaml, "test.yaml");
}

std::string only_error(std::string_view limits) {
  LoadResult result = load_limits(limits);
  EXPECT_FALSE(result.config.has_value());
  EXPECT_EQ(result.errors.size(), 1u);
  return result.errors.empty() ? "" : result.errors.front().to_string();
}

TEST(ConfigMaxHeaders, DefaultsToOneHundred) {
  LoadResult result = load_limits("{ header_timeout: 5s }");
  ASSERT_TRUE(result.config.has_value());
  EXPECT_EQ(result.config->listeners[0].limits.max_headers, 100u);
}

TEST(ConfigMaxHeaders, ReadsTheLimitsAtItsBounds) {
  for (uint32_t n : {1u, 250u, 10000u}) {
    LoadResult result = load_limits("{ max_headers: " + std::to_string(n) + " }");
    ASSERT_TRUE(result.config.has_value()) << n;
    EXPECT_EQ(result.config->listeners[0].limits.max_headers, n);
  }
}

TEST(ConfigMaxHeaders, RefusesValuesOutOfRange) {
  EXPECT_EQ(only_error("{ max_headers: 0 }"),
            "test.yaml:4:28: listeners[0].limits.max_headers: must be an integer from 1 to 10000, "
            "got 0");
  EXPECT_EQ(only_error("{ max_headers: 10001 }"),
            "test.yaml:4:28: listeners[0].limits.max_headers: must be an integer from 1 to 10000, "
            "got 10001");
  EXPECT_NE(only_error("{ max_headers: lots }").find("an integer from 1 to 10000"),
            std::string::npos);
}

}  // namespace
}  // namespace portico::config

// The `reload:` section: whether a change of the config file reloads it, and the quiet
// period before it is read.
#include <gtest/gtest.h>

#include <string>

#include "config/ConfigLoader.h"

namespace portico::config {
namespace {

std::string with_reload(std::string_view reload) {
  return "reload: " + std::string(reload) +
         "\n"
         "listeners:\n"
         "  - name: l\n"
         "    address: 127.0.0.1:8080\n"
         "    routes:\n"
         "      - name: r\n"
         "        respond: { status: 200 }\n";
}

TEST(ConfigReload, WatchingIsOnByDefault) {
  LoadResult r = load_config_string(
      "listeners: [ { name: l, address: 127.0.0.1:8080, routes: [ { name: r, respond: { status: "
      "200 } } ] } ]\n",
      "test.yaml");
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
  EXPECT_TRUE(r.config->reload.watch);
  EXPECT_EQ(r.config->reload.debounce.count(), 250);
}

TEST(ConfigReload, WatchAndDebounceAreRead) {
  LoadResult r = load_config_string(with_reload("{ watch: false, debounce: 2s }"), "test.yaml");
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
  EXPECT_FALSE(r.config->reload.watch);
  EXPECT_EQ(r.config->reload.debounce.count(), 2000);
}

TEST(ConfigReload, BadValuesAndUnknownKeysAreErrors) {
  LoadResult r =
      load_config_string(with_reload("{ watch: maybe, debounce: 0s, every: 1s }"), "test.yaml");
  ASSERT_FALSE(r.config);
  std::vector<std::string> lines;
  for (const ConfigError& e : r.errors) lines.push_back(e.to_string());
  ASSERT_EQ(lines.size(), 3u) << ::testing::PrintToString(lines);
  EXPECT_NE(lines[0].find("test.yaml:1:"), std::string::npos) << lines[0];
  EXPECT_NE(::testing::PrintToString(lines).find("reload.every: unknown key 'every'"),
            std::string::npos)
      << ::testing::PrintToString(lines);
  EXPECT_NE(::testing::PrintToString(lines).find("reload.watch"), std::string::npos);
  EXPECT_NE(::testing::PrintToString(lines).find("reload.debounce"), std::string::npos);
}

}  // namespace
}  // namespace portico::config

// The config's `flags:`, `flags_header:` and routes' `match: { flags: ... }`: what loads,
// the defaults, and every mistake reported with its file, line, column and key.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/BasisPoints.h"
#include "config/ConfigLoader.h"

namespace portico::config {
namespace {

// `top` before a listener whose one route matches `match` (a flow mapping).
std::string with_flags(std::string_view top, std::string_view match = "{}") {
  return std::string(top) +
         "listeners:\n"
         "  - name: l\n"
         "    address: 127.0.0.1:8080\n"
         "    routes:\n"
         "      - name: r\n"
         "        match: " +
         std::string(match) +
         "\n"
         "        respond: { status: 200 }\n";
}

std::vector<std::string> errors_of(const std::string& yaml) {
  LoadResult r = load_config_string(yaml, "test.yaml");
  std::vector<std::string> lines;
  for (const ConfigError& e : r.errors) lines.push_back(e.to_string());
  EXPECT_EQ(r.config.has_value(), lines.empty());
  return lines;
}

std::string only_error(const std::string& yaml) {
  std::vector<std::string> lines = errors_of(yaml);
  EXPECT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
  return lines.empty() ? "" : lines.front();
}

TEST(ConfigFlags, AFullFlagLoads) {
  LoadResult r = load_config_string(with_flags(R"(flags_header: X-Features
flags:
  new-checkout:
    enabled: true
    percent: 12.5
    key: cookie:uid
    allow:
      header: { X-Beta: "1", x-team: [a, b] }
      cookie: { beta: "yes" }
      client: [127.0.0.0/8, "::1"]
  old-ui: { percent: 100%, key: header:X-User }
  dark: { enabled: false }
)",
                                               "{ flags: { new-checkout: true, old-ui: false } }"),
                                    "test.yaml");
  ASSERT_TRUE(r.config) << r.errors.front().to_string();
  const Config& c = *r.config;
  EXPECT_EQ(c.flags_header, "X-Features");
  ASSERT_EQ(c.flags.size(), 3u);
  const Flag& f = c.flags[0];
  EXPECT_EQ(f.name, "new-checkout");
  EXPECT_EQ(f.mark.line, 3);
  EXPECT_TRUE(f.enabled);
  EXPECT_EQ(f.percent_bp, 1'250u);
  EXPECT_EQ(f.key.kind, HashKey::Kind::Cookie);
  EXPECT_EQ(f.key.name, "uid");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(f.allow.headers, (Pairs{{"x-beta", "1"}, {"x-team", "a"}, {"x-team", "b"}}));
  EXPECT_EQ(f.allow.cookies, (Pairs{{"beta", "yes"}}));
  EXPECT_EQ(f.allow.clients, (std::vector<std::string>{"127.0.0.0/8", "::1"}));
  EXPECT_EQ(c.flags[1].percent_bp, 10'000u);
  EXPECT_EQ(c.flags[1].key.kind, HashKey::Kind::Header);
  EXPECT_EQ(c.flags[1].key.name, "x-user");
  EXPECT_FALSE(c.flags[2].enabled);
  const auto& conditions = c.listeners[0].routes[0].match.flags;
  ASSERT_EQ(conditions.size(), 2u);
  EXPECT_EQ(conditions[0].name, "new-checkout");
  EXPECT_EQ(conditions[0].index, 0u);
  EXPECT_TRUE(conditions[0].on);
  EXPECT_EQ(conditions[1].index, 1u);
  EXPECT_FALSE(conditions[1].on);
}

TEST(ConfigFlags, Defaults) {
  LoadResult r = load_config_string(with_flags("flags: { plain: {} }\n"), "test.yaml");
  ASSERT_TRUE(r.config) << r.errors.front().to_string();
  EXPECT_EQ(r.config->flags_header, "x-portico-flags");
  const Flag& f = r.config->flags.at(0);
  EXPECT_TRUE(f.enabled);
  EXPECT_EQ(f.percent_bp, 0u);
  EXPECT_EQ(f.key.kind, HashKey::Kind::ClientIp);
  EXPECT_TRUE(f.allow.headers.empty() && f.allow.cookies.empty() && f.allow.clients.empty());
}

TEST(ConfigFlags, TheHeaderCanBeTurnedOff) {
  for (const char* off : {"\"\"", "off"}) {
    LoadResult r =
        load_config_string(with_flags(std::string("flags_header: ") + off + "\n"), "test.yaml");
    ASSERT_TRUE(r.config) << off;
    EXPECT_EQ(r.config->flags_header, "") << off;
  }
}

TEST(ConfigFlags, UnknownKeys) {
  EXPECT_EQ(only_error(with_flags("flags:\n  f: { percent: 5, precent: 6 }\n")),
            "test.yaml:2:20: flags.f.precent: unknown key 'precent' (expected one of: enabled, "
            "percent, key, allow)");
  EXPECT_EQ(only_error(with_flags("flags:\n  f: { allow: { ip: [127.0.0.1] } }\n")),
            "test.yaml:2:17: flags.f.allow.ip: unknown key 'ip' (expected one of: header, cookie, "
            "client)");
}

TEST(ConfigFlags, PercentOutOfRangeOrMalformed) {
  EXPECT_EQ(only_error(with_flags("flags:\n  f: { percent: 100.01 }\n")),
            "test.yaml:2:17: flags.f.percent: '100.01' is not a valid percentage: must be at most "
            "100%");
  EXPECT_EQ(only_error(with_flags("flags:\n  f: { percent: -1 }\n")),
            "test.yaml:2:17: flags.f.percent: '-1' is not a valid percentage: percentages cannot "
            "be negative");
  EXPECT_EQ(only_error(with_flags("flags:\n  f: { percent: 0.125 }\n")),
            "test.yaml:2:17: flags.f.percent: '0.125' is not a valid percentage: at most two "
            "decimals (0.01% steps)");
  EXPECT_EQ(only_error(with_flags("flags:\n  f: { percent: ten }\n")),
            "test.yaml:2:17: flags.f.percent: 'ten' is not a valid percentage: expected a number "
            "from 0 to 100, e.g. '10%' or '2.5'");
  EXPECT_EQ(only_error(with_flags("flags:\n  f: { enabled: maybe }\n")),
            "test.yaml:2:17: flags.f.enabled: expected true or false, got 'maybe'");
}

TEST(ConfigFlags, BadCidrs) {
  std::vector<std::string> lines =
      errors_of(with_flags("flags:\n  f:\n    allow: { client: [10.0.0.1/8, 300.1.1.1, ok] }\n"));
  ASSERT_EQ(lines.size(), 3u) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines[0].rfind("test.yaml:3:23: flags.f.allow.client[0]: ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("test.yaml:3:35: flags.f.allow.client[1]: ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("test.yaml:3:46: flags.f.allow.client[2]: ", 0), 0u) << lines[2];
}

TEST(ConfigFlags, BadKeys) {
  EXPECT_EQ(only_error(with_flags("flags:\n  f: { key: user }\n"))
                .rfind("test.yaml:2:13: flags.f.key: ", 0),
            0u);
  EXPECT_EQ(only_error(with_flags("flags:\n  f: { key: \"cookie:\" }\n")),
            "test.yaml:2:13: flags.f.key: key 'cookie:' needs a cookie name, e.g. "
            "'cookie:x-user-id'");
  // `path` is allowed: sticky by URL.
  LoadResult r = load_config_string(with_flags("flags:\n  f: { key: path }\n"), "test.yaml");
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->flags[0].key.kind, HashKey::Kind::Path);
}

TEST(ConfigFlags, BadNamesAndAllowEntries) {
  EXPECT_EQ(only_error(with_flags("flags:\n  \"new checkout\": {}\n")),
            "test.yaml:2:3: flags.new checkout: invalid flag name 'new checkout' (use letters, "
            "digits, '_', '.' and '-')");
  EXPECT_EQ(only_error(with_flags("flags:\n  f: { allow: { header: { \"x beta\": \"1\" } } }\n")),
            "test.yaml:2:27: flags.f.allow.header.x beta: invalid header name 'x beta'");
  EXPECT_EQ(only_error(with_flags("flags: [a, b]\n")),
            "test.yaml:1:8: flags: expected a mapping, got a list");
}

TEST(ConfigFlags, AtMost64Flags) {
  std::string top = "flags:\n";
  for (int i = 0; i < 65; ++i) top += "  f" + std::to_string(i) + ": {}\n";
  EXPECT_EQ(only_error(with_flags(top)), "test.yaml:2:3: flags: at most 64 flags, got 65");
  top = "flags:\n";
  for (int i = 0; i < 64; ++i) top += "  f" + std::to_string(i) + ": {}\n";
  EXPECT_TRUE(errors_of(with_flags(top)).empty());
}

TEST(ConfigFlags, RoutesMatchOnlyDefinedFlags) {
  EXPECT_EQ(only_error(with_flags("flags: { a: {}, b: {} }\n", "{ flags: { a: true, c: true } }")),
            "test.yaml:7:36: listeners[0].routes[0].match.flags.c: unknown flag 'c' (defined: a, "
            "b)");
  EXPECT_EQ(only_error(with_flags("", "{ flags: { a: true } }")),
            "test.yaml:6:27: listeners[0].routes[0].match.flags.a: unknown flag 'a' (no flags are "
            "defined)");
  EXPECT_EQ(only_error(with_flags("flags: { a: {} }\n", "{ flags: { a: yes } }")),
            "test.yaml:7:30: listeners[0].routes[0].match.flags.a: expected true or false, got "
            "'yes'");
}

TEST(ConfigFlags, BadFlagsHeader) {
  EXPECT_EQ(only_error(with_flags("flags_header: \"x flags\"\n")),
            "test.yaml:1:15: flags_header: invalid header name 'x flags'");
  EXPECT_EQ(only_error(with_flags("flags_header: X-Request-Id\n")),
            "test.yaml:1:15: flags_header: 'X-Request-Id' is a header Portico sets or relays "
            "itself; choose another name");
}

TEST(BasisPoints, Parse) {
  EXPECT_EQ(*parse_basis_points("0"), 0u);
  EXPECT_EQ(*parse_basis_points("10"), 1'000u);
  EXPECT_EQ(*parse_basis_points("10%"), 1'000u);
  EXPECT_EQ(*parse_basis_points("12.5"), 1'250u);
  EXPECT_EQ(*parse_basis_points("0.01%"), 1u);
  EXPECT_EQ(*parse_basis_points("99.99"), 9'999u);
  EXPECT_EQ(*parse_basis_points("100"), 10'000u);
  EXPECT_EQ(*parse_basis_points("100.00"), 10'000u);
  EXPECT_EQ(*parse_basis_points("007"), 700u);
  for (const char* bad : {"", "%", "-1", "100.01", "101", "1000", "1.", ".5", "1.234", "1e2",
                          "10 %", " 10", "0x10", "99999999999999999999"})
    EXPECT_FALSE(parse_basis_points(bad)) << bad;
}

TEST(BasisPoints, Text) {
  EXPECT_EQ(basis_points_text(0), "0");
  EXPECT_EQ(basis_points_text(1'000), "10");
  EXPECT_EQ(basis_points_text(1'250), "12.5");
  EXPECT_EQ(basis_points_text(1), "0.01");
  EXPECT_EQ(basis_points_text(10'000), "100");
}

}  // namespace
}  // namespace portico::config

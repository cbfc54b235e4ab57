// The body of PUT /-/flags/NAME: what is accepted, and the precise refusals.
#include "app/FlagUpdate.h"

#include <gtest/gtest.h>

namespace portico::app {
namespace {

TEST(FlagUpdate, PercentEnabledOrBoth) {
  auto p = parse_flag_update(R"({"percent": 25})");
  ASSERT_TRUE(p) << p.error;
  EXPECT_EQ(p->percent_bp, 2'500u);
  EXPECT_FALSE(p->enabled);
  auto e = parse_flag_update(R"({"enabled": false})");
  ASSERT_TRUE(e) << e.error;
  EXPECT_EQ(e->enabled, false);
  EXPECT_FALSE(e->percent_bp);
  auto both = parse_flag_update(R"({"enabled":true,"percent":0.05})");
  ASSERT_TRUE(both) << both.error;
  EXPECT_EQ(both->enabled, true);
  EXPECT_EQ(both->percent_bp, 5u);
}

TEST(FlagUpdate, Refusals) {
  EXPECT_EQ(parse_flag_update("").error, "request body: expected a JSON object");
  EXPECT_EQ(parse_flag_update("{}").error,
            R"(request body:1:1: give "percent" (0-100) and/or "enabled" (true or false))");
  EXPECT_EQ(parse_flag_update(R"({"percent": 101})").error,
            "request body:1:13: percent: '101' is not a valid percentage: must be at most 100%");
  EXPECT_EQ(parse_flag_update(R"({"percent": 5, "ramp": 1})").error,
            "request body:1:16: ramp: unknown key 'ramp' (expected one of: enabled, percent)");
  EXPECT_EQ(parse_flag_update(R"({"enabled": "sometimes"})").error,
            "request body:1:13: enabled: expected true or false, got 'sometimes'");
  EXPECT_EQ(parse_flag_update(R"({"percent": [1]})").error,
            "request body:1:13: percent: expected a percentage from 0 to 100 such as 25 or 2.5, "
            "got a list");
  EXPECT_EQ(parse_flag_update("[25]").error, "request body: expected a JSON object");
  EXPECT_EQ(parse_flag_update(R"({"percent": 1)").error.rfind("request body: not valid JSON: ", 0),
            0u);
  // Every mistake, one per line.
  EXPECT_EQ(parse_flag_update(R"({"percent": 101, "on": 1})").error,
            "request body:1:13: percent: '101' is not a valid percentage: must be at most 100%\n"
            "request body:1:18: on: unknown key 'on' (expected one of: enabled, percent)");
}

}  // namespace
}  // namespace portico::app

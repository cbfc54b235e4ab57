#include "cache/HttpDate.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace portico::cache {
namespace {

constexpr int64_t kRfcExample = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

std::string formatted(int64_t seconds) {
  HttpDateText out;
  format_http_date(seconds, out);
  return std::string(out.data(), out.size());
}

int64_t this_year() {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  // "Sun, 06 Nov 1994 ..." : the year is at offset 12.
  return std::stoll(formatted(now).substr(12, 4));
}

TEST(HttpDate, TheThreeFormsOfTheRfcExample) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), kRfcExample);
  EXPECT_EQ(parse_http_date("Sun Nov 06 08:49:37 1994"), kRfcExample);
}

TEST(HttpDate, EpochAndAroundIt) {
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:01 GMT"), 1);
  EXPECT_EQ(parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT"), -1);
  EXPECT_EQ(parse_http_date("Tue, 19 Jan 2038 03:14:08 GMT"), 2147483648);
  EXPECT_EQ(parse_http_date("Mon, 01 Jan 0001 00:00:00 GMT"), -62135596800);
  EXPECT_EQ(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), 253402300799);
}

TEST(HttpDate, LeapYears) {
  EXPECT_EQ(parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400);
  EXPECT_EQ(parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT"), 1709208000);
  EXPECT_FALSE(parse_http_date("Thu, 29 Feb 2001 00:00:00 GMT"));
  EXPECT_FALSE(parse_http_date("Thu, 29 Feb 1900 00:00:00 GMT"));  // century, not leap
  EXPECT_TRUE(parse_http_date("Tue, 29 Feb 2400 00:00:00 GMT"));   // 400th year is
  EXPECT_FALSE(parse_http_date("Wed, 30 Feb 2000 00:00:00 GMT"));
  EXPECT_FALSE(parse_http_date("Sun Feb 29 00:00:00 2001"));
  EXPECT_FALSE(parse_http_date("Thursday, 29-Feb-01 00:00:00 GMT"));
}

TEST(HttpDate, ImpossibleDaysMonthsAndTimes) {
  EXPECT_FALSE(parse_http_date("Sun, 00 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 31 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 32 Dec 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 24:00:00 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:60:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:61 GMT"));
  EXPECT_FALSE(parse_http_date("Sunday, 31-Apr-94 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun Nov 31 08:49:37 1994"));
  EXPECT_FALSE(parse_http_date("Sun Nov  0 08:49:37 1994"));
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 23:59:59 GMT"),
            kRfcExample + 15 * 3600 + 10 * 60 + 22);
}

TEST(HttpDate, LeapSecondReadsAsTheNextMinute) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:60 GMT"), kRfcExample + 23);
}

TEST(HttpDate, MalformedText) {
  for (const char* bad : {
           "",
           "0",
           "-1",
           "1994-11-06T08:49:37Z",
           "Sun, 06 Nov 1994 08:49:37 GMTx",
           "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
           "Sun, 06 Nov 1994 08:49:37 UTC",
           "Sun, 06 Nov 1994 08:49:37 +0000",
           "Sun, 06 Nov 1994 08:49:37",
           "Sun, 6 Nov 1994 08:49:37 GMT",
           "Sun, 06 Nov 94 08:49:37 GMT",
           "Sun, 06 Nov 1994 8:49:37 GMT",
           "Sun,06 Nov 1994 08:49:37 GMT",
           "Sun,  06 Nov 1994 08:49:37 GMT",
           "Sun, 06-Nov-1994 08:49:37 GMT",
           "Sunday, 06 Nov 1994 08:49:37 GMT",
           "Sun, 06 November 1994 08:49:37 GMT",
           "Xyz, 06 Nov 1994 08:49:37 GMT",
           "Sunday, 06-Nov-1994 08:49:37 GMT",
           "Sun, 06-Nov-94 08:49:37 GMT",
           "Sunday, 06-Nov-94 08:49:37",
           "Sunday, 06-Nov-94 08:49:37 GMT junk",
           "Sun Nov 6 08:49:37 1994",
           "Sun Nov  6 08:49:37 94",
           "Sun Nov  6 08:49:37 1994 GMT",
           "Sun Nov  6 08:49:37 19945",
           "Sun, 06 Nov 1994 08:49:37 GMT\r\n",
           "Sun, 0x Nov 1994 08:49:37 GMT",
           "Sun, 06 Nov 19a4 08:49:37 GMT",
           "Sun, 06 Nov 1994 08-49-37 GMT",
       }) {
    EXPECT_FALSE(parse_http_date(bad)) << bad;
  }
}

TEST(HttpDate, SurroundingWhitespaceIsNotPartOfTheValue) {
  EXPECT_EQ(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT\t"), kRfcExample);
  EXPECT_EQ(parse_http_date(" Sun Nov  6 08:49:37 1994 "), kRfcExample);
}

TEST(HttpDate, NamesAreReadWithoutCase) {
  EXPECT_EQ(parse_http_date("sun, 06 nov 1994 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("SUNDAY, 06-NOV-94 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("SUN NOV  6 08:49:37 1994"), kRfcExample);
}

TEST(HttpDate, AWrongDayNameIsTolerated) {
  EXPECT_EQ(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("Friday, 06-Nov-94 08:49:37 GMT"), kRfcExample);
}

TEST(HttpDate, EveryMonthName) {
  const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int64_t previous = INT64_MIN;
  for (const char* m : months) {
    const std::string text = std::string("Mon, 01 ") + m + " 2001 00:00:00 GMT";
    const auto t = parse_http_date(text);
    ASSERT_TRUE(t) << text;
    EXPECT_GT(*t, previous);
    EXPECT_EQ(formatted(*t).substr(8, 3), m);
    previous = *t;
  }
}

TEST(HttpDate, Rfc850TwoDigitYearsFallWithinFiftyYearsAhead) {
  const int64_t now = this_year();
  for (int yy = 0; yy < 100; ++yy) {
    char text[64];
    std::snprintf(text, sizeof text, "Monday, 01-Jan-%02d 00:00:00 GMT", yy);
    const auto t = parse_http_date(text);
    ASSERT_TRUE(t) << text;
    const int64_t year = std::stoll(formatted(*t).substr(12, 4));
    EXPECT_EQ(year % 100, yy) << text;
    EXPECT_LE(year, now + 50) << text;
    EXPECT_GT(year, now - 50) << text;
  }
  // The RFC's own example is in the past, not in the 2090s.
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), kRfcExample);
  // Exactly 50 years ahead is still ahead; 51 goes back a century.
  char text[64];
  std::snprintf(text, sizeof text, "Monday, 01-Jan-%02d 00:00:00 GMT", int((now + 50) % 100));
  EXPECT_EQ(std::stoll(formatted(*parse_http_date(text)).substr(12, 4)), now + 50);
  std::snprintf(text, sizeof text, "Monday, 01-Jan-%02d 00:00:00 GMT", int((now + 51) % 100));
  EXPECT_EQ(std::stoll(formatted(*parse_http_date(text)).substr(12, 4)), now + 51 - 100);
}

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(formatted(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(formatted(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(formatted(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(formatted(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(formatted(2147483648), "Tue, 19 Jan 2038 03:14:08 GMT");
  EXPECT_EQ(formatted(253402300799), "Fri, 31 Dec 9999 23:59:59 GMT");
}

TEST(HttpDate, FormatClampsToFourDigitYears) {
  EXPECT_EQ(formatted(INT64_MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
  EXPECT_EQ(formatted(253402300800), "Fri, 31 Dec 9999 23:59:59 GMT");
  EXPECT_EQ(formatted(INT64_MIN), "Sat, 01 Jan 0000 00:00:00 GMT");
}

TEST(HttpDate, AgreesWithTheCLibraryAndRoundTrips) {
  // gmtime_r is fine in a test; the parser avoids it for its time-zone and locale state.
  for (int64_t t = -2208988800; t < 4102444800; t += 7777777) {
    const std::string text = formatted(t);
    EXPECT_EQ(parse_http_date(text), t) << text;
    const time_t tt = static_cast<time_t>(t);
    struct tm tm {};
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    char expected[64];
    strftime(expected, sizeof expected, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    EXPECT_EQ(text, expected);
    // The asctime form of the same instant.
    char asc[64];
    strftime(asc, sizeof asc, "%a %b %e %H:%M:%S %Y", &tm);
    EXPECT_EQ(parse_http_date(asc), t) << asc;
  }
}

}  // namespace
}  // namespace portico::cache

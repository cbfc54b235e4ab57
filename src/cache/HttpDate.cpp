#include "cache/HttpDate.h"

#include <chrono>

#include "http/Header.h"

namespace portico::cache {

namespace {

constexpr std::string_view kDays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kLongDays[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                           "Thursday", "Friday", "Saturday"};
constexpr std::string_view kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr int64_t kSecondsPerDay = 86400;

bool leap_year(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int64_t year, int month) {
  constexpr int kLengths[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && leap_year(year) ? 29 : kLengths[month - 1];
}

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Days since 1970-01-01 of a proleptic Gregorian date. Counting years from March puts
// the leap day last, so a month's offset in the year is a linear formula and the leap
// rules apply to whole 400-year cycles of 146097 days.
int64_t days_from_civil(int64_t year, int month, int day) {
  const int64_t y = month <= 2 ? year - 1 : year;
  const int64_t cycle = floor_div(y, 400);
  const int64_t year_of_cycle = y - cycle * 400;                       // [0, 399]
  const int64_t month_from_march = month > 2 ? month - 3 : month + 9;  // [0, 11]
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  const int64_t day_of_cycle =
      year_of_cycle * 365 + year_of_cycle / 4 - year_of_cycle / 100 + day_of_year;
  // 719468 days separate 0000-03-01 from 1970-01-01.
  return cycle * 146097 + day_of_cycle - 719468;
}

struct Civil {
  int64_t year;
  int month;
  int day;
};

// The inverse of days_from_civil.
Civil civil_from_days(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t cycle = floor_div(z, 146097);
  const int64_t day_of_cycle = z - cycle * 146097;  // [0, 146096]
  const int64_t year_of_cycle =
      (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36524 - day_of_cycle / 146096) / 365;
  const int64_t day_of_year =
      day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
  const int64_t month_from_march = (5 * day_of_year + 2) / 153;
  const int day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  const int month =
      static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  const int64_t year = year_of_cycle + cycle * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

// A cursor over the text; every reader consumes exactly what it matched or fails.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool done() const { return pos_ == s_.size(); }

  bool literal(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }
  // Exactly n digits.
  bool digits(size_t n, int& out) {
    if (s_.size() - pos_ < n) return false;
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
      const char c = s_[pos_ + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos_ += n;
    out = v;
    return true;
  }
  // One of `names`, compared without case: HTTP-date is case-sensitive, but a sender
  // that writes "sun" or "NOV" still means an unambiguous date (RFC 9110 §5.6.7 asks
  // recipients to be robust).
  template <size_t N>
  bool name(const std::string_view (&names)[N], int& index) {
    for (size_t i = 0; i < N; ++i) {
      if (http::iequals(s_.substr(pos_, names[i].size()), names[i])) {
        pos_ += names[i].size();
        index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

struct Fields {
  int64_t year = 0;
  int month = 0;  // 1..12
  int day = 0;
  int hour = 0, minute = 0, second = 0;
};

bool time_of_day(Reader& r, Fields& f) {
  return r.digits(2, f.hour) && r.literal(":") && r.digits(2, f.minute) && r.literal(":") &&
         r.digits(2, f.second);
}

bool month_name(Reader& r, Fields& f) {
  int m = 0;
  if (!r.name(kMonths, m)) return false;
  f.month = m + 1;
  return true;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
bool imf_fixdate(std::string_view s, Fields& f) {
  Reader r(s);
  int wd = 0, year = 0;
  if (!(r.name(kDays, wd) && r.literal(", ") && r.digits(2, f.day) && r.literal(" ") &&
        month_name(r, f) && r.literal(" ") && r.digits(4, year) && r.literal(" ") &&
        time_of_day(r, f) && r.literal(" GMT") && r.done()))
    return false;
  f.year = year;
  return true;
}

// The current year, for the two-digit years of RFC 850 dates.
int64_t current_year() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  return civil_from_days(floor_div(secs, kSecondsPerDay)).year;
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
bool rfc850_date(std::string_view s, Fields& f) {
  Reader r(s);
  int wd = 0, yy = 0;
  if (!(r.name(kLongDays, wd) && r.literal(", ") && r.digits(2, f.day) && r.literal("-") &&
        month_name(r, f) && r.literal("-") && r.digits(2, yy) && r.literal(" ") &&
        time_of_day(r, f) && r.literal(" GMT") && r.done()))
    return false;
  // RFC 9110 §5.6.7: a year more than 50 years ahead is the latest past year with the
  // same last two digits, so the year falls in (now - 50, now + 50]. Compared by year,
  // not to the second: the text gives two digits of year, and the boundary year's dates
  // are a century apart whichever way they fall.
  const int64_t now = current_year();
  int64_t year = now - now % 100 + yy;
  if (year > now + 50) year -= 100;
  // Late in a century the window reaches into the next one ("05" read in 2160 is 2205).
  if (year <= now - 50) year += 100;
  f.year = year;
  return true;
}

// "Sun Nov  6 08:49:37 1994"
bool asctime_date(std::string_view s, Fields& f) {
  Reader r(s);
  int wd = 0, year = 0;
  if (!(r.name(kDays, wd) && r.literal(" ") && month_name(r, f) && r.literal(" "))) return false;
  // The day is two digits or a space and one digit.
  if (r.literal(" ")) {
    if (!r.digits(1, f.day)) return false;
  } else if (!r.digits(2, f.day)) {
    return false;
  }
  if (!(r.literal(" ") && time_of_day(r, f) && r.literal(" ") && r.digits(4, year) && r.done()))
    return false;
  f.year = year;
  return true;
}

}  // namespace

std::optional<int64_t> parse_http_date(std::string_view text) {
  text = http::trim_ows(text);
  Fields f;
  if (!imf_fixdate(text, f) && !rfc850_date(text, f) && !asctime_date(text, f)) return std::nullopt;
  if (f.day < 1 || f.day > days_in_month(f.year, f.month)) return std::nullopt;
  // 60 is a leap second (the IMF grammar allows it); it reads as the next minute's 0,
  // since epoch time has no leap seconds.
  if (f.hour > 23 || f.minute > 59 || f.second > 60) return std::nullopt;
  // The day name is not checked against the date: it carries nothing the rest lacks,
  // and a wrong one is a sender's slip, not an ambiguous date.
  return days_from_civil(f.year, f.month, f.day) * kSecondsPerDay + f.hour * 3600 + f.minute * 60 +
         f.second;
}

void format_http_date(int64_t seconds, HttpDateText& out) {
  // Four digits of year hold 0000-01-01 through 9999-12-31; outside, the nearest end.
  constexpr int64_t kMin = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr int64_t kMax = 253402300799;  // 9999-12-31T23:59:59Z
  if (seconds < kMin) seconds = kMin;
  if (seconds > kMax) seconds = kMax;
  const int64_t days = floor_div(seconds, kSecondsPerDay);
  const int64_t secs_of_day = seconds - days * kSecondsPerDay;
  const Civil c = civil_from_days(days);
  // 1970-01-01 was a Thursday.
  const int64_t weekday = ((days % 7) + 7 + 4) % 7;

  char* p = out.data();
  auto put = [&p](std::string_view s) {
    for (char ch : s) *p++ = ch;
  };
  auto put_digits = [&p](int64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += n;
  };
  put(kDays[weekday]);
  put(", ");
  put_digits(c.day, 2);
  put(" ");
  put(kMonths[c.month - 1]);
  put(" ");
  put_digits(c.year, 4);
  put(" ");
  put_digits(secs_of_day / 3600, 2);
  put(":");
  put_digits(secs_of_day / 60 % 60, 2);
  put(":");
  put_digits(secs_of_day % 60, 2);
  put(" GMT");
}

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace portico::cache

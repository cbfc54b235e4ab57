#include "cache/CacheControl.h"

#include <string_view>

namespace portico::cache {

namespace {

using http::iequals;

using http::is_ows;

// One element of a field's comma list: `name`, `name=token` or `name="quoted"`.
struct Directive {
  std::string_view name;
  // The argument as written: the token, or the quoted string's contents with its
  // backslashes still in (read through `digits`, so nothing is unescaped into a copy).
  std::string_view arg;
  bool has_arg = false;
  bool quoted = false;
  // Anything else in the element (an unterminated quote, text after the argument): the
  // directive still counts, its argument does not.
  bool malformed = false;
};

// Walks a field value's elements. A quoted string may hold commas, so elements are
// found by reading, not by splitting on ','.
class DirectiveReader {
 public:
  explicit DirectiveReader(std::string_view v) : v_(v) {}

  bool next(Directive& d) {
    for (;;) {
      while (pos_ < v_.size() && (is_ows(v_[pos_]) || v_[pos_] == ',')) ++pos_;
      if (pos_ == v_.size()) return false;
      d = Directive{};
      const size_t start = pos_;
      while (pos_ < v_.size() && http::is_tchar(static_cast<unsigned char>(v_[pos_]))) ++pos_;
      d.name = v_.substr(start, pos_ - start);
      skip_ows();
      if (pos_ < v_.size() && v_[pos_] == '=') {
        ++pos_;
        skip_ows();
        d.has_arg = true;
        read_arg(d);
        skip_ows();
      }
      if (pos_ < v_.size() && v_[pos_] != ',') {
        d.malformed = true;
        skip_element();
      }
      // An element that does not start with a token names nothing.
      if (!d.name.empty()) return true;
    }
  }

 private:
  void skip_ows() {
    while (pos_ < v_.size() && is_ows(v_[pos_])) ++pos_;
  }

  void read_arg(Directive& d) {
    if (pos_ < v_.size() && v_[pos_] == '"') {
      d.quoted = true;
      const size_t start = ++pos_;
      while (pos_ < v_.size() && v_[pos_] != '"') {
        if (v_[pos_] == '\\' && pos_ + 1 < v_.size()) ++pos_;
        ++pos_;
      }
      d.arg = v_.substr(start, pos_ - start);
      if (pos_ == v_.size())
        d.malformed = true;  // no closing quote
      else
        ++pos_;
      return;
    }
    const size_t start = pos_;
    while (pos_ < v_.size() && http::is_tchar(static_cast<unsigned char>(v_[pos_]))) ++pos_;
    d.arg = v_.substr(start, pos_ - start);
  }

  // To the next comma outside a quoted string.
  void skip_element() {
    bool in_quotes = false;
    for (; pos_ < v_.size(); ++pos_) {
      const char c = v_[pos_];
      if (in_quotes && c == '\\') {
        ++pos_;
        if (pos_ == v_.size()) break;
      } else if (c == '"') {
        in_quotes = !in_quotes;
      } else if (c == ',' && !in_quotes) {
        break;
      }
    }
  }

  std::string_view v_;
  size_t pos_ = 0;
};

constexpr int64_t kDeltaMax = 2147483648;  // §1.2.2's value for "too large"

// delta-seconds (§1.2.2): 1*DIGIT, capped at 2^31. -1 when not digits. The quoted form
// is read too: a sender must not use it, but its meaning is plain, and the escapes of
// a quoted string are honoured so `"6\0"` reads as 60.
int64_t delta_seconds(const Directive& d) {
  if (!d.has_arg || d.malformed || d.arg.empty()) return -1;
  int64_t v = 0;
  for (size_t i = 0; i < d.arg.size(); ++i) {
    char c = d.arg[i];
    if (d.quoted && c == '\\') c = d.arg[++i];  // the reader saw a character after it
    if (c < '0' || c > '9') return -1;
    if (v <= kDeltaMax) v = v * 10 + (c - '0');
  }
  return v > kDeltaMax ? kDeltaMax : v;
}

// Which delta-seconds directives were met, so a repeat is ignored even when the first
// occurrence was invalid.
struct Seen {
  bool max_age = false, s_maxage = false, min_fresh = false, max_stale = false;
  bool swr = false, sie = false;
};

// First occurrence wins (§4.2.1). An invalid value becomes `invalid`: 0 for max-age and
// s-maxage (stale is the safe reading), absent for the rest, which are a client's
// preferences or permissions to serve stale: a garbled one grants nothing.
void set_delta(const Directive& d, bool& seen, int64_t& field, int64_t invalid) {
  if (seen) return;
  seen = true;
  const int64_t v = delta_seconds(d);
  field = v >= 0 ? v : invalid;
}

bool plain(const Directive& d) {
  return !d.has_arg && !d.malformed;
}

void apply(const Directive& d, CacheControl& cc, Seen& seen) {
  const std::string_view n = d.name;
  constexpr int64_t kAbsent = CacheControl::kAbsent;
  if (iequals(n, "max-age")) {
    set_delta(d, seen.max_age, cc.max_age, 0);
  } else if (iequals(n, "s-maxage")) {
    set_delta(d, seen.s_maxage, cc.s_maxage, 0);
  } else if (iequals(n, "no-store")) {
    cc.no_store = true;
  } else if (iequals(n, "no-cache")) {
    // no-cache="field" and private="field" qualify what a private cache may keep; a
    // shared cache reads them as the unqualified directive.
    cc.no_cache = true;
  } else if (iequals(n, "private")) {
    cc.private_ = true;
  } else if (iequals(n, "public")) {
    // With an argument or trailing text it is malformed, and public only loosens what
    // may be stored: ignored then. The same for immutable.
    if (plain(d)) cc.public_ = true;
  } else if (iequals(n, "immutable")) {
    if (plain(d)) cc.immutable = true;
  } else if (iequals(n, "must-revalidate")) {
    cc.must_revalidate = true;
  } else if (iequals(n, "proxy-revalidate")) {
    cc.proxy_revalidate = true;
  } else if (iequals(n, "must-understand")) {
    cc.must_understand = true;
  } else if (iequals(n, "no-transform")) {
    cc.no_transform = true;
  } else if (iequals(n, "only-if-cached")) {
    cc.only_if_cached = true;
  } else if (iequals(n, "min-fresh")) {
    set_delta(d, seen.min_fresh, cc.min_fresh, kAbsent);
  } else if (iequals(n, "max-stale")) {
    if (!seen.max_stale && plain(d)) {
      seen.max_stale = true;
      cc.max_stale = CacheControl::kAnyStale;
    } else {
      set_delta(d, seen.max_stale, cc.max_stale, kAbsent);
    }
  } else if (iequals(n, "stale-while-revalidate")) {
    set_delta(d, seen.swr, cc.stale_while_revalidate, kAbsent);
  } else if (iequals(n, "stale-if-error")) {
    set_delta(d, seen.sie, cc.stale_if_error, kAbsent);
  }
}

}  // namespace

CacheControl parse_cache_control(std::span<const http::Header> headers) {
  CacheControl cc;
  Seen seen;
  for (const http::Header& h : headers) {
    if (!iequals(h.name, "cache-control")) continue;
    DirectiveReader r(h.value);
    Directive d;
    while (r.next(d)) apply(d, cc, seen);
  }
  return cc;
}

bool pragma_no_cache(std::span<const http::Header> headers) {
  for (const http::Header& h : headers) {
    if (!iequals(h.name, "pragma")) continue;
    DirectiveReader r(h.value);
    Directive d;
    while (r.next(d))
      if (iequals(d.name, "no-cache") && !d.has_arg) return true;
  }
  return false;
}

}  // namespace portico::cache

#include "cache/Validators.h"

#include "cache/HttpDate.h"
#include "http/Header.h"

namespace portico::cache {

namespace {

// etagc (RFC 9110 §8.8.3): VCHAR except DQUOTE, and obs-text.
bool etagc(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x7E) || c >= 0x80;
}

using http::is_ows;
using http::trim_ows;

bool weak(std::string_view tag) {
  return tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/';
}

// The opaque-tag with its quotes; the caller has checked valid_etag.
std::string_view opaque(std::string_view tag) {
  return weak(tag) ? tag.substr(2) : tag;
}

// The length of the entity-tag at the start of `s`, or 0 when there is none. The weak
// prefix is case-sensitive ("w/" is not one).
size_t etag_length(std::string_view s) {
  size_t i = weak(s) ? 2 : 0;
  if (i >= s.size() || s[i] != '"') return 0;
  for (++i; i < s.size(); ++i) {
    if (s[i] == '"') return i + 1;
    if (!etagc(static_cast<unsigned char>(s[i]))) return 0;
  }
  return 0;
}

}  // namespace

bool valid_etag(std::string_view tag) {
  return !tag.empty() && etag_length(tag) == tag.size();
}

bool strong_match(std::string_view a, std::string_view b) {
  return valid_etag(a) && valid_etag(b) && !weak(a) && !weak(b) && a == b;
}

bool weak_match(std::string_view a, std::string_view b) {
  return valid_etag(a) && valid_etag(b) && opaque(a) == opaque(b);
}

bool none_match(std::string_view if_none_match, std::string_view etag) {
  std::string_view v = trim_ows(if_none_match);
  // "*" matches any current representation, and a stored response is one.
  if (v == "*") return true;
  // An opaque-tag may hold commas, so the list is read tag by tag, not split on ','.
  while (!v.empty()) {
    while (!v.empty() && (is_ows(v.front()) || v.front() == ',')) v.remove_prefix(1);
    if (v.empty()) break;
    const size_t n = etag_length(v);
    if (n > 0) {
      const std::string_view tag = v.substr(0, n);
      std::string_view rest = v.substr(n);
      while (!rest.empty() && is_ows(rest.front())) rest.remove_prefix(1);
      if (rest.empty() || rest.front() == ',') {
        if (weak_match(tag, etag)) return true;
        v = rest;
        continue;
      }
    }
    // Not an entity-tag (or one followed by junk): skip the element. A malformed entry
    // cannot match, and the ones after it still may.
    const size_t comma = v.find(',');
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
  }
  return false;
}

Precondition evaluate_conditional(std::optional<std::string_view> if_none_match,
                                  std::optional<std::string_view> if_modified_since,
                                  const StoredValidators& stored) {
  // RFC 9110 §13.2.2 step 3; If-Modified-Since is then not looked at (§13.1.3).
  if (if_none_match)
    return none_match(*if_none_match, stored.etag) ? Precondition::NotModified
                                                   : Precondition::Modified;
  if (!if_modified_since) return Precondition::None;
  const std::optional<int64_t> since = parse_http_date(*if_modified_since);
  if (!since) return Precondition::None;
  // RFC 9111 §4.3.2: Last-Modified, else the stored response's Date. With neither the
  // cache cannot tell, so the condition is left out (None) and the response is sent
  // whole: a 304 is only right when the cache knows nothing changed. A caller that wants
  // §4.3.2's last resort passes the response's receipt time as `date`.
  const std::optional<int64_t> modified = stored.last_modified ? stored.last_modified : stored.date;
  if (!modified) return Precondition::None;
  return *modified <= *since ? Precondition::NotModified : Precondition::Modified;
}

}  // namespace portico::cache

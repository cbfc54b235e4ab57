// Entity tags and conditional requests (RFC 9110 §8.8.3, §13.1): how a stored response's
// validators are compared with a request's If-None-Match / If-Modified-Since.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace portico::cache {

// An entity-tag: W/"x" or "x". false for anything else.
bool valid_etag(std::string_view tag);
// Strong comparison: both strong and the same opaque-tag.
bool strong_match(std::string_view a, std::string_view b);
// Weak comparison: the same opaque-tag, either or both weak.
bool weak_match(std::string_view a, std::string_view b);

// Whether If-None-Match's value (a list, or "*") matches `etag` by weak comparison, so a
// GET or HEAD gets 304. An empty `etag` (none stored) matches only "*".
bool none_match(std::string_view if_none_match, std::string_view etag);

// The outcome of a client's conditional GET/HEAD against a stored response (§13.2.2):
// If-None-Match decides when present (If-Modified-Since is then ignored), else
// If-Modified-Since against Last-Modified (or, lacking one, Date). A date that does not
// parse makes If-Modified-Since ignored.
enum class Precondition { None, NotModified, Modified };
struct StoredValidators {
  std::string_view etag;                 // "" when none
  std::optional<int64_t> last_modified;  // seconds
  std::optional<int64_t> date;           // seconds
};
Precondition evaluate_conditional(std::optional<std::string_view> if_none_match,
                                  std::optional<std::string_view> if_modified_since,
                                  const StoredValidators& stored);

}  // namespace portico::cache

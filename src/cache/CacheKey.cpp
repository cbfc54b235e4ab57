#include "cache/CacheKey.h"

#include <cstring>
#include <vector>

#include "http/Header.h"

namespace portico::cache {

namespace {

// RFC 3986 §5.2.4 on a path (its query, if any, is left alone).
std::string remove_dot_segments(std::string_view reference) {
  size_t q = reference.find('?');
  std::string_view path = reference.substr(0, q);
  std::vector<std::string_view> out;
  size_t at = 1;  // after the leading '/'
  bool trailing = false;
  while (at <= path.size()) {
    size_t slash = path.find('/', at);
    std::string_view seg =
        path.substr(at, slash == std::string_view::npos ? path.npos : slash - at);
    trailing = slash == std::string_view::npos && (seg == "." || seg == "..");
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
    } else if (seg != ".") {
      out.push_back(seg);
    }
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  std::string result;
  for (std::string_view seg : out) result.append("/").append(seg);
  if (result.empty() || trailing) result.append("/");
  if (q != std::string_view::npos) result.append(reference.substr(q));
  return result;
}

// Where a reference's scheme ends (its ':'), or npos when it has none: a scheme is
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) before any '/', '?' or '#' (RFC 3986 §3.1).
size_t scheme_end(std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    bool alpha = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    if (c == ':') return i > 0 ? i : std::string_view::npos;
    if (!(alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))))
      return std::string_view::npos;
  }
  return std::string_view::npos;
}

}  // namespace

void append_key(std::string& key, std::string_view host, std::string_view target) {
  key.resize(host.size() + target.size());
  char* p = key.data();
  for (char c : host) *p++ = http::ascii_lower(c);
  std::memcpy(p, target.data(), target.size());
}

bool key_of_reference(std::string& key, std::string_view value, std::string_view host,
                      std::string_view target) {
  value = value.substr(0, value.find('#'));
  if (value.empty()) return false;
  std::string resolved;
  auto authority_path = [&](std::string_view rest) {
    size_t slash = rest.find_first_of("/?");
    if (!http::iequals(rest.substr(0, slash), host)) return false;
    resolved = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (resolved[0] == '?') resolved.insert(0, "/");
    return true;
  };
  if (value.starts_with("//")) {
    if (!authority_path(value.substr(2))) return false;
  } else if (value[0] == '/') {
    resolved = value;
  } else if (value[0] == '?') {
    // A query alone replaces the target's query (RFC 3986 §5.2.2).
    resolved.assign(target.substr(0, target.find('?'))).append(value);
  } else {
    size_t colon = scheme_end(value);
    if (colon != std::string_view::npos) {
      // TLS may end in front of Portico: https names the same origin as http here.
      std::string_view scheme = value.substr(0, colon);
      if (!http::iequals(scheme, "http") && !http::iequals(scheme, "https")) return false;
      if (!value.substr(colon + 1).starts_with("//")) return false;
      if (!authority_path(value.substr(colon + 3))) return false;
    } else {
      std::string_view base = target.substr(0, target.find('?'));
      resolved.assign(base.substr(0, base.rfind('/') + 1)).append(value);
    }
  }
  append_key(key, host, remove_dot_segments(resolved));
  return true;
}

}  // namespace portico::cache

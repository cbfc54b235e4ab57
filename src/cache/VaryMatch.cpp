// Vary (RFC 9111 §4.1): a request selects a stored variant when each field the response
// varies on has the same normalised value in the request as in the request that was
// stored. Matching runs on every cache hit, so it compares in place instead of building
// the request's normalised value.
#include <optional>
#include <string>
#include <string_view>

#include "cache/CachedResponse.h"

namespace portico::cache {
namespace {

using http::trim_ows;

constexpr std::string_view kJoin = ", ";

// normalized_field(headers, name) == want, without building the left side.
bool normalized_equals(std::span<const http::Header> headers, std::string_view name,
                       const std::optional<std::string>& want) {
  bool present = false;
  std::string_view rest;
  for (const http::Header& h : headers) {
    if (!http::iequals(h.name, name)) continue;
    if (!want) return false;
    if (!present) {
      rest = *want;
      present = true;
    } else {
      if (!rest.starts_with(kJoin)) return false;
      rest.remove_prefix(kJoin.size());
    }
    std::string_view v = trim_ows(h.value);
    if (!rest.starts_with(v)) return false;
    rest.remove_prefix(v.size());
  }
  return present ? rest.empty() : !want;
}

}  // namespace

std::optional<std::string> normalized_field(std::span<const http::Header> headers,
                                            std::string_view name) {
  size_t lines = 0, bytes = 0;
  for (const http::Header& h : headers) {
    if (!http::iequals(h.name, name)) continue;
    ++lines;
    bytes += trim_ows(h.value).size();
  }
  if (lines == 0) return std::nullopt;
  std::string out;
  out.reserve(bytes + (lines - 1) * kJoin.size());
  bool first = true;
  for (const http::Header& h : headers) {
    if (!http::iequals(h.name, name)) continue;
    if (!first) out.append(kJoin);
    first = false;
    out.append(trim_ows(h.value));
  }
  return out;
}

bool vary_matches(const CachedResponse& stored, std::span<const http::Header> request_headers) {
  if (stored.vary_any) return false;
  for (const VaryField& f : stored.vary)
    if (!normalized_equals(request_headers, f.name, f.value)) return false;
  return true;
}

bool same_variant(const CachedResponse& a, const CachedResponse& b) {
  if (a.vary_any != b.vary_any || a.vary.size() != b.vary.size()) return false;
  for (size_t i = 0; i < a.vary.size(); ++i) {
    if (!http::iequals(a.vary[i].name, b.vary[i].name)) return false;
    if (a.vary[i].value != b.vary[i].value) return false;
  }
  return true;
}

bool same_vary_fields(const CachedResponse& a, const CachedResponse& b) {
  if (a.vary_any != b.vary_any || a.vary.size() != b.vary.size()) return false;
  // As sets: "Vary: A, B" and "Vary: B, A" vary on the same fields. Names are unique
  // within one entry, so equal sizes and inclusion one way suffice.
  for (const VaryField& f : a.vary) {
    bool found = false;
    for (const VaryField& g : b.vary) found = found || http::iequals(f.name, g.name);
    if (!found) return false;
  }
  return true;
}

uint64_t CachedResponse::size() const {
  uint64_t n = sizeof(CachedResponse) + fields.size() + reason.size();
  n += headers.size() * sizeof(http::Header);
  for (const VaryField& f : vary) {
    n += sizeof(VaryField) + f.name.size();
    if (f.value) n += f.value->size();
  }
  // The body's string object and the shared_ptr control block live on the heap too.
  if (body) n += sizeof(std::string) + 2 * sizeof(void*) + body->size();
  return n;
}

}  // namespace portico::cache

#include "admin/BearerToken.h"

namespace portico::admin {

namespace {

bool constant_time_equals(std::string_view presented, std::string_view expected) {
  if (expected.empty()) return false;
  unsigned diff = presented.size() == expected.size() ? 0 : 1;
  // Every presented byte is compared, against the expected token repeated, so the loop's
  // length and the memory it reads never depend on where or whether they differ.
  for (size_t i = 0; i < presented.size(); ++i) {
    diff |= static_cast<unsigned char>(presented[i]) ^
            static_cast<unsigned char>(expected[i % expected.size()]);
  }
  return diff == 0;
}

}  // namespace

bool bearer_token_matches(std::span<const http::Header> headers, std::string_view token) {
  const http::Header* found = nullptr;
  for (const http::Header& h : headers) {
    if (!http::iequals(h.name, "authorization")) continue;
    if (found) return false;  // two credentials: which one counts is anyone's guess
    found = &h;
  }
  if (!found) return false;
  std::string_view value = found->value;
  constexpr std::string_view kScheme = "bearer";
  if (value.size() <= kScheme.size() || !http::iequals(value.substr(0, kScheme.size()), kScheme))
    return false;
  value.remove_prefix(kScheme.size());
  if (value.front() != ' ') return false;
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return constant_time_equals(value, token);
}

}  // namespace portico::admin

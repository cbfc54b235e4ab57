#include "tls/ServerNameTable.h"

#include <string>

#include "http/Header.h"

namespace portico::tls {
namespace {

// A DNS name is at most 253 characters without its trailing dot (RFC 1035 §2.3.4);
// the SNI extension caps it at 255 bytes anyway.
constexpr size_t kMaxName = 255;

std::string_view without_trailing_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

}  // namespace

bool ServerNameTable::add(std::string_view name, size_t index) {
  name = without_trailing_dot(name);
  std::string key;
  key.reserve(name.size());
  for (char c : name) key += http::ascii_lower(c);
  if (key.size() > 2 && key.starts_with("*."))
    return wildcard_.try_emplace(key.substr(2), index).second;
  return exact_.try_emplace(std::move(key), index).second;
}

int ServerNameTable::find(std::string_view sni) const {
  sni = without_trailing_dot(sni);
  if (sni.empty() || sni.size() > kMaxName) return -1;
  char buf[kMaxName];
  for (size_t i = 0; i < sni.size(); ++i) buf[i] = http::ascii_lower(sni[i]);
  const std::string_view name(buf, sni.size());
  if (auto it = exact_.find(name); it != exact_.end()) return static_cast<int>(it->second);
  // The wildcard stands for the first label, which must not be empty.
  const size_t dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos) return -1;
  if (auto it = wildcard_.find(name.substr(dot + 1)); it != wildcard_.end())
    return static_cast<int>(it->second);
  return -1;
}

}  // namespace portico::tls

#include "upstream/NameSlots.h"

#include <netinet/in.h>

#include <cstring>

namespace portico::upstream {

bool same_address(const config::SocketAddress& a, const config::SocketAddress& b) {
  if (a.length != b.length || a.storage.ss_family != b.storage.ss_family) return false;
  if (a.storage.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a.storage);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b.storage);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.storage.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a.storage);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b.storage);
    return x.sin6_port == y.sin6_port && x.sin6_scope_id == y.sin6_scope_id &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  return std::memcmp(&a.storage, &b.storage, a.length) == 0;
}

SlotAssignment assign_slots(std::span<const std::optional<config::SocketAddress>> current,
                            std::span<const config::SocketAddress> resolved) {
  SlotAssignment out;
  out.slots.resize(current.size());
  auto is_resolved = [&](const config::SocketAddress& a) {
    for (const auto& r : resolved)
      if (same_address(a, r)) return true;
    return false;
  };
  // Addresses that stay keep their slot.
  for (size_t i = 0; i < current.size(); ++i)
    if (current[i] && is_resolved(*current[i])) out.slots[i] = current[i];
  // New ones fill the empty slots, lowest first.
  size_t free_slot = 0;
  for (size_t r = 0; r < resolved.size(); ++r) {
    bool placed = false;
    for (const auto& s : out.slots) placed = placed || (s && same_address(*s, resolved[r]));
    for (size_t d = 0; d < r && !placed; ++d) placed = same_address(resolved[d], resolved[r]);
    if (placed) continue;
    while (free_slot < out.slots.size() && out.slots[free_slot]) ++free_slot;
    if (free_slot == out.slots.size()) {
      ++out.dropped;
      continue;
    }
    out.slots[free_slot] = resolved[r];
  }
  return out;
}

}  // namespace portico::upstream

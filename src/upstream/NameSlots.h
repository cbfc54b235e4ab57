// An endpoint written as NAME:PORT stands for every address the name resolves to. Each
// such endpoint owns a fixed number of slots in its pool (balancer entries, health and
// connection state), filled with the addresses the resolver returns. Fixed slots let a
// change in DNS answers add and remove addresses without rebuilding balancers or moving
// any state: a slot is only filled or emptied.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "config/Config.h"

namespace portico::upstream {

// Addresses used per name; further ones are left out (and logged).
inline constexpr size_t kSlotsPerName = 8;

// Same family, address and port (the text is not compared).
bool same_address(const config::SocketAddress& a, const config::SocketAddress& b);

struct SlotAssignment {
  std::vector<std::optional<config::SocketAddress>> slots;  // what each slot holds now
  size_t dropped = 0;  // resolved addresses that found no free slot
};

// Given what the slots hold and what the name resolves to now: an address still resolved
// keeps its slot (its connections and health stay); one no longer resolved leaves its
// slot empty; new addresses take empty slots, lowest first, in the resolver's order.
// Duplicates in `resolved` count once.
SlotAssignment assign_slots(std::span<const std::optional<config::SocketAddress>> current,
                            std::span<const config::SocketAddress> resolved);

}  // namespace portico::upstream

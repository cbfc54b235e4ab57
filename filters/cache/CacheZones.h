// The cache zones of a config, for the admin API (purge) and metrics: each once, however
// many routes store in it.
#pragma once

#include <memory>
#include <vector>

#include "cache/CacheZone.h"

namespace portico::filters {

class CacheZones {
 public:
  // false when another zone of the same name is listed (one named with other sizes).
  bool add(const std::shared_ptr<cache::CacheZone>& zone) {
    for (const auto& z : zones_)
      if (z->name() == zone->name()) return z == zone;
    zones_.push_back(zone);
    return true;
  }
  const std::vector<std::shared_ptr<cache::CacheZone>>& all() const { return zones_; }

 private:
  std::vector<std::shared_ptr<cache::CacheZone>> zones_;
};

}  // namespace portico::filters

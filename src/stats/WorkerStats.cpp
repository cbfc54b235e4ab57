#include "stats/WorkerStats.h"

namespace portico::stats {

namespace {
template <typename T, typename Map, typename K>
T& get_or_create(Map& map, K&& key) {
  auto it = map.find(key);
  if (it == map.end()) it = map.emplace(std::forward<K>(key), std::make_unique<T>()).first;
  return *it->second;
}
}  // namespace

RouteStats& WorkerStats::route(std::string_view listener, std::string_view route) {
  std::lock_guard lock(mutex_);
  return get_or_create<RouteStats>(routes_, Key(listener, route));
}

EndpointStats& WorkerStats::endpoint(std::string_view pool, std::string_view endpoint) {
  std::lock_guard lock(mutex_);
  return get_or_create<EndpointStats>(endpoints_, Key(pool, endpoint));
}

ListenerStats& WorkerStats::listener(std::string_view name) {
  std::lock_guard lock(mutex_);
  return get_or_create<ListenerStats>(listeners_, std::string(name));
}

FlagStats& WorkerStats::flag(std::string_view name) {
  std::lock_guard lock(mutex_);
  return get_or_create<FlagStats>(flags_, std::string(name));
}

}  // namespace portico::stats

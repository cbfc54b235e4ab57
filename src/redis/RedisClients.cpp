#include "redis/RedisClients.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

namespace portico::redis {

RedisClient& RedisClients::get(const config::SocketAddress& address, config::Duration timeout) {
  auto it = clients_.find(KeyView{address.text, int64_t(timeout.count())});
  if (it != clients_.end()) {
    it->second.used = generation_;
    return *it->second.client;
  }
  // hiredis takes a numeric host: the address was resolved when the config was loaded.
  RedisOptions options;
  char host[INET6_ADDRSTRLEN] = {};
  if (address.storage.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address.storage);
    inet_ntop(AF_INET6, &v6.sin6_addr, host, sizeof host);
    options.port = ntohs(v6.sin6_port);
  } else {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address.storage);
    inet_ntop(AF_INET, &v4.sin_addr, host, sizeof host);
    options.port = ntohs(v4.sin_port);
  }
  options.host = host;
  options.command_timeout = timeout;
  auto client = std::make_unique<RedisClient>(loop_, std::move(options));
  Key key{address.text, int64_t(timeout.count())};
  return *clients_.emplace(std::move(key), Entry{std::move(client), generation_})
              .first->second.client;
}

void RedisClients::close_unused() {
  std::erase_if(clients_, [&](const auto& kv) {
    const Entry& e = kv.second;
    if (e.used == generation_ || e.client->in_flight() > 0) return false;
    spdlog::info("redis {}: closed (no longer in the config)", e.client->name());
    return true;
  });
}

}  // namespace portico::redis

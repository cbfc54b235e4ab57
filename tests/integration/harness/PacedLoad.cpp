#include "harness/PacedLoad.h"

#include <mutex>
#include <thread>

#include "harness/HttpClient.h"

namespace portico::it {

std::string PacedLoadResult::Describe() const {
  std::string out = "sent " + std::to_string(sent) + ", stalled " + std::to_string(stalled);
  for (const auto& [code, n] : status)
    out += ", " + std::to_string(code) + ": " + std::to_string(n);
  out += ", slowest answer " + std::to_string(longest.count()) + " ms";
  return out;
}

PacedLoadResult OfferLoad(const PacedLoadOptions& o) {
  PacedLoadResult total;
  std::mutex mu;
  const auto start = Clock::now() + Ms{50};  // every thread is ready by then
  const auto end = start + o.duration;
  const std::chrono::duration<double> gap(double(o.connections) / o.rate);
  std::vector<std::thread> threads;
  for (size_t c = 0; c < o.connections; ++c) {
    threads.emplace_back([&, c] {
      PacedLoadResult mine;
      uint16_t port = o.ports[c % o.ports.size()];
      HttpClient client;
      // Connection c sends at start + (c + k × connections) / rate: together, a steady rate.
      auto offset = std::chrono::duration<double>(double(c) / o.rate);
      for (size_t k = 0;; ++k) {
        auto at = start + std::chrono::duration_cast<Clock::duration>(offset + gap * double(k));
        if (at >= end) break;
        std::this_thread::sleep_until(at);  // the load's shape, not a synchronisation
        ++mine.sent;
        if (!client.connected() && !client.Connect(port)) {
          ++mine.stalled;
          continue;
        }
        auto sent_at = Clock::now();
        std::optional<HttpResponse> r;
        if (client.Send(o.request)) r = client.ReadResponse({.timeout = o.response_timeout});
        if (!r) {
          ++mine.stalled;
          client.Close();
          continue;
        }
        mine.longest =
            std::max(mine.longest, std::chrono::duration_cast<Ms>(Clock::now() - sent_at));
        ++mine.status[r->status];
        if (!r->keep_alive) client.Close();
      }
      std::lock_guard lock(mu);
      total.sent += mine.sent;
      total.stalled += mine.stalled;
      total.longest = std::max(total.longest, mine.longest);
      for (const auto& [code, n] : mine.status) total.status[code] += n;
    });
  }
  for (std::thread& t : threads) t.join();
  return total;
}

}  // namespace portico::it

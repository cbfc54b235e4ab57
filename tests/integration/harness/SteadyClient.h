// A client thread sending a steady stream of GETs on one keep-alive connection (a new one
// whenever the proxy closes it), counting what did not come back as 200. For tests that
// change something under load (an upstream dies, a name moves) and count failures.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness/Deadline.h"

namespace portico::it {

class SteadyClient {
 public:
  SteadyClient(uint16_t port, size_t max_requests);
  ~SteadyClient() { Stop(); }
  SteadyClient(const SteadyClient&) = delete;
  SteadyClient& operator=(const SteadyClient&) = delete;

  void Stop();
  // Waits until `n` requests are done (false if the client finished or time ran out first).
  bool WaitForDone(size_t n, Ms timeout);
  size_t done();
  std::vector<std::string> failures();

 private:
  void Run(uint16_t port, size_t max_requests);

  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  size_t done_ = 0;
  bool finished_ = false;
  std::vector<std::string> failures_;
  std::thread thread_;
};

}  // namespace portico::it

#include "harness/SteadyClient.h"

#include "harness/HttpClient.h"

namespace portico::it {

SteadyClient::SteadyClient(uint16_t port, size_t max_requests) {
  thread_ = std::thread([this, port, max_requests] { Run(port, max_requests); });
}

void SteadyClient::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

bool SteadyClient::WaitForDone(size_t n, Ms timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return done_ >= n || finished_; }) && done_ >= n;
}

size_t SteadyClient::done() {
  std::lock_guard lock(mu_);
  return done_;
}

std::vector<std::string> SteadyClient::failures() {
  std::lock_guard lock(mu_);
  return failures_;
}

void SteadyClient::Run(uint16_t port, size_t max_requests) {
  HttpClient c;
  for (size_t i = 0; i < max_requests && !stop_; ++i) {
    std::string failure;
    if (!c.connected() && !c.Connect(port)) {
      failure = "connect: " + c.error();
    } else if (!c.Send(Get("/steady/" + std::to_string(i)))) {
      failure = "send: " + c.error();
    } else if (auto r = c.ReadResponse(ReadOptions{.timeout = Ms{3000}}); !r) {
      failure = "no response: " + c.error();
    } else if (r->status != 200) {
      failure = "status " + std::to_string(r->status);
    } else if (!r->keep_alive) {
      c.Close();
    }
    if (!failure.empty()) c.Close();
    {
      std::lock_guard lock(mu_);
      ++done_;
      if (!failure.empty()) failures_.push_back("request " + std::to_string(i) + ": " + failure);
    }
    cv_.notify_all();
    // Pacing, not synchronisation: a steady trickle rather than a flood, so a run spans
    // several probe or refresh intervals with a bounded number of requests.
    std::this_thread::sleep_for(Ms{3});
  }
  {
    std::lock_guard lock(mu_);
    finished_ = true;
  }
  cv_.notify_all();
}

}  // namespace portico::it

// State that filters share between workers (a rate limit's buckets, a pool's breaker),
// kept by identity across reloads: a Runtime built from a new config takes the state of
// the previous one wherever the identity is the same, that is, wherever the filter's
// config (and what it is attached to) did not change. Anything else starts fresh.
// Main thread only (built with the Runtime); the states themselves are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

namespace portico::filters {

class FilterStates {
 public:
  explicit FilterStates(const FilterStates* previous = nullptr) : previous_(previous) {}
  FilterStates(const FilterStates&) = delete;
  FilterStates& operator=(const FilterStates&) = delete;

  // The state known by `identity`: this config's (two routes may share one), else the
  // previous config's, else make(). The identity must determine the type T.
  template <typename T, typename Make>
  std::shared_ptr<T> get(const std::string& identity, Make make) {
    auto it = states_.find(identity);
    if (it == states_.end()) {
      std::shared_ptr<void> state;
      if (previous_) {
        auto old = previous_->states_.find(identity);
        if (old != previous_->states_.end()) state = old->second;
      }
      if (!state) state = std::shared_ptr<T>(make());
      it = states_.emplace(identity, std::move(state)).first;
    }
    return std::static_pointer_cast<T>(it->second);
  }

  // The previous config is released once the new one runs: forget it.
  void forget_previous() { previous_ = nullptr; }

 private:
  const FilterStates* previous_;
  std::map<std::string, std::shared_ptr<void>> states_;
};

}  // namespace portico::filters

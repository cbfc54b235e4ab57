// The live values of one feature flag — its on/off switch and rollout share — shared by
// every worker, and by successive configs while the flag's values in the file stay the
// same (FlagSet keeps it by identity in the Runtime's FilterStates). Workers read it on the
// request path with one relaxed load; the admin API (main thread only) writes runtime
// overrides, which every worker sees on its next decision.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

namespace portico::flags {

class FlagState {
 public:
  struct Values {
    bool enabled = true;
    uint32_t percent_bp = 0;          // 0..10000
    bool enabled_overridden = false;  // `enabled` comes from the admin API, not the file
    bool percent_overridden = false;  // `percent_bp` likewise
  };

  FlagState(bool file_enabled, uint32_t file_percent_bp)
      : file_enabled_(file_enabled),
        file_percent_bp_(file_percent_bp),
        word_(pack({file_enabled, file_percent_bp, false, false})) {}
  FlagState(const FlagState&) = delete;
  FlagState& operator=(const FlagState&) = delete;

  // All four read together: a change of both values is never seen half done.
  Values values() const { return unpack(word_.load(std::memory_order_relaxed)); }
  bool file_enabled() const { return file_enabled_; }
  uint32_t file_percent_bp() const { return file_percent_bp_; }

  // Main thread. Each given value becomes a runtime override; the others stay as they are.
  void set_overrides(std::optional<bool> enabled, std::optional<uint32_t> percent_bp) {
    Values v = values();
    if (enabled) {
      v.enabled = *enabled;
      v.enabled_overridden = true;
    }
    if (percent_bp) {
      v.percent_bp = *percent_bp;
      v.percent_overridden = true;
    }
    word_.store(pack(v), std::memory_order_relaxed);
  }
  // Main thread. Back to the file's values.
  void clear_overrides() {
    word_.store(pack({file_enabled_, file_percent_bp_, false, false}), std::memory_order_relaxed);
  }

 private:
  // One word, so that a reader sees a consistent set: bits 0-13 the share (10000 < 2^14),
  // bit 14 enabled, bits 15 and 16 the override marks.
  static constexpr uint32_t kPercentMask = (1u << 14) - 1;
  static constexpr uint32_t kEnabled = 1u << 14;
  static constexpr uint32_t kEnabledOverridden = 1u << 15;
  static constexpr uint32_t kPercentOverridden = 1u << 16;

  static uint32_t pack(const Values& v) {
    return (v.percent_bp & kPercentMask) | (v.enabled ? kEnabled : 0) |
           (v.enabled_overridden ? kEnabledOverridden : 0) |
           (v.percent_overridden ? kPercentOverridden : 0);
  }
  static Values unpack(uint32_t w) {
    return {(w & kEnabled) != 0, w & kPercentMask, (w & kEnabledOverridden) != 0,
            (w & kPercentOverridden) != 0};
  }

  const bool file_enabled_;
  const uint32_t file_percent_bp_;
  std::atomic<uint32_t> word_;
};

}  // namespace portico::flags

// A compiled PCRE2 pattern with byte semantics (no UTF mode), JIT-compiled when the
// platform supports it. Matching never allocates: match data comes from the caller's
// MatchScratch.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "router/MatchScratch.h"

namespace portico::router {

// A pattern that does not compile. what() is "<pcre2 message> at offset N"; the parts
// are kept separately so callers can build their own message (route name, YAML mark).
class RegexError : public std::invalid_argument {
 public:
  RegexError(std::string message, size_t offset);
  const std::string& message() const { return message_; }
  size_t offset() const { return offset_; }

 private:
  std::string message_;
  size_t offset_;
};

class Regex {
 public:
  // The anchoring is fixed at compile time rather than passed per match because
  // PCRE2's JIT does not support ANCHORED/ENDANCHORED as match-time options (it would
  // silently fall back to the slow interpreter).
  enum class Mode {
    FullMatch,  // the pattern must match the whole subject
    Search,     // the pattern may match anywhere in the subject
  };

  // Throws RegexError if the pattern does not compile.
  Regex(std::string_view pattern, Mode mode);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // True if the subject matches (in full or anywhere, per the mode). A match that
  // fails with an error (backtracking budget exhausted, ...) counts as no match and is
  // counted in scratch.regex_errors().
  bool matches(std::string_view subject, MatchScratch& scratch) const;

  const std::string& pattern() const { return pattern_; }
  Mode mode() const { return mode_; }
  bool jit() const { return jit_; }

 private:
  struct Deleter {
    void operator()(pcre2_code* p) const;
  };

  std::unique_ptr<pcre2_code, Deleter> code_;
  std::string pattern_;
  Mode mode_;
  bool jit_ = false;
};

}  // namespace portico::router

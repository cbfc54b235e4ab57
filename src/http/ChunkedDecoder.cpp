#include "http/ChunkedDecoder.h"

#include <algorithm>

#include "http/Header.h"

namespace portico::http {

bool ChunkedDecoder::feed(std::string_view raw, std::string& out) {
  size_t i = 0;
  while (i < raw.size()) {
    char c = raw[i];
    switch (state_) {
      case State::Size: {
        int v = hex_value(c);
        if (v >= 0) {
          // 15 hex digits is far beyond any body a cache stores. Leading zeros do not
          // count: llhttp takes any number of them, and so must the cache's copy.
          if ((remaining_ != 0 || v != 0) && ++digits_ > 15) return (state_ = State::Failed), false;
          remaining_ = remaining_ * 16 + uint64_t(v);
          size_started_ = true;
        } else if (!size_started_) {
          return (state_ = State::Failed), false;
        } else if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::Extension;
        } else {
          return (state_ = State::Failed), false;
        }
        ++i;
        break;
      }
      case State::Extension:
        if (c == '\r') state_ = State::SizeLf;
        ++i;
        break;
      case State::SizeLf:
        if (c != '\n') return (state_ = State::Failed), false;
        ++i;
        digits_ = 0;
        size_started_ = false;
        state_ = remaining_ == 0 ? State::Trailer : State::Data;
        break;
      case State::Data: {
        size_t n = size_t(std::min<uint64_t>(remaining_, raw.size() - i));
        out.append(raw.substr(i, n));
        i += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::DataCr;
        break;
      }
      case State::DataCr:
        if (c != '\r') return (state_ = State::Failed), false;
        state_ = State::DataLf;
        ++i;
        break;
      case State::DataLf:
        if (c != '\n') return (state_ = State::Failed), false;
        state_ = State::Size;
        ++i;
        break;
      case State::Trailer:  // at the start of a trailer line, or the final empty one
        // A bare LF ends the trailer section too: llhttp (strict mode included) takes it,
        // and the decoder must end where llhttp does (found by fuzz_response).
        state_ = c == '\r' ? State::FinalLf : c == '\n' ? State::Done : State::TrailerLine;
        ++i;
        break;
      case State::TrailerLine:
        if (c == '\n') state_ = State::Trailer;
        ++i;
        break;
      case State::FinalLf:
        if (c != '\n') return (state_ = State::Failed), false;
        state_ = State::Done;
        ++i;
        break;
      case State::Done:
        return true;  // bytes after the message belong to no body
      case State::Failed:
        return false;
    }
  }
  return state_ != State::Failed;
}

}  // namespace portico::http

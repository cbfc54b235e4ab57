// Turns a chunked body (RFC 9112 §7.1) back into its payload, piece by piece as it
// arrives. The upstream parser (llhttp) has already checked the framing, so this only
// follows it; what it cannot follow makes it fail rather than guess.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portico::http {

class ChunkedDecoder {
 public:
  // Appends the payload in `raw` to `out`; false once the framing makes no sense.
  bool feed(std::string_view raw, std::string& out);
  // The last chunk and the trailer section have been read.
  bool done() const { return state_ == State::Done; }

 private:
  enum class State {
    Size,
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    Trailer,
    TrailerLine,
    FinalLf,
    Done,
    Failed
  };
  State state_ = State::Size;
  uint64_t remaining_ = 0;
  int digits_ = 0;             // significant digits of the chunk size so far
  bool size_started_ = false;  // a digit of the chunk size has been read
};

}  // namespace portico::http

// llhttp driven the way both sides of the proxy need it: it stops right after a complete
// head (so the request can be routed, or the response head relayed, before any body byte
// is consumed) and right after a complete message (so pipelined bytes wait for their
// turn), and records the head's pieces into a HeadCollector as buffer offsets.
//
// It also bounds what llhttp leaves unbounded: the number of header fields (a limit the
// caller sets), and the framing bytes of a chunked body between two pieces of data (a
// chunk-size line with its extensions, the trailer section), which a peer could otherwise
// stream for ever without one body byte. Trailer fields are checked by llhttp but not
// recorded: they are relayed as framing, and recording them would let a peer grow the
// collector without bound.
#pragma once

#include <llhttp.h>

#include <cstdint>

#include "http/HeadCollector.h"

namespace portico::http {

class MessageParser {
 public:
  enum class Stop { NeedMore, Head, Message, Error };
  struct Step {
    Stop stop;
    uint32_t used;  // bytes consumed from `from`
  };

  // Body bytes as llhttp decodes them (chunk framing removed). Return false to fail the
  // message; set_error_reason() says why.
  class BodySink {
   public:
    virtual bool on_body_data(const char* at, size_t n) = 0;

   protected:
    ~BodySink() = default;
  };

  // Responses skip interim (1xx) messages: Portico answers Expect itself.
  // A chunk-size line (with its extensions) or a trailer section longer than this fails
  // the message: real ones are a few bytes (Node.js allows 16 KiB of extensions).
  static constexpr uint32_t kMaxChunkFramingBytes = 16 * 1024;

  MessageParser(llhttp_type_t type, BodySink* sink);
  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  // Forget everything (a new connection, or a connection going back to a pool).
  void reset();
  // Where the next message's head is recorded (the collector is reset here).
  void start_message(HeadCollector* head) {
    head_ = head;
    head_->reset();
    too_many_headers_ = false;
  }

  // Parses base[from, to). After a Head stop the caller must call continue_after_head()
  // and run execute() again even with no new bytes: that is when llhttp finds that a
  // message has no body and completes it.
  Step execute(char* base, uint32_t from, uint32_t to);
  // skip_body: the response answers a HEAD request (204 and 304 skip theirs anyway).
  void continue_after_head(bool skip_body = false);
  void continue_after_message();
  bool must_run() const { return must_run_; }
  // Header fields past `n` in a head fail the message (too_many_headers()); 0: no limit.
  // Kept across reset().
  void set_max_headers(uint32_t n) { max_headers_ = n; }
  // The last error was a head with more than max_headers fields.
  bool too_many_headers() const { return too_many_headers_; }

  llhttp_t& raw() { return parser_; }
  const llhttp_t& raw() const { return parser_; }
  const char* error_reason() const { return llhttp_get_error_reason(&parser_); }
  void set_error_reason(const char* why) { llhttp_set_error_reason(&parser_, why); }

 private:
  static const llhttp_settings_t& settings();
  static MessageParser& self(llhttp_t* p) { return *static_cast<MessageParser*>(p->data); }
  uint32_t offset(const char* at) const { return uint32_t(at - base_); }
  // Adds the framing bytes from mark_ to `to`; false once they exceed the limit.
  bool count_framing(const char* to);

  llhttp_t parser_;
  llhttp_type_t type_;
  BodySink* sink_;
  HeadCollector* head_ = nullptr;
  const char* base_ = nullptr;
  Stop pending_ = Stop::NeedMore;
  bool must_run_ = false;
  bool in_body_ = false;  // between a final head and the end of its message
  bool too_many_headers_ = false;
  uint32_t max_headers_ = 0;
  const char* mark_ = nullptr;  // the end of the last body piece (or where execute began)
  uint32_t framing_ = 0;        // framing bytes since the last body piece
};

}  // namespace portico::http

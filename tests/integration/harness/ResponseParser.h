// Incremental HTTP/1.x response parser (llhttp, response mode) that stops after each message,
// so pipelined responses are taken one at a time and leftover bytes stay with the caller.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "harness/Headers.h"

namespace portico::it {

struct HttpResponse {
  int status = 0;
  std::string reason;
  int http_major = 0;
  int http_minor = 0;
  Headers headers;
  std::string body;             // left empty when a body sink consumed the body
  uint64_t body_size = 0;       // de-chunked body bytes received
  bool chunked = false;         // sent with Transfer-Encoding: chunked
  bool keep_alive = false;      // what llhttp concluded for this message
  bool ended_by_close = false;  // close-delimited body, completed by EOF

  std::string Describe() const;  // status line, headers and the first bytes of the body
};

class ResponseParser {
 public:
  enum class Result { kNeedMore, kComplete, kError };
  using BodySink = std::function<void(std::string_view)>;

  ResponseParser();
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // The next message answers a HEAD request, so it has no body whatever its headers say.
  void set_head_response(bool head) { head_ = head; }
  // Body bytes go to `sink` instead of HttpResponse::body (empty function: store them).
  void set_body_sink(BodySink sink) { sink_ = std::move(sink); }

  // Parses at most one message from `data`; *consumed tells how many bytes were used.
  Result Feed(std::string_view data, size_t* consumed);
  // The peer closed: completes a close-delimited body, otherwise reports an error.
  Result FinishAtEof();

  // Whether some bytes of the current message have been parsed.
  bool started() const { return started_; }
  // The completed message; the parser is then ready for the next one.
  HttpResponse Take();
  const std::string& error() const { return error_; }

 private:
  static ResponseParser& Self(llhttp_t* p) { return *static_cast<ResponseParser*>(p->data); }
  static int OnMessageBegin(llhttp_t* p);
  static int OnStatus(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderField(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderValueComplete(llhttp_t* p);
  static int OnHeadersComplete(llhttp_t* p);
  static int OnBody(llhttp_t* p, const char* at, size_t len);
  static int OnMessageComplete(llhttp_t* p);

  llhttp_settings_t settings_{};
  llhttp_t parser_{};
  HttpResponse current_;
  std::string field_;
  std::string value_;
  bool head_ = false;
  bool started_ = false;
  bool complete_ = false;
  BodySink sink_;
  std::string error_;
};

}  // namespace portico::it

// HTTP/1.x request parser for the test upstream (llhttp, request mode): collects every complete
// request in the bytes fed, so pipelined requests are all seen.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "harness/Checksum.h"
#include "harness/Headers.h"

namespace portico::it {

struct HttpRequest {
  std::string method;
  std::string target;
  int http_major = 0;
  int http_minor = 0;
  Headers headers;
  std::string body;             // up to the upstream's max_stored_body bytes
  uint64_t body_size = 0;       // all body bytes received (de-chunked)
  uint64_t body_checksum = 0;   // Checksum of the whole body
  bool chunked = false;         // arrived with chunked transfer coding
  bool keep_alive = false;      // what llhttp concluded for this message
  size_t connection_index = 0;  // which accepted upstream connection carried it (0-based)

  std::string Describe() const;
};

class RequestParser {
 public:
  // Called when a request head is complete (before its body), e.g. to answer 100-continue.
  using HeadCallback = std::function<void(const HttpRequest&)>;

  explicit RequestParser(size_t max_stored_body = std::numeric_limits<size_t>::max());
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  void set_head_callback(HeadCallback cb) { on_head_ = std::move(cb); }

  bool Feed(std::string_view data);  // false on a parse error (see error())
  bool FinishAtEof();                // false if the peer closed mid-request
  bool in_message() const { return started_; }
  std::vector<HttpRequest> TakeComplete();
  const std::string& error() const { return error_; }

 private:
  static RequestParser& Self(llhttp_t* p) { return *static_cast<RequestParser*>(p->data); }
  static int OnMessageBegin(llhttp_t* p);
  static int OnUrl(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderField(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderValueComplete(llhttp_t* p);
  static int OnHeadersComplete(llhttp_t* p);
  static int OnBody(llhttp_t* p, const char* at, size_t len);
  static int OnMessageComplete(llhttp_t* p);

  llhttp_settings_t settings_{};
  llhttp_t parser_{};
  size_t max_stored_body_;
  HttpRequest current_;
  Checksum checksum_;
  std::string field_;
  std::string value_;
  bool started_ = false;
  HeadCallback on_head_;
  std::vector<HttpRequest> complete_;
  std::string error_;
};

}  // namespace portico::it

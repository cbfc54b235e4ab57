// Re-parses HTTP/1.x bytes as they crossed a connection (llhttp), keeping what a round-trip
// check compares: start line, header fields in order, trailer fields apart from the head's,
// and the body de-chunked. Values are kept as llhttp reports them (leading OWS skipped,
// trailing OWS included), so the caller decides how to compare them.
#pragma once

#include <llhttp.h>

#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::it {

struct WireMessage {
  using Field = std::pair<std::string, std::string>;
  std::string method;  // requests
  std::string target;
  int status = 0;  // responses
  std::string reason;
  int http_major = 0;
  int http_minor = 0;
  std::vector<Field> headers;
  std::vector<Field> trailers;  // fields after a chunked body
  std::string body;             // de-chunked
  bool chunked = false;
  bool keep_alive = false;      // what llhttp concluded
  bool ended_by_close = false;  // close-delimited body, completed by EOF
  size_t connection = 0;        // which connection carried it (set by the owner)

  std::string Describe() const;  // start line, fields and body size, for failure messages
};

class WireParser {
 public:
  enum class Kind { kRequest, kResponse };
  explicit WireParser(Kind kind);
  WireParser(const WireParser&) = delete;
  WireParser& operator=(const WireParser&) = delete;

  // Responses: whether each next response answers a HEAD request (so has no body), in order.
  // A 204 or 304 never has one.
  void ExpectResponseTo(bool head) { head_requests_.push_back(head); }

  bool Feed(std::string_view data);  // false on a parse error (see error())
  bool FinishAtEof();                // completes a close-delimited body; false mid-message
  bool in_message() const { return started_; }
  std::vector<WireMessage> TakeComplete();
  const std::string& error() const { return error_; }

 private:
  static WireParser& Self(llhttp_t* p) { return *static_cast<WireParser*>(p->data); }
  static int OnMessageBegin(llhttp_t* p);
  static int OnMethod(llhttp_t* p, const char* at, size_t len);
  static int OnUrl(llhttp_t* p, const char* at, size_t len);
  static int OnStatus(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderField(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderValueComplete(llhttp_t* p);
  static int OnHeadersComplete(llhttp_t* p);
  static int OnBody(llhttp_t* p, const char* at, size_t len);
  static int OnMessageComplete(llhttp_t* p);

  Kind kind_;
  llhttp_settings_t settings_{};
  llhttp_t parser_{};
  WireMessage current_;
  std::string field_;
  std::string value_;
  bool in_trailers_ = false;
  bool started_ = false;
  std::deque<bool> head_requests_;
  std::vector<WireMessage> complete_;
  std::string error_;
};

}  // namespace portico::it

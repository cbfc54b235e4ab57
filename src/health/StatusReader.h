// Reads the status of an HTTP response head as its bytes arrive, with llhttp, so that a
// probe accepts only a well-formed head and not just something that starts "HTTP/1.1 200".
// Interim (1xx) responses are skipped; the body is never read.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <string>

namespace portico::health {

class StatusReader {
 public:
  enum class Result { NeedMore, Done, Error };

  StatusReader();
  StatusReader(const StatusReader&) = delete;
  StatusReader& operator=(const StatusReader&) = delete;

  // Parses the next bytes. Done: status() holds the final status; Error: error() says why.
  // Once Done or Error, further calls return the same result.
  Result feed(const char* data, size_t n);
  // The peer closed: an Error unless the head was already complete.
  Result finish();

  int status() const { return status_; }
  const std::string& error() const { return error_; }

 private:
  static int on_headers_complete(llhttp_t* parser);

  llhttp_t parser_;
  Result result_ = Result::NeedMore;
  int status_ = 0;
  std::string error_;
};

}  // namespace portico::health

#include "health/StatusReader.h"

namespace portico::health {

StatusReader::StatusReader() {
  // llhttp keeps a pointer to the settings, so they live as long as the program; they are
  // the same for every reader and never change.
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_headers_complete = &StatusReader::on_headers_complete;
    return s;
  }();
  llhttp_init(&parser_, HTTP_RESPONSE, &settings);
  parser_.data = this;
}

int StatusReader::on_headers_complete(llhttp_t* parser) {
  auto* self = static_cast<StatusReader*>(parser->data);
  int status = parser->status_code;
  // 100 Continue and the like announce a final response still to come (101 is final:
  // the server switched protocols, which no health endpoint should do).
  if (status >= 100 && status < 200 && status != 101) return 0;
  self->status_ = status;
  self->result_ = Result::Done;
  return HPE_PAUSED;  // nothing after the head matters
}

StatusReader::Result StatusReader::feed(const char* data, size_t n) {
  if (result_ != Result::NeedMore) return result_;
  llhttp_errno_t rc = llhttp_execute(&parser_, data, n);
  if (result_ == Result::Done) return result_;
  if (rc != HPE_OK) {
    const char* reason = llhttp_get_error_reason(&parser_);
    error_ = reason && *reason ? reason : llhttp_errno_name(rc);
    result_ = Result::Error;
  }
  return result_;
}

StatusReader::Result StatusReader::finish() {
  if (result_ != Result::NeedMore) return result_;
  error_ = "connection closed before the response head was complete";
  result_ = Result::Error;
  return result_;
}

}  // namespace portico::health

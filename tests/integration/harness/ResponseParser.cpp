#include "harness/ResponseParser.h"

#include <algorithm>

namespace portico::it {

std::string HttpResponse::Describe() const {
  std::string out = "HTTP/" + std::to_string(http_major) + "." + std::to_string(http_minor) + " " +
                    std::to_string(status) + " " + reason + "\n" + headers.ToString();
  out += "[body " + std::to_string(body_size) + " bytes]";
  if (!body.empty()) out += " " + body.substr(0, std::min<size_t>(body.size(), 200));
  return out;
}

ResponseParser::ResponseParser() {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = OnMessageBegin;
  settings_.on_status = OnStatus;
  settings_.on_header_field = OnHeaderField;
  settings_.on_header_value = OnHeaderValue;
  settings_.on_header_value_complete = OnHeaderValueComplete;
  settings_.on_headers_complete = OnHeadersComplete;
  settings_.on_body = OnBody;
  settings_.on_message_complete = OnMessageComplete;
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;
}

int ResponseParser::OnMessageBegin(llhttp_t* p) {
  Self(p).started_ = true;
  return 0;
}

int ResponseParser::OnStatus(llhttp_t* p, const char* at, size_t len) {
  Self(p).current_.reason.append(at, len);
  return 0;
}

int ResponseParser::OnHeaderField(llhttp_t* p, const char* at, size_t len) {
  Self(p).field_.append(at, len);
  return 0;
}

int ResponseParser::OnHeaderValue(llhttp_t* p, const char* at, size_t len) {
  Self(p).value_.append(at, len);
  return 0;
}

int ResponseParser::OnHeaderValueComplete(llhttp_t* p) {
  auto& self = Self(p);
  self.current_.headers.Add(std::move(self.field_), std::move(self.value_));
  self.field_.clear();
  self.value_.clear();
  return 0;
}

int ResponseParser::OnHeadersComplete(llhttp_t* p) {
  auto& self = Self(p);
  self.current_.status = p->status_code;
  self.current_.http_major = p->http_major;
  self.current_.http_minor = p->http_minor;
  self.current_.chunked = (p->flags & F_CHUNKED) != 0;
  return self.head_ ? 1 : 0;
}

int ResponseParser::OnBody(llhttp_t* p, const char* at, size_t len) {
  auto& self = Self(p);
  self.current_.body_size += len;
  if (self.sink_) {
    self.sink_(std::string_view(at, len));
  } else {
    self.current_.body.append(at, len);
  }
  return 0;
}

int ResponseParser::OnMessageComplete(llhttp_t* p) {
  auto& self = Self(p);
  self.current_.keep_alive = llhttp_should_keep_alive(p) != 0;
  self.complete_ = true;
  return HPE_PAUSED;  // hand the message over before parsing the next one
}

ResponseParser::Result ResponseParser::Feed(std::string_view data, size_t* consumed) {
  *consumed = 0;
  if (!error_.empty()) return Result::kError;
  llhttp_errno_t err = llhttp_execute(&parser_, data.data(), data.size());
  if (err == HPE_OK) {
    *consumed = data.size();
    return Result::kNeedMore;
  }
  if ((err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) && complete_) {
    const char* pos = llhttp_get_error_pos(&parser_);
    *consumed = pos ? static_cast<size_t>(pos - data.data()) : data.size();
    llhttp_resume(&parser_);
    return Result::kComplete;
  }
  error_ = std::string(llhttp_errno_name(err)) + ": " + llhttp_get_error_reason(&parser_);
  return Result::kError;
}

ResponseParser::Result ResponseParser::FinishAtEof() {
  if (!started_) {
    error_ = "connection closed before any response byte";
    return Result::kError;
  }
  llhttp_errno_t err = llhttp_finish(&parser_);
  if (complete_) {
    current_.ended_by_close = true;
    return Result::kComplete;
  }
  error_ = std::string("connection closed mid-response (") + llhttp_errno_name(err) + ")";
  return Result::kError;
}

HttpResponse ResponseParser::Take() {
  HttpResponse out = std::move(current_);
  current_ = HttpResponse{};
  field_.clear();
  value_.clear();
  started_ = false;
  complete_ = false;
  head_ = false;
  return out;
}

}  // namespace portico::it

#include "http/ConnectionTokens.h"

namespace portico::http {

namespace {

// Calls f(token) for every token of every Connection header; stops when f returns true.
template <typename F>
bool for_each_token(std::span<const Header> headers, F&& f) {
  for (const Header& h : headers) {
    if (!iequals(h.name, "connection")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view tok = v.substr(0, comma);
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
      while (!tok.empty() && (tok.front() == ' ' || tok.front() == '\t')) tok.remove_prefix(1);
      while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
      if (!tok.empty() && f(tok)) return true;
    }
  }
  return false;
}

bool protected_field(std::string_view header) {
  // A client must not be able to strip the fields that frame or address the message.
  return iequals(header, "host") || iequals(header, "content-length") ||
         iequals(header, "transfer-encoding");
}

}  // namespace

void ConnectionTokens::parse(std::span<const Header> headers) {
  count_ = 0;
  close_ = keep_alive_ = overflow_ = false;
  for_each_token(headers, [this](std::string_view tok) {
    if (iequals(tok, "close"))
      close_ = true;
    else if (iequals(tok, "keep-alive"))
      keep_alive_ = true;
    else if (count_ < kMax)
      tokens_[count_++] = tok;
    else
      overflow_ = true;
    return false;
  });
}

bool ConnectionTokens::names(std::string_view header) const {
  if (count_ == 0 || protected_field(header)) return false;
  for (size_t i = 0; i < count_; ++i)
    if (iequals(tokens_[i], header)) return true;
  return false;
}

bool is_hop_by_hop(std::string_view n) {
  switch (n.size()) {
    case 2:
      return iequals(n, "te");
    case 7:
      return iequals(n, "upgrade");
    case 10:
      return iequals(n, "connection") || iequals(n, "keep-alive");
    case 16:
      return iequals(n, "proxy-connection");
    default:
      return false;
  }
}

}  // namespace portico::http

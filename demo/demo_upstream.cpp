// portico-demo-upstream: a tiny HTTP/1.1 server to put behind Portico in demos and tests.
//
// Every request gets "200 OK" with a short text body naming this instance, the method and
// target it saw, and the Host / X-Forwarded-For / X-Request-Id headers that reached it, so
// a demo shows at a glance which upstream answered and what the proxy forwarded.
//
//   portico-demo-upstream [--listen 127.0.0.1:9001] [--name NAME]
//
// Keep-alive and pipelining are supported: all requests parsed from one read are answered
// with one write, in order. The connection is closed after a request that asks for it
// (Connection: close, HTTP/1.0 without keep-alive), after an Upgrade/CONNECT request, and
// on a parse error (answered with 400; 431 when the head is too large).
// SIGTERM drains, as nginx's `quit` does: stop accepting, close idle connections, answer
// requests already begun with `Connection: close`, then exit (at most kDrainTimeout).
// SIGINT, or a second signal, stops at once.

#include <llhttp.h>
#include <uv.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

namespace {

constexpr size_t kMaxHeadBytes = 64 * 1024;      // request line + headers
constexpr size_t kMaxEchoedValue = 512;          // longest header value / target echoed back
constexpr size_t kWriteHighWater = 1024 * 1024;  // stop reading while this much is unsent
constexpr size_t kReadBufferSize = 64 * 1024;
constexpr uint64_t kDrainTimeoutMs = 10'000;

struct Server;

struct Conn {
  uv_tcp_t tcp{};
  Server* server = nullptr;
  llhttp_t parser{};

  // The request being parsed.
  std::string url;
  std::string field;
  std::string value;
  bool field_done = false;
  std::string host, xff, request_id;
  bool saw_host = false, saw_xff = false, saw_request_id = false;
  bool expect_continue = false;
  size_t head_bytes = 0;
  bool head_too_large = false;
  uint64_t body_bytes = 0;

  // Responses for the requests of the current read, written together.
  std::string out;
  size_t unsent = 0;  // bytes handed to uv_write and not yet written
  bool reading = false;
  bool closing = false;     // no more requests: finish writing, then shut down and close
  bool closed = false;      // uv_close called
  bool in_message = false;  // a request has begun and is not yet answered
};

struct Server {
  uv_loop_t* loop = nullptr;
  uv_tcp_t listener{};
  uv_signal_t sigint{}, sigterm{};
  uv_timer_t drain_timer{};
  std::string name = "demo";
  llhttp_settings_t settings{};
  std::unordered_set<Conn*> conns;
  char read_buffer[kReadBufferSize];
  bool stopping = false;
};

struct WriteReq {
  uv_write_t req{};
  std::string data;
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Keep echoed text on one printable line and bounded in size.
std::string printable(std::string_view s) {
  std::string r;
  r.reserve(std::min(s.size(), kMaxEchoedValue));
  for (char c : s) {
    if (r.size() >= kMaxEchoedValue) {
      r += "...";
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    r += (u >= 0x20 && u != 0x7f) ? c : '?';
  }
  return r;
}

Conn* conn_of(llhttp_t* p) {
  return static_cast<Conn*>(p->data);
}

int count_head(Conn* c, size_t n) {
  c->head_bytes += n;
  if (c->head_bytes > kMaxHeadBytes) {
    c->head_too_large = true;
    llhttp_set_error_reason(&c->parser, "request head too large");
    return HPE_USER;
  }
  return HPE_OK;
}

void append_bounded(std::string& dst, const char* at, size_t n) {
  size_t room = dst.size() < kMaxEchoedValue + 1 ? kMaxEchoedValue + 1 - dst.size() : 0;
  dst.append(at, std::min(n, room));
}

int on_message_begin(llhttp_t* p) {
  Conn* c = conn_of(p);
  c->in_message = true;
  c->url.clear();
  c->field.clear();
  c->value.clear();
  c->field_done = false;
  c->host.clear();
  c->xff.clear();
  c->request_id.clear();
  c->saw_host = c->saw_xff = c->saw_request_id = false;
  c->expect_continue = false;
  c->head_bytes = 0;
  c->body_bytes = 0;
  return HPE_OK;
}

int on_url(llhttp_t* p, const char* at, size_t n) {
  Conn* c = conn_of(p);
  append_bounded(c->url, at, n);
  return count_head(c, n);
}

int on_header_field(llhttp_t* p, const char* at, size_t n) {
  Conn* c = conn_of(p);
  append_bounded(c->field, at, n);
  return count_head(c, n);
}

int on_header_value(llhttp_t* p, const char* at, size_t n) {
  Conn* c = conn_of(p);
  append_bounded(c->value, at, n);
  return count_head(c, n);
}

// A header value may be empty, in which case llhttp calls no on_header_value: commit the
// pair on value-complete, which is always called.
int on_header_value_complete(llhttp_t* p) {
  Conn* c = conn_of(p);
  auto keep = [&](std::string& dst, bool& seen) {
    if (seen) {  // repeated header: list the values as a proxy would fold them
      dst += ", ";
      dst += c->value;
    } else {
      dst = c->value;
      seen = true;
    }
  };
  if (iequals(c->field, "host")) {
    keep(c->host, c->saw_host);
  } else if (iequals(c->field, "x-forwarded-for")) {
    keep(c->xff, c->saw_xff);
  } else if (iequals(c->field, "x-request-id")) {
    keep(c->request_id, c->saw_request_id);
  } else if (iequals(c->field, "expect") && iequals(c->value, "100-continue")) {
    c->expect_continue = true;
  }
  c->field.clear();
  c->value.clear();
  return HPE_OK;
}

int on_headers_complete(llhttp_t* p) {
  Conn* c = conn_of(p);
  if (c->expect_continue) c->out += "HTTP/1.1 100 Continue\r\n\r\n";
  return HPE_OK;
}

int on_body(llhttp_t* p, const char*, size_t n) {
  conn_of(p)->body_bytes += n;
  return HPE_OK;
}

void append_response(Conn* c, int status, std::string_view reason, const std::string& body,
                     bool keep_alive, bool head_only) {
  std::string& o = c->out;
  o += "HTTP/1.1 ";
  o += std::to_string(status);
  o += ' ';
  o += reason;
  o += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ";
  o += std::to_string(body.size());
  o += "\r\nX-Demo-Upstream: ";
  o += printable(c->server->name);
  o += keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  if (!head_only) o += body;
}

int on_message_complete(llhttp_t* p) {
  Conn* c = conn_of(p);
  const char* method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(p)));
  std::string body = "hello from demo upstream ";
  body += printable(c->server->name);
  body += ": ";
  body += method;
  body += ' ';
  body += printable(c->url);
  body += '\n';
  if (c->saw_host) body += "host: " + printable(c->host) + "\n";
  if (c->saw_xff) body += "x-forwarded-for: " + printable(c->xff) + "\n";
  if (c->saw_request_id) body += "x-request-id: " + printable(c->request_id) + "\n";
  if (c->body_bytes > 0) body += "request body bytes: " + std::to_string(c->body_bytes) + "\n";

  // No upgrades here: a request that asks for one is answered and the connection closed.
  // Draining: this answer is the connection's last.
  c->in_message = false;
  bool keep_alive = llhttp_should_keep_alive(p) && !llhttp_get_upgrade(p) && !c->server->stopping;
  append_response(c, 200, "OK", body, keep_alive, llhttp_get_method(p) == HTTP_HEAD);
  if (!keep_alive) {
    c->closing = true;
    return HPE_PAUSED;  // stop here: ignore anything pipelined after it
  }
  return HPE_OK;
}

void stop_signals(Server* srv);

void on_closed(uv_handle_t* h) {
  Conn* c = static_cast<Conn*>(h->data);
  Server* srv = c->server;
  srv->conns.erase(c);
  delete c;
  if (srv->stopping && srv->conns.empty()) stop_signals(srv);  // drained: let the loop end
}

void close_conn(Conn* c) {
  if (c->closed) return;
  c->closed = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_closed);
}

void on_shutdown(uv_shutdown_t* req, int) {
  Conn* c = static_cast<Conn*>(req->data);
  delete req;
  close_conn(c);
}

// Called when a close is wanted and nothing is left to write.
void finish_closing(Conn* c) {
  if (c->closed) return;
  if (c->reading) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
    c->reading = false;
  }
  auto* req = new uv_shutdown_t{};
  req->data = c;
  if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&c->tcp), on_shutdown) != 0) {
    delete req;
    close_conn(c);
  }
}

void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);

void alloc_buffer(uv_handle_t* h, size_t, uv_buf_t* buf) {
  // Reads are parsed synchronously in on_read, so one buffer serves every connection.
  Conn* c = static_cast<Conn*>(h->data);
  buf->base = c->server->read_buffer;
  buf->len = sizeof c->server->read_buffer;
}

void start_reading(Conn* c) {
  if (c->reading || c->closing || c->closed) return;
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), alloc_buffer, on_read) == 0) {
    c->reading = true;
  } else {
    close_conn(c);
  }
}

void on_write(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  Conn* c = static_cast<Conn*>(req->data);
  c->unsent -= w->data.size();
  delete w;
  if (status < 0) {
    close_conn(c);
    return;
  }
  if (c->unsent == 0 && c->closing) {
    finish_closing(c);
  } else if (c->unsent < kWriteHighWater / 2) {
    start_reading(c);
  }
}

// Write c->out: as much as the socket takes right now, the rest through uv_write.
void flush(Conn* c) {
  if (c->closed) return;
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  if (!c->out.empty()) {
    size_t done = 0;
    if (c->unsent == 0) {
      uv_buf_t b = uv_buf_init(c->out.data(), static_cast<unsigned>(c->out.size()));
      int n = uv_try_write(stream, &b, 1);
      if (n > 0) {
        done = static_cast<size_t>(n);
      } else if (n < 0 && n != UV_EAGAIN) {
        close_conn(c);
        return;
      }
    }
    if (done < c->out.size()) {
      auto* w = new WriteReq{};
      w->data.assign(c->out, done, std::string::npos);
      w->req.data = c;
      uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
      if (uv_write(&w->req, stream, &b, 1, on_write) != 0) {
        delete w;
        close_conn(c);
        return;
      }
      c->unsent += w->data.size();
    }
    c->out.clear();
  }
  if (c->unsent >= kWriteHighWater && c->reading) {  // the client does not read: stop reading too
    uv_read_stop(stream);
    c->reading = false;
  }
  if (c->closing && c->unsent == 0) finish_closing(c);
}

void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  Conn* c = static_cast<Conn*>(s->data);
  if (nread == 0) return;  // EAGAIN
  if (nread < 0) {         // EOF or error: nothing more will be asked
    if (nread == UV_EOF && c->unsent > 0) {
      c->closing = true;  // let queued responses go out, then close
      uv_read_stop(s);
      c->reading = false;
    } else {
      close_conn(c);
    }
    return;
  }
  if (c->closing) return;
  llhttp_errno_t err = llhttp_execute(&c->parser, buf->base, static_cast<size_t>(nread));
  if (err == HPE_PAUSED_UPGRADE) {
    c->closing = true;  // answered in on_message_complete with Connection: close
  } else if (err != HPE_OK && err != HPE_PAUSED) {
    if (c->head_too_large) {
      append_response(c, 431, "Request Header Fields Too Large", "request head too large\n", false,
                      false);
    } else {
      std::string body = "bad request: ";
      body += llhttp_errno_name(err);
      body += '\n';
      append_response(c, 400, "Bad Request", body, false, false);
    }
    c->closing = true;
  }
  flush(c);
}

void on_connection(uv_stream_t* listener, int status) {
  Server* srv = static_cast<Server*>(listener->data);
  if (status < 0) {
    std::fprintf(stderr, "accept error: %s\n", uv_strerror(status));
    return;
  }
  auto* c = new Conn{};
  c->server = srv;
  uv_tcp_init(srv->loop, &c->tcp);
  c->tcp.data = c;
  srv->conns.insert(c);
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    close_conn(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  llhttp_init(&c->parser, HTTP_REQUEST, &srv->settings);
  c->parser.data = c;
  start_reading(c);
}

void stop_signals(Server* srv) {
  for (uv_handle_t* h :
       {reinterpret_cast<uv_handle_t*>(&srv->sigint), reinterpret_cast<uv_handle_t*>(&srv->sigterm),
        reinterpret_cast<uv_handle_t*>(&srv->drain_timer)}) {
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  }
}

void stop_now(Server* srv) {
  stop_signals(srv);
  // Copy: close_conn's callbacks erase from the set, but only later, on the loop.
  for (Conn* c : std::unordered_set<Conn*>(srv->conns)) close_conn(c);
}

void on_signal(uv_signal_t* sig, int signum) {
  Server* srv = static_cast<Server*>(sig->data);
  if (srv->stopping || signum != SIGTERM) {
    std::fprintf(stderr, "portico-demo-upstream %s: signal %d, stopping now\n", srv->name.c_str(),
                 signum);
    if (!srv->stopping) uv_close(reinterpret_cast<uv_handle_t*>(&srv->listener), nullptr);
    srv->stopping = true;
    stop_now(srv);
    return;
  }
  srv->stopping = true;
  std::fprintf(stderr, "portico-demo-upstream %s: signal %d, draining %zu connections\n",
               srv->name.c_str(), signum, srv->conns.size());
  uv_close(reinterpret_cast<uv_handle_t*>(&srv->listener), nullptr);
  for (Conn* c : std::unordered_set<Conn*>(srv->conns)) {
    if (c->in_message) continue;  // on_message_complete answers with Connection: close
    c->closing = true;
    if (c->unsent == 0) finish_closing(c);  // idle; otherwise on_write finishes it
  }
  if (srv->conns.empty()) {
    stop_signals(srv);
    return;
  }
  uv_timer_start(
      &srv->drain_timer,
      [](uv_timer_t* t) {
        Server* s = static_cast<Server*>(t->data);
        std::fprintf(stderr, "portico-demo-upstream %s: drain timed out\n", s->name.c_str());
        stop_now(s);
      },
      kDrainTimeoutMs, 0);
}

bool parse_address(const std::string& text, sockaddr_storage* out) {
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    size_t end = text.find(']');
    if (end == std::string::npos || end + 1 >= text.size() || text[end + 1] != ':') return false;
    host = text.substr(1, end - 1);
    port = text.substr(end + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) host = "127.0.0.1";
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) return false;
  if (uv_ip4_addr(host.c_str(), static_cast<int>(p), reinterpret_cast<sockaddr_in*>(out)) == 0)
    return true;
  return uv_ip6_addr(host.c_str(), static_cast<int>(p), reinterpret_cast<sockaddr_in6*>(out)) == 0;
}

void usage(FILE* f) {
  std::fprintf(
      f,
      "usage: portico-demo-upstream [--listen ADDR:PORT] [--name NAME]\n"
      "  --listen ADDR:PORT  address to listen on (default 127.0.0.1:9001; [::1]:9001 for IPv6)\n"
      "  --name NAME         name shown in every response (default \"demo\")\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:9001";
  auto srv = std::make_unique<Server>();
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view flag) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%.*s needs a value\n", static_cast<int>(flag.size()), flag.data());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--listen") {
      listen = value(a);
    } else if (a.starts_with("--listen=")) {
      listen = std::string(a.substr(9));
    } else if (a == "--name") {
      srv->name = value(a);
    } else if (a.starts_with("--name=")) {
      srv->name = std::string(a.substr(7));
    } else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "unknown argument: %s\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }

  sockaddr_storage addr{};
  if (!parse_address(listen, &addr)) {
    std::fprintf(stderr, "bad --listen address: %s (want HOST:PORT or [V6]:PORT)\n",
                 listen.c_str());
    return 2;
  }

  std::signal(SIGPIPE, SIG_IGN);
  srv->loop = uv_default_loop();

  llhttp_settings_init(&srv->settings);
  srv->settings.on_message_begin = on_message_begin;
  srv->settings.on_url = on_url;
  srv->settings.on_header_field = on_header_field;
  srv->settings.on_header_value = on_header_value;
  srv->settings.on_header_value_complete = on_header_value_complete;
  srv->settings.on_headers_complete = on_headers_complete;
  srv->settings.on_body = on_body;
  srv->settings.on_message_complete = on_message_complete;

  uv_tcp_init(srv->loop, &srv->listener);
  srv->listener.data = srv.get();
  int rc = uv_tcp_bind(&srv->listener, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&srv->listener), 1024, on_connection);
  if (rc != 0) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", listen.c_str(), uv_strerror(rc));
    return 1;
  }

  uv_signal_init(srv->loop, &srv->sigint);
  uv_signal_init(srv->loop, &srv->sigterm);
  srv->sigint.data = srv->sigterm.data = srv.get();
  uv_signal_start(&srv->sigint, on_signal, SIGINT);
  uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
  uv_timer_init(srv->loop, &srv->drain_timer);
  srv->drain_timer.data = srv.get();

  std::fprintf(stderr, "portico-demo-upstream %s listening on %s\n", srv->name.c_str(),
               listen.c_str());
  uv_run(srv->loop, UV_RUN_DEFAULT);
  uv_loop_close(srv->loop);
  return 0;
}

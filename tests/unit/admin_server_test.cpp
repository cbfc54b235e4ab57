// The admin server on a real loop in this thread, with real client sockets on loopback.
// The client never blocks: it sends and receives without waiting and runs the loop in
// between, so the server (same thread) makes progress, and every wait has a deadline.
#include "admin/AdminServer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "admin/BearerToken.h"

namespace portico::admin {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDeadline = std::chrono::seconds(2);

struct Response {
  int status = 0;
  std::map<std::string, std::string> fields;  // names lower-cased
  std::string body;
  bool has(const std::string& name) const { return fields.count(name) != 0; }
  std::string field(const std::string& name) const {
    auto it = fields.find(name);
    return it == fields.end() ? "" : it->second;
  }
};

// What the handler was called with, copied out of the request's views.
struct Seen {
  std::string method, path, query, body, authorization;
  int calls = 0;
};

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class AdminServerTest : public ::testing::Test {
 protected:
  AdminServerTest() {
    uv_loop_init(&loop_);
    // Wakes the loop while the client waits for bytes, which the loop does not watch.
    uv_timer_init(&loop_, &tick_);
    uv_timer_start(
        &tick_, [](uv_timer_t*) {}, 1, 1);
    uv_unref(reinterpret_cast<uv_handle_t*>(&tick_));
    handler_ = [this](const AdminRequest& r) {
      seen_.method = r.method;
      seen_.path = r.path;
      seen_.query = r.query;
      seen_.body = r.body;
      const http::Header* auth = http::find_header(r.headers, "authorization");
      seen_.authorization = auth ? std::string(auth->value) : "";
      ++seen_.calls;
      AdminResponse response;
      response.body = R"({"path":")" + std::string(r.path) + R"("})";
      return response;
    };
  }

  ~AdminServerTest() override {
    server_.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
    // Every connection must be gone once the server is: the loop then ends by itself.
    const auto deadline = Clock::now() + kDeadline;
    while (uv_run(&loop_, UV_RUN_NOWAIT) != 0 && Clock::now() < deadline) {
    }
    EXPECT_EQ(uv_loop_alive(&loop_), 0) << "a handle outlived the server";
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  void start(std::string token = "", AdminLimits limits = {}) {
    config::Admin config;
    config.enabled = true;
    config.token = std::move(token);
    auto& v4 = reinterpret_cast<sockaddr_in&>(config.address.storage);
    v4.sin_family = AF_INET;
    v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    v4.sin_port = 0;
    config.address.length = sizeof v4;
    config.address.text = "127.0.0.1:0";
    server_ = std::make_unique<AdminServer>(
        &loop_, config, [this](const AdminRequest& r) { return handler_(r); }, limits);
    ASSERT_EQ(server_->open(), "");
    ASSERT_GT(server_->port(), 0);
  }

  void run_once() { uv_run(&loop_, UV_RUN_ONCE); }

 public:
  // Runs the loop until `done` holds; false when the deadline passed first.
  template <typename Done>
  bool run_until(Done done) {
    const auto deadline = Clock::now() + kDeadline;
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      run_once();
    }
    return true;
  }

 protected:
  uv_loop_t loop_;
  uv_timer_t tick_;
  std::unique_ptr<AdminServer> server_;
  AdminServer::Handler handler_;
  Seen seen_;
};

class Client {
 public:
  Client(AdminServerTest& test, int port) : test_(test) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(uint16_t(port));
    // Completes in the kernel (the backlog), without the server's loop running.
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << strerror(errno);
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(std::string_view bytes) {
    bool sent = test_.run_until([&] {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) bytes.remove_prefix(size_t(n));
      return bytes.empty() || (n < 0 && errno != EAGAIN);
    });
    EXPECT_TRUE(sent && bytes.empty()) << "could not send the request";
  }

  // One response (the head, then Content-Length bytes unless `head_only`), or nullopt
  // when the connection ended or the deadline passed first.
  std::optional<Response> read_response(bool head_only = false) {
    std::optional<Response> r;
    test_.run_until([&] {
      const bool open = fill();
      r = take_response(head_only);
      return r || !open;
    });
    if (r && r->status == 0) r.reset();
    return r;
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // True once the server has closed the connection (EOF or reset), with nothing unread.
  bool closed_by_server() {
    bool ended = test_.run_until([&] { return !fill(); });
    EXPECT_EQ(buffer_, "") << "unread bytes before the end";
    return ended && buffer_.empty();
  }

 private:
  // Takes what has arrived; false once the connection has ended.
  bool fill() {
    if (eof_) return false;
    char chunk[65536];
    while (true) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buffer_.append(chunk, size_t(n));
        continue;
      }
      if (n < 0 && errno == EAGAIN) return true;
      eof_ = true;  // 0, or ECONNRESET
      return false;
    }
  }

  std::optional<Response> take_response(bool head_only) {
    const size_t head_end = buffer_.find("\r\n\r\n");
    if (head_end == std::string::npos) return std::nullopt;
    Response r = parse_head(buffer_.substr(0, head_end));
    const size_t length = head_only ? 0 : size_t(std::stoul("0" + r.field("content-length")));
    if (buffer_.size() < head_end + 4 + length) return std::nullopt;
    r.body = buffer_.substr(head_end + 4, length);
    buffer_.erase(0, head_end + 4 + length);
    return r;
  }

  static Response parse_head(const std::string& head) {
    Response r;
    if (head.rfind("HTTP/1.1 ", 0) != 0 || head.size() < 12) return r;
    r.status = std::stoi(head.substr(9, 3));
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos) {
      size_t next = head.find("\r\n", pos + 2);
      std::string line = head.substr(pos + 2, next == std::string::npos ? next : next - pos - 2);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        size_t v = line.find_first_not_of(' ', colon + 1);
        r.fields[lower(line.substr(0, colon))] = v == std::string::npos ? "" : line.substr(v);
      }
      pos = next;
    }
    return r;
  }

  AdminServerTest& test_;
  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

constexpr std::string_view kGet = "GET /stats?verbose=1 HTTP/1.1\r\nHost: admin\r\n\r\n";

TEST_F(AdminServerTest, GetIsAnsweredWithTheHandlersOutput) {
  start();
  Client c(*this, server_->port());
  c.send(kGet);
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"path":"/stats"})");
  EXPECT_EQ(r->field("content-type"), "application/json");
  EXPECT_EQ(r->field("content-length"), std::to_string(r->body.size()));
  EXPECT_EQ(r->field("cache-control"), "no-store");
  EXPECT_FALSE(r->has("connection"));
  EXPECT_EQ(seen_.method, "GET");
  EXPECT_EQ(seen_.path, "/stats");
  EXPECT_EQ(seen_.query, "verbose=1");
  EXPECT_EQ(seen_.body, "");
}

TEST_F(AdminServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  Client c(*this, server_->port());
  c.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\n");
  auto first = c.read_response();
  c.send("GET /two HTTP/1.1\r\nHost: a\r\n\r\n");
  auto second = c.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, R"({"path":"/one"})");
  EXPECT_EQ(second->body, R"({"path":"/two"})");
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(AdminServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  Client c(*this, server_->port());
  c.send(
      "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz"
      "GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
  for (std::string path : {"/a", "/b", "/c"}) {
    auto r = c.read_response();
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->body, R"({"path":")" + path + R"("})");
  }
  EXPECT_EQ(seen_.calls, 3);
}

TEST_F(AdminServerTest, LargeAnswersToAClientThatReadsLateArriveWhole) {
  // Answers bigger than the socket buffers: each waits for the previous one to drain.
  handler_ = [](const AdminRequest& r) {
    AdminResponse big;
    big.content_type = "text/plain";
    big.body = std::string(2 * 1024 * 1024, r.path.back());
    return big;
  };
  start();
  Client c(*this, server_->port());
  c.send(
      "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
  for (char expected : {'a', 'b', 'c'}) {
    auto r = c.read_response();
    ASSERT_TRUE(r) << expected;
    EXPECT_EQ(r->body.size(), 2u * 1024 * 1024);
    EXPECT_EQ(r->body.find_first_not_of(expected), std::string::npos);
  }
}

TEST_F(AdminServerTest, MalformedRequestGets400AndCloseAndOthersAreStillServed) {
  start();
  Client bad(*this, server_->port());
  bad.send("GET /x HTTP/1.1\r\nBad Header\r\n\r\n");
  auto r = bad.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->field("connection"), "close");
  EXPECT_EQ(r->field("content-type"), "application/json");
  EXPECT_NE(r->body.find("\"error\""), std::string::npos);
  EXPECT_TRUE(bad.closed_by_server());
  EXPECT_EQ(seen_.calls, 0);

  Client good(*this, server_->port());
  good.send(kGet);
  auto ok = good.read_response();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(AdminServerTest, GarbageAndBinaryInputGet400) {
  start();
  for (std::string_view input :
       {std::string_view("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 16),
        std::string_view("NOT A REQUEST\r\n\r\n"), std::string_view("GET http HTTP/1.1\r\n\r\n"),
        std::string_view("GET /x HTTP/2.0\r\nHost: a\r\n\r\n"),
        std::string_view("GET /x HTTP/1.1\r\n\r\n"),
        std::string_view("GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        std::string_view("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        std::string_view("GET /x HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n")}) {
    Client c(*this, server_->port());
    c.send(input);
    auto r = c.read_response();
    ASSERT_TRUE(r) << input;
    EXPECT_GE(r->status, 400) << input;
    EXPECT_TRUE(c.closed_by_server()) << input;
  }
  EXPECT_EQ(seen_.calls, 0);
}

TEST_F(AdminServerTest, TokenIsRequiredWhenSet) {
  start("s3cret");
  {
    Client c(*this, server_->port());
    c.send(kGet);
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->field("www-authenticate"), "Bearer");
    EXPECT_TRUE(c.closed_by_server());
  }
  for (std::string_view wrong : {"Bearer s3cre", "Bearer s3cret2", "Bearer S3CRET", "Basic s3cret",
                                 "Bearers3cret", "s3cret"}) {
    Client c(*this, server_->port());
    c.send("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: " + std::string(wrong) + "\r\n\r\n");
    auto r = c.read_response();
    ASSERT_TRUE(r) << wrong;
    EXPECT_EQ(r->status, 401) << wrong;
  }
  EXPECT_EQ(seen_.calls, 0);

  Client c(*this, server_->port());
  c.send("GET /ok HTTP/1.1\r\nHost: a\r\nAuthorization: bearer   s3cret\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(seen_.calls, 1);
}

TEST_F(AdminServerTest, NewTokenAppliesToTheNextRequest) {
  start("old");
  server_->set_token("new");
  Client c(*this, server_->port());
  c.send("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer new\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  server_->set_token("");
  c.send(kGet);
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "an empty token turns authentication off";
}

TEST_F(AdminServerTest, UnauthorizedBodyIsNeverRead) {
  start("t");
  Client c(*this, server_->port());
  c.send("POST /reload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(seen_.calls, 0);
}

TEST_F(AdminServerTest, PostBodyReachesTheHandler) {
  start();
  Client c(*this, server_->port());
  c.send("POST /-/reload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n{\"a\":\"b\"}\n\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(seen_.method, "POST");
  EXPECT_EQ(seen_.body, "{\"a\":\"b\"}\n\n");
}

TEST_F(AdminServerTest, ChunkedBodyIsDechunked) {
  start();
  Client c(*this, server_->port());
  c.send(
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(seen_.body, "hello world");
}

TEST_F(AdminServerTest, ExpectContinueGets100First) {
  start();
  Client c(*this, server_->port());
  c.send("PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  auto interim = c.read_response(true);
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  c.send("ok");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(seen_.body, "ok");
}

TEST_F(AdminServerTest, OversizeHeadGets431) {
  start();
  Client c(*this, server_->port());
  c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(20'000, 'b') + "\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(seen_.calls, 0);
}

TEST_F(AdminServerTest, OversizeBodyGets413) {
  AdminLimits limits;
  limits.max_body_bytes = 8;
  start("", limits);
  {
    Client c(*this, server_->port());
    c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n123456789");
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(c.closed_by_server());
  }
  Client chunked(*this, server_->port());
  chunked.send(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n");
  auto r = chunked.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(seen_.calls, 0);
}

TEST_F(AdminServerTest, DefaultBodyLimitIsOneMebibyte) {
  start();
  Client c(*this, server_->port());
  c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(AdminServerTest, HeadGetsTheLengthButNoBody) {
  start();
  Client c(*this, server_->port());
  c.send("HEAD /stats HTTP/1.1\r\nHost: a\r\n\r\n");
  auto r = c.read_response(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->field("content-length"), std::to_string(std::string(R"({"path":"/stats"})").size()));
  EXPECT_EQ(seen_.method, "HEAD");
  // The next response starts right after the head: no body bytes came in between.
  c.send(kGet);
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, R"({"path":"/stats"})");
}

TEST_F(AdminServerTest, ConnectionCloseIsHonoured) {
  start();
  Client c(*this, server_->port());
  c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->field("connection"), "close");
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(AdminServerTest, Http10ClosesUnlessAskedToKeepAlive) {
  start();
  {
    Client c(*this, server_->port());
    c.send("GET / HTTP/1.0\r\n\r\n");
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->field("connection"), "close");
    EXPECT_TRUE(c.closed_by_server());
  }
  Client c(*this, server_->port());
  c.send("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->field("connection"), "keep-alive");
  c.send("GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, R"({"path":"/2"})");
}

TEST_F(AdminServerTest, ClientHalfCloseStillGetsItsAnswer) {
  start();
  Client c(*this, server_->port());
  c.send(kGet);
  c.shutdown_write();
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(AdminServerTest, HandlerDecidesStatusTypeAndFields) {
  handler_ = [](const AdminRequest& r) {
    if (r.path == "/text") {
      AdminResponse t;
      t.content_type = "text/plain; charset=utf-8";
      t.body = "hi\n";
      return t;
    }
    if (r.method != "GET") {
      AdminResponse e = json_error(405, "method not allowed");
      e.headers = {{"Allow", "GET"}, {"Content-Length", "999"}, {"Bad\r\nName", "x"}};
      return e;
    }
    return json_error(404, "no such path");
  };
  start();
  Client c(*this, server_->port());
  c.send("GET /nope HTTP/1.1\r\nHost: a\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "{\"error\":\"no such path\"}\n");

  c.send("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n");
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->field("allow"), "GET");
  EXPECT_EQ(r->field("content-length"), std::to_string(r->body.size()));

  c.send("GET /text HTTP/1.1\r\nHost: a\r\n\r\n");
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->field("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r->body, "hi\n");
}

TEST_F(AdminServerTest, HandlerFailureGives500AndTheServerCarriesOn) {
  handler_ = [](const AdminRequest& r) -> AdminResponse {
    if (r.path == "/throw") throw std::runtime_error("boom");
    AdminResponse bad;
    bad.status = r.path == "/1xx" ? 101 : 204;
    bad.body = "ignored";
    return bad;
  };
  start();
  Client c(*this, server_->port());
  c.send("GET /throw HTTP/1.1\r\nHost: a\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  c.send("GET /1xx HTTP/1.1\r\nHost: a\r\n\r\n");
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  c.send("GET /204 HTTP/1.1\r\nHost: a\r\n\r\n");
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_FALSE(r->has("content-length"));
  EXPECT_EQ(r->body, "");
  c.send(kGet);
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204) << "the 204 had no body bytes to confuse the next response";
}

TEST_F(AdminServerTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  AdminLimits limits;
  limits.max_connections = 2;
  start("", limits);
  Client a(*this, server_->port()), b(*this, server_->port());
  for (Client* c : {&a, &b}) {
    c->send(kGet);
    ASSERT_TRUE(c->read_response());
  }
  Client refused(*this, server_->port());
  EXPECT_TRUE(refused.closed_by_server());
  EXPECT_EQ(server_->connection_count(), 2u);
  a.send(kGet);
  EXPECT_TRUE(a.read_response()) << "those already open carry on";
}

TEST_F(AdminServerTest, IncompleteRequestGets408) {
  AdminLimits limits;
  limits.request_timeout = std::chrono::milliseconds(50);
  start("", limits);
  Client c(*this, server_->port());
  c.send("GET / HTTP/1.1\r\nHost:");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(AdminServerTest, IdleConnectionIsClosedQuietly) {
  AdminLimits limits;
  limits.request_timeout = std::chrono::milliseconds(50);
  start("", limits);
  Client c(*this, server_->port());
  c.send(kGet);
  ASSERT_TRUE(c.read_response());
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_TRUE(run_until([&] { return server_->connection_count() == 0; }));
}

TEST_F(AdminServerTest, CloseEndsEveryConnection) {
  start();
  Client idle(*this, server_->port()), partial(*this, server_->port());
  partial.send("GET / HTTP/1.1\r\n");
  EXPECT_TRUE(run_until([&] { return server_->connection_count() == 2; }));
  server_->close();
  server_->close();  // idempotent
  EXPECT_TRUE(idle.closed_by_server());
  EXPECT_TRUE(partial.closed_by_server());
  EXPECT_EQ(server_->port(), 0);
}

TEST_F(AdminServerTest, HandlerMayCloseTheServer) {
  handler_ = [this](const AdminRequest&) {
    server_->close();
    return AdminResponse{};
  };
  start();
  Client c(*this, server_->port());
  c.send(kGet);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(AdminServerTest, OpenFailureNamesTheAddress) {
  start();
  config::Admin config;
  auto& v4 = reinterpret_cast<sockaddr_in&>(config.address.storage);
  v4.sin_family = AF_INET;
  v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  v4.sin_port = htons(uint16_t(server_->port()));
  config.address.length = sizeof v4;
  config.address.text = "127.0.0.1:" + std::to_string(server_->port());
  AdminServer second(&loop_, config, handler_);
  std::string error = second.open();
  EXPECT_NE(error.find(config.address.text), std::string::npos) << error;
  EXPECT_NE(error.find("address already in use"), std::string::npos) << error;
}

TEST(BearerToken, Matches) {
  std::vector<http::Header> h{{"Authorization", "Bearer abc"}};
  EXPECT_TRUE(bearer_token_matches(h, "abc"));
  EXPECT_FALSE(bearer_token_matches(h, "abcd"));
  EXPECT_FALSE(bearer_token_matches(h, "ab"));
  EXPECT_FALSE(bearer_token_matches(h, ""));
  std::vector<http::Header> twice{{"Authorization", "Bearer abc"}, {"authorization", "Bearer abc"}};
  EXPECT_FALSE(bearer_token_matches(twice, "abc"));
  std::vector<http::Header> none{{"X-Token", "Bearer abc"}};
  EXPECT_FALSE(bearer_token_matches(none, "abc"));
  std::vector<http::Header> bare{{"Authorization", "Bearer"}};
  EXPECT_FALSE(bearer_token_matches(bare, "abc"));
  std::vector<http::Header> empty{{"Authorization", "Bearer "}};
  EXPECT_FALSE(bearer_token_matches(empty, "abc"));
}

// The token is compared in constant time: how long a wrong guess takes must not tell how
// many of its leading bytes were right. An early-exit comparison of these 8 KiB tokens
// takes far longer for a guess wrong only in its last byte than for one wrong in its first.
TEST(BearerToken, ComparisonTimeDoesNotDependOnWhereAGuessIsWrong) {
  const std::string token(8192, 'k');
  std::string wrong_first = "Bearer " + token, wrong_last = wrong_first;
  wrong_first[7] = 'x';
  wrong_last.back() = 'x';
  auto fastest = [&](const std::string& value) {
    std::vector<http::Header> h{{"Authorization", value}};
    auto best = std::chrono::steady_clock::duration::max();
    for (int round = 0; round < 100; ++round) {
      auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < 16; ++i) EXPECT_FALSE(bearer_token_matches(h, token));
      best = std::min(best, std::chrono::steady_clock::now() - start);
    }
    return double(best.count());
  };
  double first = fastest(wrong_first), last = fastest(wrong_last);
  EXPECT_LT(std::max(first, last) / std::min(first, last), 2.0)
      << "wrong first byte: " << first << " ns, wrong last byte: " << last << " ns";
}

}  // namespace
}  // namespace portico::admin

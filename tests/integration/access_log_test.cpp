// Access log: one line per request with method, path, status and route name.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>

#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/Template.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

constexpr const char* kConfig = R"(workers: 1
log: { level: info, access_log: {{LOG}} }
listeners:
  - name: main
    address: 127.0.0.1:{{PORT}}
    routes:
      - name: greeting
        match: { path: /hello }
        respond: { status: 200, body: "hi\n" }
      - name: backend-api
        match: { path_prefix: /api/ }
        upstream: backend
upstreams:
  - name: backend
    endpoints: [ {{UP}} ]
    timeouts: { connect: 1s, response: 2s }
)";

bool Contains(const std::string& line, std::initializer_list<const char*> parts) {
  return std::all_of(parts.begin(), parts.end(),
                     [&](const char* p) { return line.find(p) != std::string::npos; });
}

size_t CountLines(const std::vector<std::string>& lines, const char* needle) {
  return std::count_if(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

void SendThreeRequests(uint16_t port) {
  HttpClient c;
  ASSERT_TRUE(c.Connect(port));
  ASSERT_TRUE(c.Send(Get("/hello") + Request("POST", "/api/alpha-7", {}, "x") + Get("/nope-9")));
  auto rs = c.ReadResponses(3);
  ASSERT_EQ(rs.size(), 3u) << c.error();
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_EQ(rs[1].status, 200);
  EXPECT_EQ(rs[2].status, 404);
}

void ExpectLines(const std::vector<std::string>& lines, const std::string& where) {
  EXPECT_EQ(CountLines(lines, "/api/alpha-7"), 1u) << where;
  EXPECT_EQ(CountLines(lines, "/nope-9"), 1u) << where;
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return Contains(l, {"GET", "/hello", "200", "greeting"});
  })) << where;
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return Contains(l, {"POST", "/api/alpha-7", "200", "backend-api"});
  })) << where;
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return Contains(l, {"GET", "/nope-9", "404"});
  })) << where;
}

TEST(AccessLog, OneLinePerRequestOnStdout) {
  TestUpstream up;
  uint16_t port = FreePort();
  PorticoOptions o;
  o.config =
      Fill(kConfig, {{"LOG", "stdout"}, {"PORT", std::to_string(port)}, {"UP", up.address()}});
  o.ready_ports = {port};
  PorticoProcess proxy(o);
  ASSERT_TRUE(proxy.Start());
  ASSERT_NO_FATAL_FAILURE(SendThreeRequests(port));

  bool flushed = proxy.WaitForStdoutLine(
      [](const std::string& l) { return l.find("/nope-9") != std::string::npos; }, Ms{2000});
  if (!flushed) {
    // Maybe it is only buffered: stop the proxy and look again.
    proxy.Signal(SIGTERM);
    proxy.WaitExit(Ms{3000});
    ADD_FAILURE() << "access log lines not written within 2 s of the requests (buffered?)";
  }
  ExpectLines(proxy.StdoutLines(), "stdout:\n" + proxy.Stdout());
}

TEST(AccessLog, ToFile) {
  TestUpstream up;
  uint16_t port = FreePort();
  TempDir logs;
  std::string path = logs.File("access.log");
  PorticoOptions o;
  o.config = Fill(kConfig, {{"LOG", path}, {"PORT", std::to_string(port)}, {"UP", up.address()}});
  o.ready_ports = {port};
  PorticoProcess proxy(o);
  ASSERT_TRUE(proxy.Start());
  ASSERT_NO_FATAL_FAILURE(SendThreeRequests(port));
  Deadline deadline(Ms{2000});
  while (ReadFile(path).find("/nope-9") == std::string::npos && !deadline.Expired()) {
    proxy.PauseWhileRunning(Ms{20});
  }
  std::string text = ReadFile(path);
  ExpectLines(SplitLines(text), "file:\n" + text);
}

TEST(AccessLog, OffWritesNoRequestLines) {
  TestUpstream up;
  uint16_t port = FreePort();
  PorticoOptions o;
  o.config = Fill(kConfig, {{"LOG", "off"}, {"PORT", std::to_string(port)}, {"UP", up.address()}});
  o.ready_ports = {port};
  PorticoProcess proxy(o);
  ASSERT_TRUE(proxy.Start());
  ASSERT_NO_FATAL_FAILURE(SendThreeRequests(port));
  proxy.Signal(SIGTERM);
  auto st = proxy.WaitExit(Ms{3000});
  ASSERT_TRUE(st);
  EXPECT_EQ(CountLines(proxy.StdoutLines(), "/api/alpha-7"), 0u) << proxy.Stdout();
}

}  // namespace
}  // namespace portico::it

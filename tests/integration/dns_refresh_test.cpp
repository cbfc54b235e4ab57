// Upstream endpoints written as NAME:PORT, looked up again every dns_refresh: each address
// the name resolves to is an endpoint of its own (up to 8 per name); addresses that appear
// get traffic, addresses that go away are drained without failing a request, and a name
// that stops resolving is logged while the pool keeps the addresses it had.
//
// The answers come from /etc/hosts, which glibc reads again on every lookup. Each test adds
// lines for a name of its own (portico-dns-<pid>-<n>.test) and removes exactly those lines
// again; every other line of the file is left as it was. Upstreams listen on loopback
// addresses other than 127.0.0.1 (127.0.0.2, ...), which Linux routes to lo without setup.
// Every wait is for an event (a request reaching an upstream, a log line) with a deadline.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/ProxyConfig.h"
#include "harness/SteadyClient.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

constexpr const char* kHostsPath = "/etc/hosts";
// Serialises edits of /etc/hosts between test processes running in parallel.
constexpr const char* kHostsLockPath = "/tmp/portico-dns-test-hosts.lock";
constexpr const char* kMarker = "# portico-dns-test pid=";
constexpr const char* kSlowTarget = "/slow";
constexpr Ms kSlowDelay{1500};

std::string UniqueName() {
  static int counter = 0;
  return "portico-dns-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".test";
}

// The host names a hosts(5) line lists (everything after the address, up to a comment).
std::vector<std::string> NamesOnLine(const std::string& line) {
  std::istringstream in(line.substr(0, line.find('#')));
  std::vector<std::string> tokens;
  for (std::string t; in >> t;) tokens.push_back(t);
  if (!tokens.empty()) tokens.erase(tokens.begin());
  return tokens;
}

// A line this test suite added for a process that no longer exists (a crashed run).
bool IsStaleLine(const std::string& line) {
  size_t at = line.find(kMarker);
  if (at == std::string::npos) return false;
  pid_t pid = static_cast<pid_t>(std::atol(line.c_str() + at + std::strlen(kMarker)));
  if (pid <= 0 || pid == ::getpid()) return false;
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

// Adds and removes this process's lines in /etc/hosts; the destructor removes every line it
// added (and nothing else).
class HostsFile {
 public:
  HostsFile() = default;
  ~HostsFile() { RemoveOurLines(); }
  HostsFile(const HostsFile&) = delete;
  HostsFile& operator=(const HostsFile&) = delete;

  static bool Writable() { return ::access(kHostsPath, W_OK) == 0; }

  // `name` resolves to `ips` from now on (one line each); no ips: it is no longer in the file.
  ::testing::AssertionResult Set(const std::string& name, const std::vector<std::string>& ips) {
    if (std::find(names_.begin(), names_.end(), name) == names_.end()) names_.push_back(name);
    return Edit([&](std::vector<std::string>& lines) {
      std::erase_if(lines, [&](const std::string& l) { return Names(l, name) || IsStaleLine(l); });
      for (const std::string& ip : ips)
        lines.push_back(ip + " " + name + " " + kMarker + std::to_string(::getpid()));
    });
  }

  ::testing::AssertionResult RemoveOurLines() {
    if (names_.empty()) return ::testing::AssertionSuccess();
    auto result = Edit([&](std::vector<std::string>& lines) {
      std::erase_if(lines, [&](const std::string& l) {
        return std::any_of(names_.begin(), names_.end(),
                           [&](const std::string& n) { return Names(l, n); });
      });
    });
    if (result) names_.clear();
    return result;
  }

 private:
  static bool Names(const std::string& line, const std::string& name) {
    auto names = NamesOnLine(line);
    return std::find(names.begin(), names.end(), name) != names.end();
  }

  // Read, change and write back the file under an exclusive lock. Written in place (the file
  // may be a bind mount that cannot be replaced by rename): the new text first, then the
  // file cut to its length, so a concurrent reader never sees an empty file.
  static ::testing::AssertionResult Edit(const std::function<void(std::vector<std::string>&)>& f) {
    int lock = ::open(kHostsLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (lock < 0) return ::testing::AssertionFailure() << "open " << kHostsLockPath;
    ::flock(lock, LOCK_EX);
    struct Unlock {
      int fd;
      ~Unlock() {
        ::flock(fd, LOCK_UN);
        ::close(fd);
      }
    } unlock{lock};

    int fd = ::open(kHostsPath, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      return ::testing::AssertionFailure() << "open " << kHostsPath << ": " << std::strerror(errno);
    }
    struct Close {
      int fd;
      ~Close() { ::close(fd); }
    } close_fd{fd};
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
      if (n < 0) {
        if (errno == EINTR) continue;
        return ::testing::AssertionFailure()
               << "read " << kHostsPath << ": " << std::strerror(errno);
      }
      text.append(buf, static_cast<size_t>(n));
    }
    std::vector<std::string> lines;
    for (size_t start = 0; start < text.size();) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      lines.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    f(lines);
    std::string out;
    for (const std::string& l : lines) out += l + "\n";
    if (out == text) return ::testing::AssertionSuccess();
    for (size_t off = 0; off < out.size();) {
      ssize_t n = ::pwrite(fd, out.data() + off, out.size() - off, static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return ::testing::AssertionFailure()
               << "write " << kHostsPath << ": " << std::strerror(errno);
      }
      off += static_cast<size_t>(n);
    }
    if (::ftruncate(fd, static_cast<off_t>(out.size())) != 0) {
      return ::testing::AssertionFailure()
             << "truncate " << kHostsPath << ": " << std::strerror(errno);
    }
    return ::testing::AssertionSuccess();
  }

  std::vector<std::string> names_;
};

// What this process's resolver answers for `name` (TCP, any family), sorted; empty when
// the name does not resolve.
std::vector<std::string> Resolve(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  std::set<std::string> ips;
  if (::getaddrinfo(name.c_str(), nullptr, &hints, &list) == 0) {
    for (addrinfo* a = list; a; a = a->ai_next) {
      char buf[INET6_ADDRSTRLEN] = {};
      if (a->ai_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, buf,
                    sizeof buf);
      } else if (a->ai_family == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, buf,
                    sizeof buf);
      }
      ips.insert(buf);
    }
    ::freeaddrinfo(list);
  }
  return {ips.begin(), ips.end()};
}

// 200 "ok ..." at once, or after kSlowDelay for kSlowTarget (a request still in flight
// while the name moves).
UpstreamResponse Answer(const HttpRequest& request) {
  UpstreamResponse r = DefaultResponse(request);
  if (request.target == kSlowTarget) r.delay = kSlowDelay;
  return r;
}

// Waits until `up` has received a request for `target`.
bool WaitForTarget(const TestUpstream& up, const std::string& target, Ms timeout) {
  Deadline deadline(timeout);
  while (true) {
    for (const HttpRequest& r : up.requests())
      if (r.target == target) return true;
    if (deadline.Expired()) return false;
    up.WaitForRequests(up.requests_received() + 1, std::min(Ms{50}, deadline.Remaining()));
  }
}

class DnsRefresh : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HostsFile::Writable()) {
      GTEST_SKIP() << kHostsPath
                   << " is not writable (the DNS refresh tests control name answers through "
                      "it; run them as root, e.g. in the test container)";
    }
    name_ = UniqueName();
    cfg_.upstream_extra = "    dns_refresh: 200ms\n";
  }
  void TearDown() override { EXPECT_TRUE(hosts_.RemoveOurLines()); }

  // Points name_ at `ips` and checks that this process's resolver sees it (skips when
  // /etc/hosts is not what answers, e.g. with nscd caching or no "files" in nsswitch.conf).
  void PointNameAt(const std::vector<std::string>& ips) {
    ASSERT_TRUE(hosts_.Set(name_, ips));
    std::vector<std::string> want = ips;
    std::sort(want.begin(), want.end());
    if (Resolve(name_) != want) {
      GTEST_SKIP() << "the resolver does not answer from " << kHostsPath << " for " << name_
                   << " (nscd? nsswitch.conf without files?)";
    }
  }

  void Start(uint16_t upstream_port) {
    cfg_.endpoints = {name_ + ":" + std::to_string(upstream_port)};
    proxy_ = std::make_unique<PorticoProcess>(cfg_.Options());
    ASSERT_TRUE(proxy_->Start());
  }

  int Status(const std::string& target = "/p") {
    std::string err;
    auto r = Fetch(cfg_.port, Get(target), ReadOptions{.timeout = Ms{5000}}, &err);
    EXPECT_TRUE(r) << target << ": " << err;
    return r ? r->status : 0;
  }

  // Sends requests (each on a new connection, all expected to be 200) until `up` has
  // received one, or `timeout` passes. The requests are what drives the traffic to be
  // observed; the pool picks up an address change on its own.
  bool SendUntilReached(const TestUpstream& up, Ms timeout, int* failed) {
    size_t before = up.requests_received();
    Deadline deadline(timeout);
    while (up.requests_received() == before) {
      if (deadline.Expired() || !proxy_->Running()) return false;
      *failed += Status("/probe") != 200;
    }
    return true;
  }

  // Waits until stderr, past its first `offset` bytes, has a line for which pred is true.
  template <typename Pred>
  bool WaitForStderrLine(size_t offset, Pred pred, Ms timeout) {
    Deadline deadline(timeout);
    while (true) {
      std::string log = proxy_->Stderr();
      std::istringstream in(log.size() > offset ? log.substr(offset) : std::string());
      for (std::string line; std::getline(in, line);)
        if (pred(line)) return true;
      if (deadline.Expired() || !proxy_->Running()) return false;
      proxy_->PauseWhileRunning(std::min(Ms{10}, deadline.Remaining()));
    }
  }

  HostsFile hosts_;
  std::string name_;
  ProxyConfig cfg_;
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(DnsRefresh, MovedNameSendsTrafficToTheNewAddressWithoutFailedRequests) {
  TestUpstream a(BindAddress{"127.0.0.1", 0}, Answer);
  const uint16_t port = a.port();
  TestUpstream b(BindAddress{"127.0.0.2", port}, Answer);  // same port, the name's next address
  ASSERT_NO_FATAL_FAILURE(PointNameAt({"127.0.0.1"}));
  if (IsSkipped()) return;
  ASSERT_NO_FATAL_FAILURE(Start(port));

  SteadyClient client(cfg_.port, 5000);
  ASSERT_TRUE(client.WaitForDone(20, Ms{5000})) << proxy_->DiagnosticTail();
  ASSERT_GE(a.requests_received(), 20u);
  ASSERT_EQ(b.requests_received(), 0u) << "the name does not resolve to 127.0.0.2 yet";

  // A request in flight on the old address when the name moves: it must finish.
  HttpClient slow;
  ASSERT_TRUE(slow.Connect(cfg_.port));
  ASSERT_TRUE(slow.Send(Get(kSlowTarget)));
  ASSERT_TRUE(WaitForTarget(a, kSlowTarget, Ms{3000}))
      << "the slow request should have reached 127.0.0.1";

  ASSERT_TRUE(hosts_.Set(name_, {"127.0.0.2"}));
  auto moved = Clock::now();
  EXPECT_TRUE(b.WaitForRequests(1, Ms{5000}))
      << "127.0.0.2 got no request within 5 s of the name moving there (dns_refresh 200ms)\n"
      << proxy_->DiagnosticTail();
  ASSERT_GE(b.requests_received(), 1u);
  RecordProperty("move_to_first_request_ms", static_cast<int>(MsSince(moved)));

  auto r = slow.ReadResponse(ReadOptions{.timeout = kSlowDelay + Ms{5000}});
  ASSERT_TRUE(r) << "the request in flight on the old address did not finish: " << slow.error();
  EXPECT_EQ(r->status, 200) << r->Describe();

  // Settle: once 127.0.0.2 has served a few more requests, 127.0.0.1 gets none at all.
  ASSERT_TRUE(b.WaitForRequests(b.requests_received() + 20, Ms{5000}));
  const size_t a_settled = a.requests_received();
  ASSERT_TRUE(b.WaitForRequests(b.requests_received() + 40, Ms{5000}));
  EXPECT_EQ(a.requests_received(), a_settled) << "the removed address still gets traffic";
  client.Stop();

  EXPECT_TRUE(client.failures().empty())
      << client.failures().size() << " of " << client.done()
      << " requests failed; first: " << client.failures().front();
  // Drained: the proxy's connections to the removed address end once they are idle.
  EXPECT_TRUE(a.WaitForOpenConnectionsAtMost(0, Ms{5000}))
      << a.open_connections() << " connection(s) to the removed address are still open";
  EXPECT_TRUE(proxy_->Running());
}

TEST_F(DnsRefresh, EveryAddressOfANameGetsTraffic) {
  TestUpstream a(BindAddress{"127.0.0.1", 0});
  const uint16_t port = a.port();
  TestUpstream b(BindAddress{"127.0.0.2", port});
  ASSERT_NO_FATAL_FAILURE(PointNameAt({"127.0.0.1", "127.0.0.2"}));
  if (IsSkipped()) return;
  ASSERT_NO_FATAL_FAILURE(Start(port));

  constexpr int kRequests = 40;
  int ok = 0;
  for (int i = 0; i < kRequests; ++i) ok += Status("/spread/" + std::to_string(i)) == 200;
  EXPECT_EQ(ok, kRequests);
  EXPECT_EQ(a.requests_received() + b.requests_received(), size_t{kRequests});
  EXPECT_GE(a.requests_received(), size_t{kRequests / 4}) << "127.0.0.1 got too little";
  EXPECT_GE(b.requests_received(), size_t{kRequests / 4}) << "127.0.0.2 got too little";
}

TEST_F(DnsRefresh, AnAddressAddedLaterGetsTraffic) {
  TestUpstream a(BindAddress{"127.0.0.1", 0});
  const uint16_t port = a.port();
  TestUpstream b(BindAddress{"127.0.0.2", port});
  ASSERT_NO_FATAL_FAILURE(PointNameAt({"127.0.0.1"}));
  if (IsSkipped()) return;
  ASSERT_NO_FATAL_FAILURE(Start(port));

  for (int i = 0; i < 10; ++i) EXPECT_EQ(Status(), 200);
  EXPECT_EQ(a.requests_received(), 10u);
  EXPECT_EQ(b.requests_received(), 0u);

  ASSERT_TRUE(hosts_.Set(name_, {"127.0.0.1", "127.0.0.2"}));
  int failed = 0;
  EXPECT_TRUE(SendUntilReached(b, Ms{5000}, &failed))
      << "127.0.0.2 got no request within 5 s of being added to the name\n"
      << proxy_->DiagnosticTail();
  EXPECT_EQ(failed, 0);

  size_t a0 = a.requests_received(), b0 = b.requests_received();
  constexpr int kRequests = 40;
  for (int i = 0; i < kRequests; ++i) EXPECT_EQ(Status(), 200);
  EXPECT_GE(a.requests_received() - a0, size_t{kRequests / 4});
  EXPECT_GE(b.requests_received() - b0, size_t{kRequests / 4});
}

TEST_F(DnsRefresh, AtMostEightAddressesPerName) {
  // Nine addresses on one port; the name gets eight endpoints.
  std::vector<std::unique_ptr<TestUpstream>> ups;
  ups.push_back(std::make_unique<TestUpstream>(BindAddress{"127.0.0.1", 0}));
  const uint16_t port = ups[0]->port();
  std::vector<std::string> ips = {"127.0.0.1"};
  for (int i = 2; i <= 9; ++i) {
    ips.push_back("127.0.0." + std::to_string(i));
    ups.push_back(std::make_unique<TestUpstream>(BindAddress{ips.back(), port}));
  }
  ASSERT_NO_FATAL_FAILURE(PointNameAt(ips));
  if (IsSkipped()) return;
  ASSERT_NO_FATAL_FAILURE(Start(port));

  constexpr int kRequests = 80;
  int ok = 0;
  for (int i = 0; i < kRequests; ++i) ok += Status() == 200;
  EXPECT_EQ(ok, kRequests);
  size_t used = 0;
  std::string spread;
  for (const auto& up : ups) {
    used += up->requests_received() > 0;
    spread += " " + up->ip() + "=" + std::to_string(up->requests_received());
  }
  EXPECT_EQ(used, 8u) << "requests per address:" << spread;
}

TEST_F(DnsRefresh, ANameThatStopsResolvingIsLoggedAndKeepsItsAddresses) {
  TestUpstream a(BindAddress{"127.0.0.1", 0});
  ASSERT_NO_FATAL_FAILURE(PointNameAt({"127.0.0.1"}));
  if (IsSkipped()) return;
  ASSERT_NO_FATAL_FAILURE(Start(a.port()));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Status(), 200);
  ASSERT_EQ(a.requests_received(), 5u);

  const size_t log_offset = proxy_->Stderr().size();
  ASSERT_TRUE(hosts_.Set(name_, {}));
  ASSERT_TRUE(Resolve(name_).empty());
  // Not found in /etc/hosts, the lookup goes on to DNS (nsswitch "files dns"), which may
  // take a while to say no: a generous bound.
  EXPECT_TRUE(WaitForStderrLine(
      log_offset,
      [&](const std::string& line) {
        return line.find(name_) != std::string::npos && line.find("warn") != std::string::npos;
      },
      Ms{15000}))
      << "no warning naming " << name_ << " after it stopped resolving\n"
      << proxy_->DiagnosticTail();

  // The failed lookup has been handled (it was logged): the pool still has 127.0.0.1, over
  // several more refresh intervals (the pauses are pacing, not synchronisation).
  const size_t before = a.requests_received();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Status("/after/" + std::to_string(i)), 200) << "request " << i;
    proxy_->PauseWhileRunning(Ms{30});
  }
  EXPECT_EQ(a.requests_received(), before + 20);
  EXPECT_TRUE(proxy_->Running());
}

}  // namespace
}  // namespace portico::it

// The config file watch (reload: { watch: true }): the running proxy notices when its file
// changes, however it is changed (an editor's rename, a Kubernetes ConfigMap's ..data swap),
// reloads only when the content differs, and keeps the old config when the new one is
// broken. Real binary on loopback; every wait is for an event (a log line, the proxy
// reading the file) with a deadline.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "harness/AdminClient.h"
#include "harness/HttpClient.h"
#include "harness/Json.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/Socket.h"
#include "harness/TempDir.h"
#include "harness/Template.h"

namespace portico::it {
namespace {

constexpr const char* kConfig = R"(workers: 2
log: { level: info, access_log: off }
reload: { watch: {{WATCH}}, debounce: {{DEBOUNCE}} }
admin: { address: 127.0.0.1:{{ADMIN}} }
listeners:
  - name: main
    address: 127.0.0.1:{{MAIN}}
    routes:
      - name: hello
        match: { path: /hello }
        respond: { status: 200, body: "{{HELLO}}" }
)";

// Notices another process reading a file: an inotify watch on the file's inode (it stays
// with the inode through renames) for a close after reading. The test must not read the
// file itself meanwhile.
class ReadWatch {
 public:
  explicit ReadWatch(const std::string& path) : fd_(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) {
    if (fd_ && ::inotify_add_watch(fd_.get(), path.c_str(), IN_CLOSE_NOWRITE) < 0) {
      error_ = std::strerror(errno);
      fd_ = Fd();
    }
  }

  // Waits until the file has been read since the watch began (or the last read seen);
  // false when the deadline passes or the proxy exits first.
  ::testing::AssertionResult WaitForRead(PorticoProcess& proxy, Ms timeout) {
    if (!fd_) return ::testing::AssertionFailure() << "inotify: " << error_;
    Deadline deadline(timeout);
    while (true) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, deadline.PollMs(50)) > 0 && ReadEvents())
        return ::testing::AssertionSuccess();
      if (deadline.Expired())
        return ::testing::AssertionFailure() << "the proxy did not read the file in time\n"
                                             << proxy.DiagnosticTail();
      if (!proxy.Running()) return ::testing::AssertionFailure() << "the proxy exited";
    }
  }

 private:
  // Consumes the queued events; whether one was a close after reading.
  bool ReadEvents() {
    alignas(inotify_event) char buf[4096];
    bool read_seen = false;
    ssize_t n = 0;
    while ((n = ::read(fd_.get(), buf, sizeof buf)) > 0) {
      for (ssize_t at = 0; at < n;) {
        const auto* e = reinterpret_cast<const inotify_event*>(buf + at);
        read_seen |= (e->mask & IN_CLOSE_NOWRITE) != 0;
        at += ssize_t(sizeof(inotify_event) + e->len);
      }
    }
    return read_seen;
  }

  Fd fd_;
  std::string error_;
};

// The number at `path` of a JSON answer, NaN when missing.
double Number(const Json& j, std::string_view path) {
  const Json* v = j.Find(path);
  return v && v->IsNumber() ? v->Number() : std::nan("");
}

// The string at `path` of a JSON answer, "<no PATH>" when missing.
std::string Text(const Json& j, std::string_view path) {
  const Json* v = j.Find(path);
  return v && v->IsString() ? v->String() : "<no " + std::string(path) + ">";
}

void WriteNewFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  ASSERT_TRUE(out) << "cannot write " << path;
}

class ConfigWatch : public ::testing::Test {
 protected:
  ConfigWatch() {
    vars_ = {{"MAIN", std::to_string(main_)},
             {"ADMIN", std::to_string(admin_port_)},
             {"WATCH", "true"},
             {"DEBOUNCE", "50ms"},
             {"HELLO", "one"}};
  }

  // Starts the proxy on Fill(kConfig, vars_), at `config_path` when given (the test has laid
  // the file out), else in the proxy's own directory.
  void Start(const std::string& config_path = {}) {
    PorticoOptions o;
    o.config = Fill(kConfig, vars_);
    o.config_path = config_path;
    o.ready_ports = {main_, admin_port_};
    proxy_ = std::make_unique<PorticoProcess>(o);
    ASSERT_TRUE(proxy_->Start());
  }

  std::string Config(const std::string& hello) {
    Vars v = vars_;
    v["HELLO"] = hello;
    return Fill(kConfig, v);
  }

  std::string Body(const std::string& target) {
    std::string error;
    auto r = Fetch(main_, Get(target), {}, &error);
    if (!r) return "no response: " + error;
    return std::to_string(r->status) + " " + r->body;
  }

  // Waits for the log line of a reload to generation `n` of `text`.
  ::testing::AssertionResult WaitForGeneration(int n, const std::string& text) {
    std::string line = "config generation " + std::to_string(n) + " (" + ConfigHash(text) + ")";
    if (proxy_->WaitForStderr(line, Ms{5000})) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "no '" << line << "'\n" << proxy_->DiagnosticTail();
  }

  // Replaces `path` by renaming a new file over it, and returns a watch for reads of the new
  // file (set before the rename, so no read is missed).
  std::unique_ptr<ReadWatch> ReplaceWatched(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".next";
    WriteNewFile(tmp, text);
    auto watch = std::make_unique<ReadWatch>(tmp);
    EXPECT_EQ(std::rename(tmp.c_str(), path.c_str()), 0) << std::strerror(errno);
    return watch;
  }

  uint16_t main_ = FreePort();
  uint16_t admin_port_ = FreePort();
  Vars vars_;
  AdminClient admin_{admin_port_};
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(ConfigWatch, AFileRenamedOverTheConfigIsApplied) {
  Start();
  ASSERT_EQ(Body("/hello"), "200 one");
  const std::string next = Config("two");
  ReplaceFile(proxy_->config_path(), next);
  ASSERT_TRUE(WaitForGeneration(2, next));
  EXPECT_EQ(Body("/hello"), "200 two");
  EXPECT_NE(proxy_->Stderr().find("config file changed: reloading"), std::string::npos)
      << proxy_->DiagnosticTail();
  std::optional<Json> config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  EXPECT_EQ(Number(*config, "reloads.generation"), 2) << config->Dump();
  EXPECT_EQ(Text(*config, "reloads.config_hash"), ConfigHash(next));
}

TEST_F(ConfigWatch, TheSameContentOrATouchIsNoReload) {
  Start();
  const std::string same = Fill(kConfig, vars_);
  // The same bytes in a new file renamed over the old one: the proxy reads it (after the
  // quiet period) and leaves it at that.
  auto watch = ReplaceWatched(proxy_->config_path(), same);
  ASSERT_TRUE(watch->WaitForRead(*proxy_, Ms{5000}));
  // A touch: only the times change.
  ReadWatch touched(proxy_->config_path());
  ASSERT_EQ(::utimensat(AT_FDCWD, proxy_->config_path().c_str(), nullptr, 0), 0)
      << std::strerror(errno);
  ASSERT_TRUE(touched.WaitForRead(*proxy_, Ms{5000}));
  // The decision follows the read on the proxy's main thread, before this request is served.
  std::optional<Json> config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  EXPECT_EQ(Number(*config, "reloads.generation"), 1) << config->Dump();
  EXPECT_EQ(Number(*config, "reloads.successes"), 0) << config->Dump();
  EXPECT_EQ(Number(*config, "reloads.failures"), 0) << config->Dump();

  // A real change afterwards is generation 2, not 3: neither of the above was a reload.
  const std::string next = Config("two");
  ReplaceFile(proxy_->config_path(), next);
  ASSERT_TRUE(WaitForGeneration(2, next));
  EXPECT_EQ(Body("/hello"), "200 two");
  const std::string log = proxy_->Stderr();
  EXPECT_EQ(log.find("config generation 3"), std::string::npos) << log;
  size_t reloads = 0;
  for (size_t at = log.find("reloading"); at != std::string::npos;
       at = log.find("reloading", at + 1))
    ++reloads;
  EXPECT_EQ(reloads, 1u) << log;
}

// A ConfigMap volume as the kubelet writes it: portico.yaml -> ..data/portico.yaml, ..data ->
// a timestamped directory; an update writes a new directory, points ..data_tmp at it, renames
// ..data_tmp over ..data and removes the old directory. The file portico is given never
// changes itself, only where its symlinks lead.
TEST_F(ConfigWatch, AKubernetesConfigMapUpdateIsApplied) {
  TempDir volume;
  auto at = [&](const std::string& name) { return volume.File(name); };
  std::string current = "..2024_05_01_12_00_00.000000001";
  ASSERT_EQ(::mkdir(at(current).c_str(), 0755), 0) << std::strerror(errno);
  WriteNewFile(at(current + "/portico.yaml"), Fill(kConfig, vars_));
  ASSERT_EQ(::symlink(current.c_str(), at("..data").c_str()), 0) << std::strerror(errno);
  ASSERT_EQ(::symlink("..data/portico.yaml", at("portico.yaml").c_str()), 0)
      << std::strerror(errno);
  Start(at("portico.yaml"));
  ASSERT_EQ(Body("/hello"), "200 one");

  auto update = [&](const std::string& next_dir, const std::string& text) {
    ASSERT_EQ(::mkdir(at(next_dir).c_str(), 0755), 0) << std::strerror(errno);
    WriteNewFile(at(next_dir + "/portico.yaml"), text);
    ASSERT_EQ(::symlink(next_dir.c_str(), at("..data_tmp").c_str()), 0) << std::strerror(errno);
    ASSERT_EQ(std::rename(at("..data_tmp").c_str(), at("..data").c_str()), 0)
        << std::strerror(errno);
    ASSERT_EQ(::unlink(at(current + "/portico.yaml").c_str()), 0) << std::strerror(errno);
    ASSERT_EQ(::rmdir(at(current).c_str()), 0) << std::strerror(errno);
    current = next_dir;
  };

  const std::string two = Config("two");
  update("..2024_05_01_12_05_00.000000002", two);
  ASSERT_TRUE(WaitForGeneration(2, two));
  EXPECT_EQ(Body("/hello"), "200 two");

  // Again: the watch must follow ..data to the new directory.
  const std::string three = Config("three");
  update("..2024_05_01_12_10_00.000000003", three);
  ASSERT_TRUE(WaitForGeneration(3, three));
  EXPECT_EQ(Body("/hello"), "200 three");

  std::optional<Json> config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  EXPECT_EQ(Text(*config, "config.source"), at("portico.yaml"));
  EXPECT_EQ(Number(*config, "reloads.successes"), 2) << config->Dump();
  EXPECT_EQ(Number(*config, "reloads.failures"), 0) << config->Dump();
}

TEST_F(ConfigWatch, ABrokenFileIsNotAppliedAndTheOldConfigKeepsServing) {
  Start();
  const std::string first_hash = ConfigHash(Fill(kConfig, vars_));
  ASSERT_EQ(Body("/hello"), "200 one");
  std::string bad = Config("two");
  bad.replace(bad.find("path: /hello"), 12, "pth: /hello");
  ReplaceFile(proxy_->config_path(), bad);
  ASSERT_TRUE(proxy_->WaitForStderr("reload failed; still serving config " + first_hash, Ms{5000}))
      << proxy_->DiagnosticTail();
  EXPECT_NE(proxy_->Stderr().find("config file changed: reloading"), std::string::npos);
  EXPECT_NE(proxy_->Stderr().find("listeners[0].routes[0].match.pth"), std::string::npos)
      << proxy_->DiagnosticTail();
  EXPECT_EQ(Body("/hello"), "200 one");
  std::optional<Json> config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  EXPECT_EQ(Number(*config, "reloads.generation"), 1) << config->Dump();
  EXPECT_EQ(Number(*config, "reloads.failures"), 1) << config->Dump();
  EXPECT_NE(Text(*config, "reloads.last_error").find(proxy_->config_path() + ":"),
            std::string::npos)
      << config->Dump();

  // Repaired, the file applies.
  const std::string fixed = Config("two");
  ReplaceFile(proxy_->config_path(), fixed);
  ASSERT_TRUE(WaitForGeneration(2, fixed));
  EXPECT_EQ(Body("/hello"), "200 two");
}

// A reload that changes the watch's own settings replaces the watcher from inside its
// callback; the new one must go on noticing changes.
TEST_F(ConfigWatch, ChangedWatchSettingsKeepWatching) {
  Start();
  vars_["DEBOUNCE"] = "60ms";
  const std::string two = Config("two");
  ReplaceFile(proxy_->config_path(), two);
  ASSERT_TRUE(WaitForGeneration(2, two));
  const std::string three = Config("three");
  ReplaceFile(proxy_->config_path(), three);
  ASSERT_TRUE(WaitForGeneration(3, three));
  EXPECT_EQ(Body("/hello"), "200 three");
}

// A reload that turns watching off stops it: a later change of the file is not applied
// until something else reloads. (A negative: the proxy is given ten quiet periods.)
TEST_F(ConfigWatch, WatchTurnedOffByAReloadStopsWatching) {
  Start();
  vars_["WATCH"] = "false";
  const std::string two = Config("two");
  ReplaceFile(proxy_->config_path(), two);
  ASSERT_TRUE(WaitForGeneration(2, two));
  const std::string three = Config("three");
  ReplaceFile(proxy_->config_path(), three);
  ASSERT_TRUE(proxy_->PauseWhileRunning(Ms{500}));
  EXPECT_EQ(Body("/hello"), "200 two");
  EXPECT_EQ(proxy_->Stderr().find("config generation 3"), std::string::npos)
      << proxy_->DiagnosticTail();
}

// POST /-/reload applies the new file before the quiet period ends; the watcher then finds
// that content already running and does not reload it a second time. (The one margin in
// these tests: the POST must come within the 1 s quiet period after the rename.)
TEST_F(ConfigWatch, AFileAlreadyAppliedByPostReloadIsNotReloadedAgain) {
  vars_["DEBOUNCE"] = "1s";
  Start();
  const std::string next = Config("two");
  ReplaceFile(proxy_->config_path(), next);
  std::optional<HttpResponse> r = admin_.Post("/-/reload");
  ASSERT_TRUE(r) << admin_.error();
  ASSERT_EQ(r->status, 200) << r->Describe();
  ASSERT_TRUE(WaitForGeneration(2, next));
  // The watcher's own look, after its quiet period: it sees a change from what it last read,
  // and the server finds that content running.
  ASSERT_TRUE(proxy_->WaitForStderr("config file " + proxy_->config_path() + " changed", Ms{5000}))
      << proxy_->DiagnosticTail();
  std::optional<Json> config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  EXPECT_EQ(Number(*config, "reloads.generation"), 2) << config->Dump();
  EXPECT_EQ(Number(*config, "reloads.successes"), 1) << config->Dump();
  EXPECT_EQ(proxy_->Stderr().find("config file changed: reloading"), std::string::npos)
      << proxy_->DiagnosticTail();
  EXPECT_EQ(Body("/hello"), "200 two");
}

}  // namespace
}  // namespace portico::it

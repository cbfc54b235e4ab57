// Running under systemd: the sd_notify protocol as systemd sees it (a datagram socket in
// NOTIFY_SOCKET), the unit file as `systemd-analyze verify` judges it, and what
// `cmake --install` puts in place.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "harness/ChildProcess.h"
#include "harness/PorticoProcess.h"
#include "harness/ProxyConfig.h"
#include "harness/Socket.h"
#include "harness/TempDir.h"

namespace portico::it {
namespace {

// What systemd listens on: a datagram socket; each sd_notify call is one datagram.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = Fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    bound_ = fd_ && ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }

  // The next message, or "" when none came in time.
  std::string Receive(Ms timeout) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return {};
    char buf[4096];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, size_t(n)) : std::string();
  }

 private:
  std::string path_;
  Fd fd_;
  bool bound_ = false;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CommandResult RunCommand(const TempDir& dir, const std::string& program,
                         std::vector<std::string> args, std::vector<std::string> env = {}) {
  ChildProcess child;
  SpawnOptions o{program, std::move(args), dir.File("cmd.out"), dir.File("cmd.err"),
                 {},      std::move(env)};
  std::string error;
  CommandResult r;
  if (!child.Spawn(o, &error)) {
    r.err = error;
    return r;
  }
  auto status = child.Wait(Ms{60000});
  if (status) r.exit_code = ExitCode(*status);
  r.out = ReadFile(dir.File("cmd.out"));
  r.err = ReadFile(dir.File("cmd.err"));
  return r;
}

void Replace(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

TEST(Systemd, NotifiesReadyReloadingAndStopping) {
  TempDir dir;
  NotifySocket notify(dir.File("notify.sock"));
  ASSERT_TRUE(notify.bound()) << std::strerror(errno);
  ProxyConfig cfg;
  cfg.endpoints = {"127.0.0.1:9"};
  PorticoOptions options = cfg.Options();
  options.env.push_back("NOTIFY_SOCKET=" + notify.path());
  PorticoProcess proxy(options);
  ASSERT_TRUE(proxy.Start());

  std::string ready = notify.Receive(Ms{5000});
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready;
  EXPECT_NE(ready.find("STATUS=1 listeners, 1 workers"), std::string::npos) << ready;

  // A reload: RELOADING=1, then READY=1 once every worker runs the new config.
  ASSERT_TRUE(proxy.Signal(SIGHUP));
  std::string reloading = notify.Receive(Ms{5000});
  EXPECT_NE(reloading.find("RELOADING=1"), std::string::npos) << reloading;
  std::string reloaded = notify.Receive(Ms{5000});
  EXPECT_NE(reloaded.find("READY=1"), std::string::npos) << reloaded;
  EXPECT_NE(reloaded.find("STATUS=generation 2"), std::string::npos) << reloaded;

  ASSERT_TRUE(proxy.Signal(SIGTERM));
  std::string stopping = notify.Receive(Ms{5000});
  EXPECT_NE(stopping.find("STOPPING=1"), std::string::npos) << stopping;
  auto st = proxy.WaitExit(Ms{6000});
  ASSERT_TRUE(st);
  EXPECT_EQ(ExitCode(*st), 0);
}

TEST(Systemd, WithoutNotifySocketNothingIsSentAndNothingFails) {
  if (std::getenv("NOTIFY_SOCKET")) GTEST_SKIP() << "running under a service manager";
  ProxyConfig cfg;
  cfg.endpoints = {"127.0.0.1:9"};
  PorticoProcess proxy(cfg.Options());  // the test's environment has no NOTIFY_SOCKET
  ASSERT_TRUE(proxy.Start());
  ASSERT_TRUE(proxy.Signal(SIGTERM));
  auto st = proxy.WaitExit(Ms{6000});
  ASSERT_TRUE(st);
  EXPECT_EQ(ExitCode(*st), 0);
  EXPECT_EQ(proxy.Stderr().find("sd_notify"), std::string::npos) << proxy.Stderr();
}

TEST(Systemd, UnitFilePassesSystemdAnalyzeVerify) {
  TempDir dir;
  // The generated unit names the installed binary; verify checks that it exists, so this
  // copy points at the one just built (nothing else changes).
  std::string unit = ReadFile(std::string(PORTICO_BUILD_DIR) + "/portico.service");
  ASSERT_FALSE(unit.empty());
  EXPECT_NE(unit.find("Type=notify"), std::string::npos);
  EXPECT_NE(unit.find("ExecReload=/bin/kill -HUP $MAINPID"), std::string::npos);
  for (const char* hardening : {"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                                "PrivateTmp=yes", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                                "AmbientCapabilities=CAP_NET_BIND_SERVICE", "LimitNOFILE="})
    EXPECT_NE(unit.find(hardening), std::string::npos) << hardening;
  Replace(unit, PORTICO_INSTALLED_BINARY, PorticoBinary());
  std::string path = dir.Write("portico.service", unit);
  CommandResult r = RunCommand(dir, "/usr/bin/systemd-analyze", {"verify", path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "") << "systemd-analyze verify reported problems";
}

TEST(Systemd, CmakeInstallPutsBinaryUnitAndConfigInPlaceAndKeepsAnEditedConfig) {
  TempDir dir;
  std::string root = dir.File("root");
  std::vector<std::string> env = {"DESTDIR=" + root};
  CommandResult r = RunCommand(dir, PORTICO_CMAKE, {"--install", PORTICO_BUILD_DIR}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  struct stat st {};
  ASSERT_EQ(::stat((root + PORTICO_INSTALLED_BINARY).c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  std::string unit =
      ReadFile(root + PORTICO_INSTALL_PREFIX + "/lib/systemd/system/portico.service");
  EXPECT_NE(unit.find(std::string("ExecStart=") + PORTICO_INSTALLED_BINARY + " --config " +
                      PORTICO_CONFIG_DIR + "/portico.yaml"),
            std::string::npos)
      << unit;
  EXPECT_FALSE(ReadFile(root + PORTICO_INSTALL_PREFIX + "/lib/sysusers.d/portico.conf").empty());
  EXPECT_FALSE(ReadFile(root + PORTICO_INSTALL_PREFIX + "/lib/tmpfiles.d/portico.conf").empty());
  std::string config = root + PORTICO_CONFIG_DIR + "/portico.yaml";
  EXPECT_EQ(ReadFile(config), ReadFile(std::string(PORTICO_SOURCE_DIR) + "/config/portico.yaml"));

  // An operator's edits survive the next install.
  { std::ofstream(config, std::ios::app) << "# edited\n"; }
  r = RunCommand(dir, PORTICO_CMAKE, {"--install", PORTICO_BUILD_DIR}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(ReadFile(config).find("# edited"), std::string::npos);
  EXPECT_NE(r.out.find("Keeping existing"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace portico::it

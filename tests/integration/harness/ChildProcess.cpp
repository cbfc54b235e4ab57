#include "harness/ChildProcess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace portico::it {

namespace {

// The current environment with `changes` applied (see SpawnOptions::env).
std::vector<std::string> BuildEnvironment(const std::vector<std::string>& changes) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  for (const std::string& change : changes) {
    size_t eq = change.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    bool append = change[eq - 1] == '+';
    std::string name = change.substr(0, append ? eq - 1 : eq);
    std::string value = change.substr(eq + 1);
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const std::string& v) { return v.rfind(name + "=", 0) == 0; });
    if (it == env.end()) {
      env.push_back(name + "=" + value);
    } else if (append) {
      *it += (it->size() > name.size() + 1 ? ":" : "") + value;
    } else {
      *it = name + "=" + value;
    }
  }
  return env;
}

}  // namespace

ChildProcess::~ChildProcess() {
  Kill();
}

bool ChildProcess::Spawn(const SpawnOptions& options, std::string* error) {
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<std::string> argv_storage;
  argv_storage.push_back(options.program);
  for (const auto& a : options.args) argv_storage.push_back(a);
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = BuildEnvironment(options.env);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out = ::open(options.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = ::open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0 || err < 0) {
    if (out >= 0) ::close(out);
    if (err >= 0) ::close(err);
    *error = "cannot create output files in " + options.stdout_path;
    return false;
  }
  rlimit limit{};
  bool set_limit = options.nofile.has_value();
  if (set_limit) limit.rlim_cur = limit.rlim_max = *options.nofile;
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    ::close(out);
    ::close(err);
    return false;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::close_range(3, ~0u, 0);
    if (set_limit) ::setrlimit(RLIMIT_NOFILE, &limit);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out);
  ::close(err);
  pid_ = pid;
  status_.reset();
  pidfd_ = Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  return true;
}

bool ChildProcess::TryReap() {
  if (status_) return true;
  if (pid_ <= 0) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    return true;
  }
  return false;
}

bool ChildProcess::Running() {
  return pid_ > 0 && !TryReap();
}

bool ChildProcess::Signal(int sig) {
  if (!Running()) return false;
  return ::kill(pid_, sig) == 0;
}

bool ChildProcess::WaitForExitEvent(Ms timeout) {
  Deadline deadline(timeout);
  while (true) {
    if (TryReap()) return true;
    if (deadline.Expired()) return false;
    if (pidfd_) {
      pollfd p{pidfd_.get(), POLLIN, 0};
      ::poll(&p, 1, deadline.PollMs(1000));
    } else {
      // No pidfd (old kernel): poll the process state in short steps.
      pollfd none{-1, 0, 0};
      ::poll(&none, 0, deadline.PollMs(5));
    }
  }
}

std::optional<int> ChildProcess::Wait(Ms timeout) {
  if (pid_ <= 0) return std::nullopt;
  if (WaitForExitEvent(timeout)) return status_;
  return std::nullopt;
}

void ChildProcess::Kill() {
  if (pid_ <= 0) return;
  if (!TryReap()) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    if (::waitpid(pid_, &st, 0) == pid_) status_ = st;
  }
  pidfd_.reset();
}

std::string DescribeStatus(int st) {
  if (WIFEXITED(st)) return "exit " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) {
    return "killed by signal " + std::to_string(WTERMSIG(st)) + " (" + strsignal(WTERMSIG(st)) +
           ")";
  }
  return "status " + std::to_string(st);
}

int ExitCode(int st) {
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace portico::it

#include "harness/Command.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "harness/ChildProcess.h"
#include "harness/TempDir.h"

namespace portico::it {

std::string CommandResult::Describe() const {
  return status + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
}

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

CommandResult RunCommand(const std::string& program, const std::vector<std::string>& args,
                         Ms timeout) {
  TempDir dir;
  SpawnOptions spawn;
  // ChildProcess runs a path: a bare name is looked up on $PATH, as a shell would.
  spawn.program = program.find('/') == std::string::npos ? FindOnPath(program) : program;
  if (spawn.program.empty()) spawn.program = program;
  spawn.args = args;
  spawn.stdout_path = dir.File("stdout");
  spawn.stderr_path = dir.File("stderr");
  CommandResult result;
  ChildProcess child;
  std::string error;
  if (!child.Spawn(spawn, &error)) {
    result.status = "spawn failed: " + error;
    return result;
  }
  auto st = child.Wait(timeout);
  if (!st) {
    result.timed_out = true;
    result.status = "timed out";
    child.Kill();
  } else {
    result.exit_code = ExitCode(*st);
    result.status = DescribeStatus(*st);
  }
  result.out = ReadFile(spawn.stdout_path);
  result.err = ReadFile(spawn.stderr_path);
  return result;
}

}  // namespace portico::it

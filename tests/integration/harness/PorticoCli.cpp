#include "harness/PorticoCli.h"

#include "harness/ChildProcess.h"
#include "harness/PorticoProcess.h"
#include "harness/TempDir.h"

namespace portico::it {

CliResult RunPortico(const std::vector<std::string>& args, Ms timeout) {
  TempDir dir;
  SpawnOptions spawn;
  spawn.program = PorticoBinary();
  spawn.args = args;
  spawn.stdout_path = dir.File("stdout");
  spawn.stderr_path = dir.File("stderr");
  CliResult result;
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

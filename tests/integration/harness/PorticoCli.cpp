#include "harness/PorticoCli.h"

#include "harness/PorticoProcess.h"

namespace portico::it {

CliResult RunPortico(const std::vector<std::string>& args, Ms timeout) {
  return RunCommand(PorticoBinary(), args, timeout);
}

}  // namespace portico::it

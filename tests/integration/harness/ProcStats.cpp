#include "harness/ProcStats.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "harness/TempDir.h"

namespace portico::it {

long ReadRssKb(pid_t pid) {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

long ReadCpuTicks(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream in(stat.substr(paren + 2));
  // Fields after "(comm)": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
  // cmajflt utime(14) stime(15).
  std::string field;
  long utime = -1;
  long stime = -1;
  for (int index = 3; index <= 15 && in >> field; ++index) {
    if (index == 14) utime = std::stol(field);
    if (index == 15) stime = std::stol(field);
  }
  if (utime < 0 || stime < 0) return -1;
  return utime + stime;
}

long CountOpenFds(pid_t pid) {
  std::error_code ec;
  long count = 0;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return -1;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return -1;
    ++count;
  }
  return count;
}

long ClockTicksPerSecond() {
  return ::sysconf(_SC_CLK_TCK);
}

}  // namespace portico::it

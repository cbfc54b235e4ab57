// Command line: --version, --help, --validate, --config with a bad file.
#include <gtest/gtest.h>

#include <regex>

#include "harness/PorticoCli.h"
#include "harness/Ports.h"
#include "harness/TempDir.h"
#include "harness/Template.h"

namespace portico::it {
namespace {

std::string GoodConfig() {
  return Fill(R"(workers: 1
drain_timeout: 2s
log: { level: info, access_log: stdout }
listeners:
  - name: main
    address: 127.0.0.1:{{PORT}}
    limits: { max_header_bytes: 8KiB, max_body_bytes: 1MiB, header_timeout: 1s, idle_timeout: 5s }
    routes:
      - name: hello
        match: { path: /hello }
        respond: { status: 200, headers: { content-type: text/plain }, body: "hi\n" }
      - name: api
        match: { path_prefix: / }
        upstream: backend
upstreams:
  - name: backend
    endpoints: [ 127.0.0.1:{{UP}}, { address: 127.0.0.1:{{UP2}}, weight: 1 } ]
    timeouts: { connect: 1s, response: 1s }
    keepalive: { max_idle: 64, idle_timeout: 60s }
)",
              {{"PORT", std::to_string(FreePort())},
               {"UP", std::to_string(FreePort())},
               {"UP2", std::to_string(FreePort())}});
}

// Line 6, column 5: an unknown key.
constexpr const char* kUnknownKey = R"(workers: 1
log: { level: info, access_log: off }
listeners:
  - name: main
    address: 127.0.0.1:18080
    bogus_key: 1
    routes:
      - name: hello
        match: { path: /hello }
        respond: { status: 200, body: "hi" }
)";

// Line 5: an address that is not host:port.
constexpr const char* kBadAddress = R"(workers: 1
log: { level: info, access_log: off }
listeners:
  - name: main
    address: 127.0.0.1:notaport
    routes:
      - name: hello
        match: { path: /hello }
        respond: { status: 200, body: "hi" }
)";

// Two errors: line 5 (bad address) and line 9 (unknown key inside a route).
constexpr const char* kTwoErrors = R"(workers: 1
log: { level: info, access_log: off }
listeners:
  - name: main
    address: nowhere
    routes:
      - name: hello
        match: { path: /hello }
        colour: blue
        respond: { status: 200, body: "hi" }
)";

constexpr const char* kUnknownUpstream = R"(workers: 1
listeners:
  - name: main
    address: 127.0.0.1:18081
    routes:
      - name: api
        match: { path_prefix: / }
        upstream: does-not-exist
)";

constexpr const char* kBrokenYaml = "workers: 1\nlisteners: [ { name: main, address: \n";

// "FILE:LINE:COL:" for `line`, any column.
bool MentionsLine(const std::string& text, const std::string& file, int line) {
  std::regex re(std::regex_replace(file, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") + ":" +
                std::to_string(line) + ":[0-9]+:");
  return std::regex_search(text, re);
}

TEST(Cli, Version) {
  CliResult r = RunPortico({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.status << "\n" << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^portico [0-9]+\.[0-9]+\.[0-9]+)")))
      << "stdout: " << r.out;
}

TEST(Cli, Help) {
  CliResult r = RunPortico({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.status;
  std::string all = r.out + r.err;
  EXPECT_NE(all.find("--config"), std::string::npos) << all;
  EXPECT_NE(all.find("--validate"), std::string::npos) << all;
}

TEST(Cli, UnknownOptionFails) {
  CliResult r = RunPortico({"--no-such-option"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.exit_code, 0) << r.status;
}

TEST(Cli, ValidateAcceptsGoodFile) {
  TempDir dir;
  std::string file = dir.Write("good.yaml", GoodConfig());
  CliResult r = RunPortico({"--validate", file});
  EXPECT_EQ(r.exit_code, 0) << r.status << "\n" << r.err;
}

TEST(Cli, ValidateRejectsUnknownKeyWithLocation) {
  TempDir dir;
  std::string file = dir.Write("unknown.yaml", kUnknownKey);
  CliResult r = RunPortico({"--validate", file});
  EXPECT_EQ(r.exit_code, 1) << r.status;
  EXPECT_TRUE(MentionsLine(r.err, file, 6)) << "stderr: " << r.err;
  EXPECT_NE(r.err.find(file + ":6:5:"), std::string::npos)
      << "expected column 5 (1-based) of the key; stderr: " << r.err;
  EXPECT_NE(r.err.find("bogus_key"), std::string::npos) << "stderr: " << r.err;
}

TEST(Cli, ValidateRejectsBadAddressWithLocation) {
  TempDir dir;
  std::string file = dir.Write("address.yaml", kBadAddress);
  CliResult r = RunPortico({"--validate", file});
  EXPECT_EQ(r.exit_code, 1) << r.status;
  EXPECT_TRUE(MentionsLine(r.err, file, 5)) << "stderr: " << r.err;
  EXPECT_NE(r.err.find("address"), std::string::npos) << "stderr: " << r.err;
}

TEST(Cli, ValidateReportsEveryError) {
  TempDir dir;
  std::string file = dir.Write("two.yaml", kTwoErrors);
  CliResult r = RunPortico({"--validate", file});
  EXPECT_EQ(r.exit_code, 1) << r.status;
  EXPECT_TRUE(MentionsLine(r.err, file, 5)) << "stderr: " << r.err;
  EXPECT_TRUE(MentionsLine(r.err, file, 9)) << "stderr: " << r.err;
  EXPECT_NE(r.err.find("colour"), std::string::npos) << "stderr: " << r.err;
}

TEST(Cli, ValidateRejectsRouteToUnknownUpstream) {
  TempDir dir;
  std::string file = dir.Write("upstream.yaml", kUnknownUpstream);
  CliResult r = RunPortico({"--validate", file});
  EXPECT_EQ(r.exit_code, 1) << r.status;
  EXPECT_TRUE(MentionsLine(r.err, file, 8)) << "stderr: " << r.err;
  EXPECT_NE(r.err.find("does-not-exist"), std::string::npos) << "stderr: " << r.err;
}

TEST(Cli, ValidateRejectsTwoBreakersForOnePool) {
  TempDir dir;
  std::string file = dir.Write("breakers.yaml", R"(listeners:
  - name: main
    address: 127.0.0.1:8080
    routes:
      - name: a
        match: { path_prefix: /a }
        filters: [ { circuit_breaker: { failure_ratio: 0.5 } } ]
        upstream: api
      - name: b
        filters: [ { circuit_breaker: { failure_ratio: 0.9 } } ]
        upstream: api
upstreams:
  - name: api
    endpoints: [ "127.0.0.1:9000" ]
)");
  CliResult r = RunPortico({"--validate", file});
  EXPECT_EQ(r.exit_code, 1) << r.status;
  EXPECT_NE(r.err.find("route 'b': filter 'circuit_breaker': upstream 'api' already has a "
                       "circuit breaker with other settings"),
            std::string::npos)
      << "stderr: " << r.err;
}

TEST(Cli, ValidateRejectsBrokenYaml) {
  TempDir dir;
  std::string file = dir.Write("broken.yaml", kBrokenYaml);
  CliResult r = RunPortico({"--validate", file});
  EXPECT_EQ(r.exit_code, 1) << r.status;
  EXPECT_NE(r.err.find(file + ":"), std::string::npos) << "stderr: " << r.err;
}

TEST(Cli, ValidateMissingFileFails) {
  TempDir dir;
  std::string file = dir.File("absent.yaml");
  CliResult r = RunPortico({"--validate", file});
  EXPECT_EQ(r.exit_code, 1) << r.status;
  EXPECT_NE(r.err.find("absent.yaml"), std::string::npos) << "stderr: " << r.err;
}

TEST(Cli, ConfigWithBadFileExitsOneWithTheError) {
  TempDir dir;
  std::string file = dir.Write("unknown.yaml", kUnknownKey);
  CliResult r = RunPortico({"--config", file}, Ms{5000});
  EXPECT_FALSE(r.timed_out) << "portico started serving with an invalid config";
  EXPECT_EQ(r.exit_code, 1) << r.status;
  EXPECT_TRUE(MentionsLine(r.err, file, 6)) << "stderr: " << r.err;
  EXPECT_NE(r.err.find("bogus_key"), std::string::npos) << "stderr: " << r.err;
}

}  // namespace
}  // namespace portico::it

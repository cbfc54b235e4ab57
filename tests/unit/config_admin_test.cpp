// The `admin:` section: address, token or token file, and the rules that keep an admin
// port without a token off the network and out of the listeners' way.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/ConfigLoader.h"

namespace portico::config {
namespace {

// Line 1 is `admin: ...`; the listener starts at line 2.
std::string with_admin(std::string_view admin) {
  return "admin: " + std::string(admin) +
         "\n"
         "listeners:\n"
         "  - name: l\n"
         "    address: 0.0.0.0:8080\n"
         "    routes:\n"
         "      - name: r\n"
         "        respond: { status: 200 }\n";
}

LoadResult load(std::string_view yaml) {
  return load_config_string(yaml, "test.yaml");
}

std::string only_error(std::string_view yaml) {
  LoadResult result = load(yaml);
  EXPECT_FALSE(result.config.has_value());
  std::vector<std::string> lines;
  for (const ConfigError& e : result.errors) lines.push_back(e.to_string());
  EXPECT_EQ(result.errors.size(), 1u) << ::testing::PrintToString(lines);
  return result.errors.empty() ? "" : result.errors.front().to_string();
}

uint16_t port_of(const SocketAddress& a) {
  if (a.storage.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_port);
}

// A directory of its own under /tmp, removed with what the test put in it.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/portico_admin_test_XXXXXX";
    EXPECT_NE(mkdtemp(name), nullptr);
    path_ = name;
  }
  ~TempDir() {
    for (const std::string& f : files_) std::remove(f.c_str());
    ::rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string write(const std::string& name, std::string_view contents) {
    std::string file = path_ + "/" + name;
    std::FILE* f = std::fopen(file.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    if (f) {
      std::fwrite(contents.data(), 1, contents.size(), f);
      std::fclose(f);
    }
    files_.push_back(file);
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

TEST(ConfigAdmin, AbsentMeansDisabled) {
  LoadResult result = load(
      "listeners:\n"
      "  - name: l\n"
      "    address: 127.0.0.1:8080\n"
      "    routes: [ { name: r, respond: { status: 200 } } ]\n");
  ASSERT_TRUE(result.config.has_value());
  EXPECT_FALSE(result.config->admin.enabled);
}

TEST(ConfigAdmin, LoopbackWithoutToken) {
  LoadResult result = load(with_admin("{ address: 127.0.0.1:9901 }"));
  ASSERT_TRUE(result.config.has_value());
  const Admin& admin = result.config->admin;
  EXPECT_TRUE(admin.enabled);
  EXPECT_EQ(admin.address.text, "127.0.0.1:9901");
  EXPECT_EQ(admin.address.storage.ss_family, AF_INET);
  EXPECT_EQ(port_of(admin.address), 9901);
  EXPECT_EQ(admin.token, "");
  EXPECT_EQ(admin.mark.line, 1);
  EXPECT_EQ(admin.mark.column, 8);
}

TEST(ConfigAdmin, EveryLoopbackAddressIsLoopback) {
  for (std::string_view address :
       {"127.0.0.1:9901", "127.1.2.3:9901", "[::1]:9901", "[::ffff:127.0.0.1]:9901"}) {
    LoadResult result = load(with_admin("{ address: \"" + std::string(address) + "\" }"));
    EXPECT_TRUE(result.config.has_value()) << address;
  }
}

TEST(ConfigAdmin, Ipv6Address) {
  LoadResult result = load(with_admin("{ address: \"[::1]:9901\" }"));
  ASSERT_TRUE(result.config.has_value());
  EXPECT_EQ(result.config->admin.address.storage.ss_family, AF_INET6);
  EXPECT_EQ(port_of(result.config->admin.address), 9901);
}

TEST(ConfigAdmin, InlineToken) {
  LoadResult result = load(with_admin("{ address: 0.0.0.0:9901, token: s3cr3t-T0ken }"));
  ASSERT_TRUE(result.config.has_value());
  EXPECT_EQ(result.config->admin.token, "s3cr3t-T0ken");
}

TEST(ConfigAdmin, NonLoopbackWithoutTokenIsAnError) {
  EXPECT_EQ(only_error(with_admin("{ address: 0.0.0.0:9901 }")),
            "test.yaml:1:19: admin.address: admin API bound to a non-loopback address requires "
            "a token (set 'token' or 'token_file', or bind to 127.0.0.1 or [::1])");
  for (std::string_view address :
       {"10.0.0.1:9901", "[::]:9901", "[::ffff:10.0.0.1]:9901", "128.0.0.1:9901"}) {
    LoadResult result = load(with_admin("{ address: \"" + std::string(address) + "\" }"));
    ASSERT_EQ(result.errors.size(), 1u) << address;
    EXPECT_NE(result.errors[0].message.find("requires a token"), std::string::npos) << address;
  }
}

TEST(ConfigAdmin, AddressIsRequired) {
  EXPECT_EQ(only_error(with_admin("{ token: abc }")),
            "test.yaml:1:8: admin.address: missing required key 'address'");
}

TEST(ConfigAdmin, AddressParsedLikeListeners) {
  EXPECT_EQ(only_error(with_admin("{ address: localhost:9901 }")),
            "test.yaml:1:19: admin.address: 'localhost:9901' is not a valid address: "
            "'localhost' is not an IP address (host names are not allowed here)");
  EXPECT_EQ(only_error(with_admin("{ address: 127.0.0.1 }")).find("test.yaml:1:19: admin.address"),
            0u);
}

TEST(ConfigAdmin, UnknownKey) {
  EXPECT_EQ(only_error(with_admin("{ address: 127.0.0.1:9901, tokn: x }")),
            "test.yaml:1:35: admin.tokn: unknown key 'tokn' (expected one of: address, token, "
            "token_file)");
}

TEST(ConfigAdmin, NotAMapping) {
  EXPECT_EQ(only_error(with_admin("127.0.0.1:9901")),
            "test.yaml:1:8: admin: expected a mapping, got '127.0.0.1:9901'");
}

TEST(ConfigAdmin, TokenAndTokenFileAreExclusive) {
  EXPECT_EQ(only_error(with_admin("{ address: 127.0.0.1:9901, token: a, token_file: /x }")),
            "test.yaml:1:45: admin.token_file: only one of 'token' and 'token_file' may be "
            "given ('token' is already at line 1)");
}

TEST(ConfigAdmin, EmptyTokenIsAnError) {
  EXPECT_EQ(only_error(with_admin("{ address: 127.0.0.1:9901, token: \"\" }")),
            "test.yaml:1:42: admin.token: must not be empty");
}

TEST(ConfigAdmin, TokenMustBeHeaderSafeAndIsNeverQuoted) {
  std::string e = only_error(with_admin("{ address: 127.0.0.1:9901, token: \"a secret\" }"));
  EXPECT_EQ(e,
            "test.yaml:1:42: admin.token: the token must be printable ASCII without spaces (it "
            "is sent in an Authorization header)");
  EXPECT_EQ(e.find("secret"), std::string::npos);
}

TEST(ConfigAdmin, BrokenTokenDoesNotAlsoComplainAboutTheAddress) {
  EXPECT_EQ(only_error(with_admin("{ address: 0.0.0.0:9901, token: \"\" }")),
            "test.yaml:1:40: admin.token: must not be empty");
}

TEST(ConfigAdmin, TokenFileIsReadAndItsNewlineStripped) {
  TempDir dir;
  std::string file = dir.write("token", "from-a-file\n");
  LoadResult result = load(with_admin("{ address: 0.0.0.0:9901, token_file: \"" + file + "\" }"));
  ASSERT_TRUE(result.config.has_value());
  EXPECT_EQ(result.config->admin.token, "from-a-file");

  std::string crlf = dir.write("token-crlf", "windows\r\n");
  result = load(with_admin("{ address: 0.0.0.0:9901, token_file: \"" + crlf + "\" }"));
  ASSERT_TRUE(result.config.has_value());
  EXPECT_EQ(result.config->admin.token, "windows");
}

TEST(ConfigAdmin, RelativeTokenFileIsNextToTheConfig) {
  TempDir dir;
  dir.write("token", "relative");
  std::string config = dir.write("portico.yaml", with_admin("{ address: 127.0.0.1:9901, "
                                                            "token_file: token }"));
  LoadResult result = load_config_file(config);
  ASSERT_TRUE(result.config.has_value())
      << (result.errors.empty() ? "" : result.errors[0].to_string());
  EXPECT_EQ(result.config->admin.token, "relative");
}

TEST(ConfigAdmin, MissingTokenFileIsAnErrorAtTheKey) {
  EXPECT_EQ(only_error(with_admin("{ address: 127.0.0.1:9901, token_file: /nonexistent/tok }")),
            "test.yaml:1:47: admin.token_file: cannot read token file '/nonexistent/tok': No "
            "such file or directory");
}

TEST(ConfigAdmin, UnreadableTokenFiles) {
  TempDir dir;
  std::string empty = dir.write("empty", "\n");
  EXPECT_EQ(only_error(with_admin("{ address: 127.0.0.1:9901, token_file: \"" + empty + "\" }")),
            "test.yaml:1:47: admin.token_file: token file '" + empty + "' is empty");

  EXPECT_EQ(
      only_error(with_admin("{ address: 127.0.0.1:9901, token_file: \"" + dir.path() + "\" }")),
      "test.yaml:1:47: admin.token_file: cannot read token file '" + dir.path() +
          "': Is a directory");

  std::string big = dir.write("big", std::string(5000, 'x'));
  EXPECT_EQ(only_error(with_admin("{ address: 127.0.0.1:9901, token_file: \"" + big + "\" }")),
            "test.yaml:1:47: admin.token_file: cannot read token file '" + big +
                "': larger than 4096 bytes");

  std::string spaced = dir.write("spaced", "two words\n");
  std::string e =
      only_error(with_admin("{ address: 127.0.0.1:9901, token_file: \"" + spaced + "\" }"));
  EXPECT_NE(e.find("admin.token_file: the token in '" + spaced + "' must be printable ASCII"),
            std::string::npos)
      << e;
  EXPECT_EQ(e.find("two words"), std::string::npos);
}

TEST(ConfigAdmin, SameAddressAsAListenerIsAnError) {
  EXPECT_EQ(only_error(with_admin("{ address: 0.0.0.0:8080, token: t }")),
            "test.yaml:1:19: admin.address: address '0.0.0.0:8080' is already used by the "
            "listener at line 3");
}

TEST(ConfigAdmin, SamePortAsAWildcardListenerIsAnError) {
  EXPECT_EQ(only_error(with_admin("{ address: 127.0.0.1:8080 }")),
            "test.yaml:1:19: admin.address: address '127.0.0.1:8080' overlaps the address "
            "'0.0.0.0:8080' of the listener at line 3 (same port, and one is a wildcard)");
}

TEST(ConfigAdmin, OtherFamilyOrPortDoesNotClash) {
  EXPECT_TRUE(load(with_admin("{ address: \"[::1]:8080\" }")).config.has_value());
  EXPECT_TRUE(load(with_admin("{ address: 127.0.0.1:8081 }")).config.has_value());
}

TEST(ConfigAdmin, ErrorsElsewhereStillReported) {
  LoadResult result = load(
      "admin: { address: 0.0.0.0:9901 }\n"
      "workers: x\n"
      "listeners:\n"
      "  - name: l\n"
      "    address: 127.0.0.1:8080\n"
      "    routes: [ { name: r, respond: { status: 200 } } ]\n");
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(result.errors[0].key, "admin.address");
  EXPECT_EQ(result.errors[1].key, "workers");
}

}  // namespace
}  // namespace portico::config

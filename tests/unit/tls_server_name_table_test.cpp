#include "tls/ServerNameTable.h"

#include <gtest/gtest.h>

#include <string>

namespace portico::tls {
namespace {

TEST(ServerNameTableTest, ExactNames) {
  ServerNameTable table;
  EXPECT_TRUE(table.add("api.example.com", 0));
  EXPECT_TRUE(table.add("www.example.com", 1));
  EXPECT_EQ(table.find("api.example.com"), 0);
  EXPECT_EQ(table.find("www.example.com"), 1);
  EXPECT_EQ(table.find("example.com"), -1);
  EXPECT_EQ(table.find("api.example.org"), -1);
  EXPECT_EQ(table.find(""), -1);
}

TEST(ServerNameTableTest, WildcardCoversExactlyOneLabel) {
  ServerNameTable table;
  EXPECT_TRUE(table.add("*.example.com", 3));
  EXPECT_EQ(table.find("a.example.com"), 3);
  EXPECT_EQ(table.find("xn--bcher-kva.example.com"), 3);
  EXPECT_EQ(table.find("example.com"), -1);
  EXPECT_EQ(table.find("a.b.example.com"), -1);
  EXPECT_EQ(table.find(".example.com"), -1);
  EXPECT_EQ(table.find("aexample.com"), -1);
}

TEST(ServerNameTableTest, ExactNameBeatsWildcard) {
  ServerNameTable table;
  EXPECT_TRUE(table.add("*.example.com", 0));
  EXPECT_TRUE(table.add("api.example.com", 1));
  EXPECT_EQ(table.find("api.example.com"), 1);
  EXPECT_EQ(table.find("www.example.com"), 0);
}

TEST(ServerNameTableTest, CaseInsensitive) {
  ServerNameTable table;
  EXPECT_TRUE(table.add("API.Example.com", 0));
  EXPECT_TRUE(table.add("*.EXAMPLE.org", 1));
  EXPECT_EQ(table.find("api.example.COM"), 0);
  EXPECT_EQ(table.find("WWW.example.org"), 1);
  EXPECT_FALSE(table.add("api.example.com", 2));
}

TEST(ServerNameTableTest, OneTrailingDotIsIgnored) {
  ServerNameTable table;
  EXPECT_TRUE(table.add("api.example.com", 0));
  EXPECT_TRUE(table.add("*.example.org", 1));
  EXPECT_EQ(table.find("api.example.com."), 0);
  EXPECT_EQ(table.find("a.example.org."), 1);
  EXPECT_EQ(table.find("api.example.com.."), -1);
}

TEST(ServerNameTableTest, FirstOneWins) {
  ServerNameTable table;
  EXPECT_TRUE(table.add("api.example.com", 0));
  EXPECT_TRUE(table.add("*.example.com", 1));
  EXPECT_FALSE(table.add("api.example.com", 2));
  EXPECT_FALSE(table.add("*.example.com", 3));
  EXPECT_EQ(table.find("api.example.com"), 0);
  EXPECT_EQ(table.find("b.example.com"), 1);
}

TEST(ServerNameTableTest, OverlongNamesMatchNothing) {
  ServerNameTable table;
  const std::string label(63, 'a');
  const std::string name = label + "." + label + "." + label + "." + label + "." + label;
  EXPECT_TRUE(table.add(name, 0));
  EXPECT_EQ(table.find(name), -1);  // 319 bytes: longer than any DNS name
  EXPECT_TRUE(table.add(label + ".com", 1));
  EXPECT_EQ(table.find(label + ".com"), 1);
}

}  // namespace
}  // namespace portico::tls

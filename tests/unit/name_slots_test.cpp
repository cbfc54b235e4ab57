#include "upstream/NameSlots.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace portico::upstream {
namespace {

using Slots = std::vector<std::optional<config::SocketAddress>>;

// "IP" (IPv4 or IPv6, without brackets) and a port, as the resolver would give them.
config::SocketAddress addr(const std::string& ip, uint16_t port) {
  config::SocketAddress a;
  if (ip.find(':') != std::string::npos) {
    auto& s = reinterpret_cast<sockaddr_in6&>(a.storage);
    s.sin6_family = AF_INET6;
    s.sin6_port = htons(port);
    if (inet_pton(AF_INET6, ip.c_str(), &s.sin6_addr) != 1) throw std::invalid_argument(ip);
    a.length = sizeof(sockaddr_in6);
    a.text = "[" + ip + "]:" + std::to_string(port);
  } else {
    auto& s = reinterpret_cast<sockaddr_in&>(a.storage);
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    if (inet_pton(AF_INET, ip.c_str(), &s.sin_addr) != 1) throw std::invalid_argument(ip);
    a.length = sizeof(sockaddr_in);
    a.text = ip + ":" + std::to_string(port);
  }
  return a;
}

// What a slot holds, read from the socket address itself (not from `text`): "ip:port",
// "[ip6]:port", or "-" when empty.
std::string describe(const std::optional<config::SocketAddress>& slot) {
  if (!slot) return "-";
  char buf[INET6_ADDRSTRLEN] = {};
  if (slot->storage.ss_family == AF_INET) {
    const auto& s = reinterpret_cast<const sockaddr_in&>(slot->storage);
    inet_ntop(AF_INET, &s.sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(s.sin_port));
  }
  if (slot->storage.ss_family == AF_INET6) {
    const auto& s = reinterpret_cast<const sockaddr_in6&>(slot->storage);
    inet_ntop(AF_INET6, &s.sin6_addr, buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(ntohs(s.sin6_port));
  }
  return "?";
}

std::vector<std::string> describe(const Slots& slots) {
  std::vector<std::string> out;
  for (const auto& s : slots) out.push_back(describe(s));
  return out;
}

// kSlotsPerName slots: the given ones first, the rest empty.
Slots slots_of(std::vector<std::optional<config::SocketAddress>> first) {
  Slots s(kSlotsPerName);
  for (size_t i = 0; i < first.size(); ++i) s.at(i) = first[i];
  return s;
}

// The expected description of kSlotsPerName slots: the given ones first, the rest "-".
std::vector<std::string> expect(std::vector<std::string> first) {
  first.resize(kSlotsPerName, "-");
  return first;
}

const config::SocketAddress kA = addr("10.0.0.1", 80);
const config::SocketAddress kB = addr("10.0.0.2", 80);
const config::SocketAddress kC = addr("10.0.0.3", 80);
const config::SocketAddress kD = addr("10.0.0.4", 80);
const config::SocketAddress kE = addr("10.0.0.5", 80);
const config::SocketAddress kV6 = addr("2001:db8::1", 80);

TEST(AssignSlots, EmptySlotsAreFilledInResolverOrder) {
  Slots current = slots_of({});
  std::vector<config::SocketAddress> resolved = {kB, kV6, kA, kC};
  SlotAssignment out = assign_slots(current, resolved);
  ASSERT_EQ(out.slots.size(), kSlotsPerName);
  EXPECT_EQ(describe(out.slots),
            expect({"10.0.0.2:80", "[2001:db8::1]:80", "10.0.0.1:80", "10.0.0.3:80"}));
  EXPECT_EQ(out.dropped, 0u);
}

TEST(AssignSlots, AStillResolvedAddressKeepsItsSlotWhenTheOrderChanges) {
  Slots current = slots_of({kA, kB, kC});
  std::vector<config::SocketAddress> resolved = {kC, kA, kB};
  SlotAssignment out = assign_slots(current, resolved);
  EXPECT_EQ(describe(out.slots), expect({"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}));
  EXPECT_EQ(out.dropped, 0u);
}

TEST(AssignSlots, AVanishedAddressEmptiesItsSlotAndTheOthersStay) {
  Slots current = slots_of({kA, kB, kC});
  std::vector<config::SocketAddress> resolved = {kC, kA};
  SlotAssignment out = assign_slots(current, resolved);
  EXPECT_EQ(describe(out.slots), expect({"10.0.0.1:80", "-", "10.0.0.3:80"}));
  EXPECT_EQ(out.dropped, 0u);
}

TEST(AssignSlots, ANewAddressTakesTheLowestEmptySlot) {
  Slots current = slots_of({kA, std::nullopt, kC});
  std::vector<config::SocketAddress> resolved = {kD, kC, kA, kE};
  SlotAssignment out = assign_slots(current, resolved);
  EXPECT_EQ(describe(out.slots),
            expect({"10.0.0.1:80", "10.0.0.4:80", "10.0.0.3:80", "10.0.0.5:80"}));
  EXPECT_EQ(out.dropped, 0u);
}

TEST(AssignSlots, ANewAddressCanTakeTheSlotOfOneThatVanishedInTheSameRound) {
  Slots current = slots_of({kA, kB, kC});
  std::vector<config::SocketAddress> resolved = {kC, kD};
  SlotAssignment out = assign_slots(current, resolved);
  EXPECT_EQ(describe(out.slots), expect({"10.0.0.4:80", "-", "10.0.0.3:80"}));
  EXPECT_EQ(out.dropped, 0u);
}

TEST(AssignSlots, DuplicatesInResolvedOccupyOneSlot) {
  Slots current = slots_of({});
  std::vector<config::SocketAddress> resolved = {kA, kA, kB, kA, kB};
  SlotAssignment out = assign_slots(current, resolved);
  EXPECT_EQ(describe(out.slots), expect({"10.0.0.1:80", "10.0.0.2:80"}));
  EXPECT_EQ(out.dropped, 0u);
}

TEST(AssignSlots, ADuplicateOfAKeptAddressDoesNotTakeAnotherSlot) {
  Slots current = slots_of({std::nullopt, kA});
  std::vector<config::SocketAddress> resolved = {kA, kB, kA};
  SlotAssignment out = assign_slots(current, resolved);
  EXPECT_EQ(describe(out.slots), expect({"10.0.0.2:80", "10.0.0.1:80"}));
  EXPECT_EQ(out.dropped, 0u);
}

TEST(AssignSlots, DuplicatesDifferingOnlyInTextCountOnce) {
  config::SocketAddress a2 = kA;
  a2.text = "other-spelling:80";
  Slots current = slots_of({});
  std::vector<config::SocketAddress> resolved = {kA, a2};
  SlotAssignment out = assign_slots(current, resolved);
  EXPECT_EQ(describe(out.slots), expect({"10.0.0.1:80"}));
}

TEST(AssignSlots, MoreAddressesThanSlotsAreDroppedAndCounted) {
  std::vector<config::SocketAddress> resolved;
  for (int i = 1; i <= static_cast<int>(kSlotsPerName) + 2; ++i)
    resolved.push_back(addr("10.1.0." + std::to_string(i), 443));
  // A repeated extra address is one more dropped address, not two.
  resolved.push_back(resolved.back());
  Slots current = slots_of({});
  SlotAssignment out = assign_slots(current, resolved);
  std::vector<std::string> want;
  for (size_t i = 1; i <= kSlotsPerName; ++i)
    want.push_back("10.1.0." + std::to_string(i) + ":443");
  EXPECT_EQ(describe(out.slots), want) << "the first addresses in resolver order get the slots";
  EXPECT_EQ(out.dropped, 2u);
}

TEST(AssignSlots, FullSlotsKeepTheirAddressesAndANewOneIsDropped) {
  std::vector<config::SocketAddress> all;
  for (size_t i = 1; i <= kSlotsPerName; ++i)
    all.push_back(addr("10.2.0." + std::to_string(i), 8080));
  Slots current(all.begin(), all.end());
  // The new address comes first in the answer; it must not push out an existing one.
  std::vector<config::SocketAddress> resolved = {addr("10.2.0.100", 8080)};
  resolved.insert(resolved.end(), all.rbegin(), all.rend());
  SlotAssignment out = assign_slots(current, resolved);
  EXPECT_EQ(describe(out.slots), describe(current));
  EXPECT_EQ(out.dropped, 1u);
}

TEST(AssignSlots, EmptyResolvedEmptiesEverySlot) {
  Slots current = slots_of({kA, std::nullopt, kB, kV6});
  SlotAssignment out = assign_slots(current, std::span<const config::SocketAddress>{});
  EXPECT_EQ(describe(out.slots), expect({}));
  EXPECT_EQ(out.dropped, 0u);
}

TEST(AssignSlots, NoSlotsDropsEverything) {
  std::vector<config::SocketAddress> resolved = {kA, kB, kA};
  SlotAssignment out =
      assign_slots(std::span<const std::optional<config::SocketAddress>>{}, resolved);
  EXPECT_TRUE(out.slots.empty());
  EXPECT_EQ(out.dropped, 2u);
}

TEST(AssignSlots, TheSameIpOnAnotherPortIsAnotherAddress) {
  Slots current = slots_of({addr("10.0.0.1", 80)});
  std::vector<config::SocketAddress> resolved = {addr("10.0.0.1", 81)};
  SlotAssignment out = assign_slots(current, resolved);
  EXPECT_EQ(describe(out.slots), expect({"10.0.0.1:81"}));
}

TEST(SameAddress, EqualIgnoringText) {
  config::SocketAddress a = addr("127.0.0.1", 8080);
  config::SocketAddress b = addr("127.0.0.1", 8080);
  b.text = "localhost:8080";
  EXPECT_TRUE(same_address(a, b));
  EXPECT_TRUE(same_address(b, a));

  config::SocketAddress c = addr("::1", 8080);
  config::SocketAddress d = addr("0:0:0:0:0:0:0:1", 8080);
  EXPECT_NE(c.text, d.text);
  EXPECT_TRUE(same_address(c, d));
}

TEST(SameAddress, DiffersByPort) {
  EXPECT_FALSE(same_address(addr("127.0.0.1", 8080), addr("127.0.0.1", 8081)));
  EXPECT_FALSE(same_address(addr("::1", 8080), addr("::1", 8081)));
}

TEST(SameAddress, DiffersByIp) {
  EXPECT_FALSE(same_address(addr("127.0.0.1", 8080), addr("127.0.0.2", 8080)));
  EXPECT_FALSE(same_address(addr("2001:db8::1", 8080), addr("2001:db8::2", 8080)));
}

TEST(SameAddress, DiffersByFamily) {
  // The IPv4-mapped IPv6 form of the same IPv4 address is still another family.
  EXPECT_FALSE(same_address(addr("127.0.0.1", 8080), addr("::ffff:127.0.0.1", 8080)));
  EXPECT_FALSE(same_address(addr("::ffff:127.0.0.1", 8080), addr("127.0.0.1", 8080)));
  EXPECT_FALSE(same_address(addr("0.0.0.0", 8080), addr("::", 8080)));
}

TEST(SameAddress, IgnoresBytesOutsideTheAddress) {
  // Garbage after the sockaddr_in part of the storage (e.g. left over from an earlier
  // address) does not make two equal addresses differ.
  config::SocketAddress a = addr("127.0.0.1", 8080);
  config::SocketAddress b = addr("127.0.0.1", 8080);
  reinterpret_cast<sockaddr_in&>(b.storage).sin_zero[0] = 1;
  reinterpret_cast<unsigned char*>(&b.storage)[sizeof(sockaddr_in) + 4] = 0xAB;
  EXPECT_TRUE(same_address(a, b));
}

}  // namespace
}  // namespace portico::upstream

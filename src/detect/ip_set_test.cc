#include "detect/ip_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace flowlake {
namespace {

IpSet MustParse(std::string_view text) {
  Result<IpSet> set = IpSet::Parse(text, "list.txt");
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return set.ok() ? std::move(set).value() : IpSet();
}

struct Probe {
  const char* address;
  bool contained;
};

void ExpectProbes(const IpSet& set, const std::vector<Probe>& probes) {
  for (const Probe& p : probes) {
    EXPECT_EQ(set.Contains(std::string_view(p.address)), p.contained) << p.address;
  }
}

TEST(IpSetTest, EmptySetContainsNothing) {
  IpSet set = MustParse("");
  EXPECT_TRUE(set.empty());
  ExpectProbes(set, {{"0.0.0.0", false}, {"::", false}, {"10.0.0.1", false}});
}

TEST(IpSetTest, Ipv4ExactAddress) {
  IpSet set = MustParse("192.0.2.1\n");
  ExpectProbes(set, {{"192.0.2.0", false}, {"192.0.2.1", true}, {"192.0.2.2", false}});
}

TEST(IpSetTest, Ipv4PrefixBoundaries) {
  IpSet set = MustParse("10.0.0.0/8\n192.0.2.128/25\n198.51.100.7/32\n");
  ExpectProbes(set, {
                        {"9.255.255.255", false},
                        {"10.0.0.0", true},
                        {"10.123.45.67", true},
                        {"10.255.255.255", true},
                        {"11.0.0.0", false},
                        {"192.0.2.127", false},
                        {"192.0.2.128", true},
                        {"192.0.2.255", true},
                        {"192.0.3.0", false},
                        {"198.51.100.6", false},
                        {"198.51.100.7", true},
                        {"198.51.100.8", false},
                    });
}

TEST(IpSetTest, Ipv4SlashZeroIsAllOfIpv4AndNothingElse) {
  IpSet set = MustParse("0.0.0.0/0\n");
  ExpectProbes(set, {{"0.0.0.0", true},
                     {"255.255.255.255", true},
                     {"::ffff:1.2.3.4", true},  // mapped: it is IPv4
                     {"::1", false},
                     {"2001:db8::1", false}});
}

TEST(IpSetTest, TopOfTheAddressSpace) {
  IpSet set = MustParse(
      "255.255.255.0/24\n255.255.255.255/32\nffff::/16\n"
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128\n");
  EXPECT_EQ(set.stats().ranges_v4, 1u);
  EXPECT_EQ(set.stats().ranges_v6, 1u);
  ExpectProbes(set, {{"255.255.254.255", false},
                     {"255.255.255.0", true},
                     {"255.255.255.255", true},
                     {"fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
                     {"ffff::", true},
                     {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true}});
}

TEST(IpSetTest, Ipv6ExactAndPrefixBoundaries) {
  IpSet set = MustParse("2001:db8::/32\n2001:db8:ffff::1/128\nfe80::1\n2a00:1450:4001::/48\n");
  ExpectProbes(set, {
                        {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false},
                        {"2001:db8::", true},
                        {"2001:db8:1234::5", true},
                        {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true},
                        {"2001:db9::", false},
                        {"fe80::", false},
                        {"fe80::1", true},
                        {"fe80::2", false},
                        {"2a00:1450:4000:ffff:ffff:ffff:ffff:ffff", false},
                        {"2a00:1450:4001::", true},
                        {"2a00:1450:4001:ffff:ffff:ffff:ffff:ffff", true},
                        {"2a00:1450:4002::", false},
                    });
}

TEST(IpSetTest, Ipv6SlashZeroIsAllOfIpv6ButNotIpv4) {
  IpSet set = MustParse("::/0\n");
  ExpectProbes(set, {{"::", true},
                     {"::1", true},
                     {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
                     {"1.2.3.4", false},
                     {"::ffff:1.2.3.4", false}});  // mapped is IPv4: see the header
}

TEST(IpSetTest, HostBitsAreMasked) {
  IpSet set = MustParse("10.0.0.1/8\n2001:db8::1/32\n");
  ExpectProbes(set, {{"10.0.0.0", true},
                     {"10.255.255.255", true},
                     {"11.0.0.0", false},
                     {"2001:db8::", true},
                     {"2001:db8:ffff::", true},
                     {"2001:db9::", false}});
  EXPECT_EQ(set.stats().bad_lines, 0u);
}

TEST(IpSetTest, NestedOverlappingAndAdjacentPrefixesMerge) {
  IpSet set = MustParse(
      "10.1.0.0/16\n"  // nested inside the /8 below, listed first
      "10.0.0.0/8\n"
      "10.200.0.0/16\n"  // nested, listed after
      "172.16.0.0/13\n"  // 172.16-23
      "172.20.0.0/14\n"  // nested at the very end of the /13: 172.20-23
      "172.24.0.0/16\n"  // adjacent: 172.16.0.0 .. 172.24.255.255
      "192.168.0.0/24\n"
      "192.168.2.0/24\n"  // a gap of one /24
      "2001:db8::/32\n2001:db8:1::/48\n2001:db9::/32\n");
  EXPECT_EQ(set.stats().entries, 11u);
  EXPECT_EQ(set.stats().ranges_v4, 4u);
  EXPECT_EQ(set.stats().ranges_v6, 1u);
  ExpectProbes(set, {
                        {"10.1.2.3", true},
                        {"10.200.1.1", true},
                        {"10.255.255.255", true},
                        {"172.15.255.255", false},
                        {"172.16.0.0", true},
                        {"172.23.255.255", true},
                        {"172.24.255.255", true},
                        {"172.25.0.0", false},
                        {"192.168.0.255", true},
                        {"192.168.1.0", false},
                        {"192.168.1.255", false},
                        {"192.168.2.0", true},
                        {"2001:db9:ffff:ffff:ffff:ffff:ffff:ffff", true},
                        {"2001:dba::", false},
                    });
}

TEST(IpSetTest, DuplicatesCountAsEntriesButOneRange) {
  IpSet set = MustParse("10.0.0.1\n10.0.0.1\n10.0.0.1/32\n");
  EXPECT_EQ(set.stats().entries, 3u);
  EXPECT_EQ(set.stats().ranges_v4, 1u);
}

TEST(IpSetTest, CommentsBlankLinesWhitespaceAndCrlf) {
  IpSet set = MustParse(
      "# a blocklist\r\n"
      "\n"
      "   \t\n"
      "  10.0.0.0/8  # the office\r\n"
      "\t2001:db8::1\t\r\n"
      "#192.0.2.1\n"
      "198.51.100.1");  // no final newline
  EXPECT_EQ(set.stats().lines, 7u);
  EXPECT_EQ(set.stats().entries, 3u);
  EXPECT_EQ(set.stats().bad_lines, 0u);
  EXPECT_TRUE(set.errors().empty());
  ExpectProbes(
      set,
      {{"10.9.9.9", true}, {"2001:db8::1", true}, {"192.0.2.1", false}, {"198.51.100.1", true}});
}

TEST(IpSetTest, BadLinesAreCountedWithLineNumbersAndTheRestLoads) {
  Result<IpSet> set = IpSet::Parse(
      "10.0.0.0/8\n"
      "10.0.0.256\n"
      "# fine\n"
      "10.0.0.0/33\n"
      "10.0.0.0/\n"
      "2001:db8::/129\n"
      "hello world # trailing comment\n"
      "10.0.0.0/8/9\n"
      "010.0.0.1\n"
      "1.2.3.4 5.6.7.8\n"
      "10.0.0.0/08\n"
      "10.0.0.0/-1\n"
      "2001:db8:::1\n"
      "192.0.2.1\n",
      "feeds/bad.txt");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->stats().lines, 14u);
  EXPECT_EQ(set->stats().entries, 2u);
  EXPECT_EQ(set->stats().bad_lines, 11u);
  ASSERT_EQ(set->errors().size(), IpSet::kMaxErrors);
  const std::vector<std::string> expected = {
      "feeds/bad.txt:2: not an IPv4 or IPv6 address: '10.0.0.256'",
      "feeds/bad.txt:4: prefix length is not 0..32: '10.0.0.0/33'",
      "feeds/bad.txt:5: prefix length is not 0..32: '10.0.0.0/'",
      "feeds/bad.txt:6: prefix length is not 0..128: '2001:db8::/129'",
      "feeds/bad.txt:7: not an IPv4 or IPv6 address: 'hello world'",
      "feeds/bad.txt:8: prefix length is not 0..32: '10.0.0.0/8/9'",
      "feeds/bad.txt:9: not an IPv4 or IPv6 address: '010.0.0.1'",
      "feeds/bad.txt:10: not an IPv4 or IPv6 address: '1.2.3.4 5.6.7.8'",
      "feeds/bad.txt:11: prefix length is not 0..32: '10.0.0.0/08'",
      "feeds/bad.txt:12: prefix length is not 0..32: '10.0.0.0/-1'",
  };
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(set->errors()[i], expected[i]);
  EXPECT_TRUE(set->Contains(std::string_view("10.1.1.1")));
  EXPECT_TRUE(set->Contains(std::string_view("192.0.2.1")));
}

TEST(IpSetTest, LongBadLineIsQuotedShort) {
  const std::string junk(500, 'x');
  Result<IpSet> set = IpSet::Parse("10.0.0.1\n" + junk + "\n", "l");
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(set->errors().size(), 1u);
  EXPECT_EQ(set->errors()[0],
            "l:2: not an IPv4 or IPv6 address: '" + std::string(80, 'x') + "...'");
}

TEST(IpSetTest, NoValidLineAtAllIsAnError) {
  Result<IpSet> set = IpSet::Parse("<html>\n<body>Not Found</body>\n# c\n", "feeds/x.txt");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(set.status().message(),
            "feeds/x.txt: no valid entry in 2 non-comment lines (first: feeds/x.txt:1: not an "
            "IPv4 or IPv6 address: '<html>')");
}

TEST(IpSetTest, OnlyCommentsIsAnEmptySetNotAnError) {
  IpSet set = MustParse("# nothing listed today\n\n");
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.stats().lines, 2u);
}

TEST(IpSetTest, MappedAddressesAreIpv4) {
  IpSet set = MustParse("::ffff:10.0.0.0/104\n192.0.2.1\n::ffff:198.51.100.9\n");
  EXPECT_EQ(set.stats().ranges_v4, 3u);
  EXPECT_EQ(set.stats().ranges_v6, 0u);
  ExpectProbes(set, {
                        {"10.1.2.3", true},
                        {"::ffff:10.1.2.3", true},
                        {"::ffff:a01:203", true},  // the same, in hex
                        {"11.0.0.0", false},
                        {"::ffff:11.0.0.0", false},
                        {"::ffff:192.0.2.1", true},
                        {"198.51.100.9", true},
                        {"198.51.100.10", false},
                        {"::10.1.2.3", false},  // IPv4-compatible, not mapped: IPv6
                    });
}

TEST(IpSetTest, MappedSlash96IsAllOfIpv4) {
  IpSet set = MustParse("::ffff:0:0/96\n");
  ExpectProbes(set, {{"0.0.0.0", true}, {"255.255.255.255", true}, {"::1", false}});
}

TEST(IpSetTest, ShortIpv6PrefixOverTheMappedBlockStaysIpv6) {
  IpSet set = MustParse("::/64\n");
  ExpectProbes(set, {{"::1", true}, {"::ffff:1.2.3.4", false}, {"1.2.3.4", false}});
}

TEST(IpSetTest, ContainsTakesDecoderAddresses) {
  IpSet set = MustParse("10.0.0.0/8\n2001:db8::/32\n");
  IpAddress ip;
  ASSERT_TRUE(ParseIpv4("10.2.3.4", &ip));
  EXPECT_TRUE(set.Contains(ip));
  ASSERT_TRUE(ParseIpv6Bytes("2001:db8::42", &ip));
  EXPECT_TRUE(set.Contains(ip));
  ASSERT_TRUE(ParseIpv6("2001:db9::42", &ip));
  EXPECT_FALSE(set.Contains(ip));
  EXPECT_TRUE(set.ContainsV4(0x0a000001));
  EXPECT_FALSE(set.ContainsV4(0x0b000001));
  EXPECT_TRUE(set.ContainsHalves(0, 0xffff0a000001));  // ::ffff:10.0.0.1 is IPv4
  EXPECT_FALSE(set.ContainsHalves(0, 0x0a000001));     // ::10.0.0.1 is IPv6
  EXPECT_TRUE(set.ContainsHalves(0x20010db800000000, 42));
  EXPECT_FALSE(set.ContainsHalves(0x20010db900000000, 42));
  IpAddress none;  // family 0: nothing
  EXPECT_FALSE(set.Contains(none));
  EXPECT_FALSE(set.Contains(std::string_view("not an address")));
  EXPECT_FALSE(set.Contains(std::string_view("10.0.0.0/8")));  // a prefix is not an address
  EXPECT_FALSE(set.Contains(std::string_view(" 10.0.0.1")));
}

// The oracle: a prefix matched bit by bit, no ranges, no merging.
struct NaivePrefix {
  uint8_t family;
  uint8_t bytes[16];
  int length;

  bool Matches(const IpAddress& ip) const {
    if (ip.family != family) return false;
    for (int bit = 0; bit < length; ++bit) {
      const int shift = 7 - bit % 8;
      if (((ip.bytes[bit / 8] >> shift) & 1) != ((bytes[bit / 8] >> shift) & 1)) return false;
    }
    return true;
  }
};

// Addresses from a few clusters, so random prefixes overlap and nest and
// random probes hit as well as miss.
IpAddress RandomAddress(std::mt19937_64& rng, bool v6) {
  IpAddress ip;
  for (uint8_t& b : ip.bytes) b = static_cast<uint8_t>(rng());
  if (v6) {
    ip.family = 6;
    ip.bytes[0] = 0x20;
    ip.bytes[1] = 0x01;
    ip.bytes[2] = 0x0d;
    ip.bytes[3] = static_cast<uint8_t>(0xb8 + rng() % 2);
  } else {
    static constexpr uint8_t kFirst[] = {10, 172, 192};
    ip.family = 4;
    ip.bytes[0] = kFirst[rng() % 3];
  }
  return ip;
}

// The 16 bytes as big-endian halves, IPv4 as ::ffff:a.b.c.d.
std::pair<uint64_t, uint64_t> Halves(const IpAddress& ip) {
  uint8_t b[16] = {};
  if (ip.family == 4) {
    b[10] = b[11] = 0xff;
    std::copy(ip.bytes, ip.bytes + 4, b + 12);
  } else {
    std::copy(std::begin(ip.bytes), std::end(ip.bytes), b);
  }
  uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 8; ++i) {
    hi = (hi << 8) | b[i];
    lo = (lo << 8) | b[8 + i];
  }
  return {hi, lo};
}

std::string AddressText(IpAddress ip) {
  if (ip.family == 6) {
    FormatIpv6(&ip);
    return std::string(ip.Text());
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u", ip.bytes[0], ip.bytes[1], ip.bytes[2],
                ip.bytes[3]);
  return buf;
}

TEST(IpSetTest, RandomizedAgainstLinearScan) {
  std::mt19937_64 rng(20261204);
  std::vector<NaivePrefix> prefixes;
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    const bool v6 = rng() % 2 == 0;
    const IpAddress ip = RandomAddress(rng, v6);
    int length;
    // Mostly long prefixes, and a few short ones that swallow many others.
    const bool short_prefix = rng() % 50 == 0;
    if (v6) {
      length = short_prefix ? 33 + static_cast<int>(rng() % 15) : 48 + static_cast<int>(rng() % 81);
    } else {
      length = short_prefix ? 12 + static_cast<int>(rng() % 8) : 20 + static_cast<int>(rng() % 13);
    }
    NaivePrefix p{ip.family, {}, length};
    std::copy(std::begin(ip.bytes), std::end(ip.bytes), p.bytes);
    prefixes.push_back(p);
    text += AddressText(ip) + "/" + std::to_string(length) + "\n";
  }
  Result<IpSet> set = IpSet::Parse(text, "random");
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(set->stats().entries, 3000u);

  int hits = 0;
  int misses = 0;
  for (int i = 0; i < 4000; ++i) {
    IpAddress probe;
    if (i % 2 == 0) {
      // Near a listed prefix: its address with some low bits flipped, often
      // just inside or just outside it.
      const NaivePrefix& p = prefixes[rng() % prefixes.size()];
      probe.family = p.family;
      std::copy(std::begin(p.bytes), std::end(p.bytes), probe.bytes);
      const int width = p.family == 4 ? 32 : 128;
      const int flip_from = std::max(0, p.length - 2);
      for (int bit = flip_from; bit < width; ++bit) {
        if (rng() % 3 == 0) probe.bytes[bit / 8] ^= static_cast<uint8_t>(1 << (7 - bit % 8));
      }
    } else {
      probe = RandomAddress(rng, rng() % 2 == 0);
    }
    bool expected = false;
    for (const NaivePrefix& p : prefixes) {
      if (p.Matches(probe)) {
        expected = true;
        break;
      }
    }
    ASSERT_EQ(set->Contains(probe), expected) << AddressText(probe);
    ASSERT_EQ(set->Contains(std::string_view(AddressText(probe))), expected) << AddressText(probe);
    const auto [hi, lo] = Halves(probe);
    ASSERT_EQ(set->ContainsHalves(hi, lo), expected) << AddressText(probe);
    if (probe.family == 4) {
      // The same address, IPv4-mapped, must give the same answer.
      IpAddress mapped;
      mapped.family = 6;
      mapped.bytes[10] = mapped.bytes[11] = 0xff;
      std::copy(probe.bytes, probe.bytes + 4, mapped.bytes + 12);
      ASSERT_EQ(set->Contains(mapped), expected) << AddressText(probe);
    }
    (expected ? hits : misses)++;
  }
  // The check means something only if both outcomes were exercised plenty.
  EXPECT_GT(hits, 500);
  EXPECT_GT(misses, 500);
  EXPECT_LT(set->stats().ranges_v4 + set->stats().ranges_v6, 3000u);  // some merged
}

// ParseIpHalves must accept exactly what the decoder's parsers accept, with
// the same bytes: its own dotted-quad and hex IPv6 paths are checked against
// ParseIpv4 / ParseIpv6Bytes (inet_pton) on valid forms, their near misses
// and random strings over the characters that matter.
std::optional<std::pair<uint64_t, uint64_t>> ReferenceHalves(std::string_view text) {
  IpAddress ip;
  const bool ok =
      text.find(':') != std::string_view::npos ? ParseIpv6Bytes(text, &ip) : ParseIpv4(text, &ip);
  if (!ok) return std::nullopt;
  return Halves(ip);
}

void ExpectSameAsDecoder(std::string_view text) {
  uint64_t hi = 7, lo = 7;
  const bool ok = ParseIpHalves(text, &hi, &lo);
  const auto expected = ReferenceHalves(text);
  ASSERT_EQ(ok, expected.has_value()) << "'" << text << "'";
  if (ok) {
    EXPECT_EQ(hi, expected->first) << text;
    EXPECT_EQ(lo, expected->second) << text;
  } else {
    EXPECT_EQ(hi, 7u);
    EXPECT_EQ(lo, 7u);
  }
}

TEST(ParseIpHalvesTest, SameAsTheDecoderOnTable) {
  const char* const cases[] = {
      "0.0.0.0", "1.2.3.4", "10.0.0.1", "255.255.255.255", "256.0.0.1", "1.2.3", "1.2.3.4.5",
      "01.2.3.4", "1.2.3.04", "1.2.3.4 ", " 1.2.3.4", "1..3.4", "1.2.3.", ".1.2.3", "1234.1.1.1",
      "1.2.3.4/8", "1.2.3.-4", "a.b.c.d", "", ":", "::", ":::", "::1", "1::", "1:", ":1", "1::2::3",
      "2001:db8::1", "2001:DB8::A", "2001:0db8:0000:0000:0000:0000:0000:0001",
      "2001:db8:0:0:0:0:0:1:2", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7::8", "1:2:3:4:5:6:7:8:", "12345::", "fe80::1%eth0", "::ffff:1.2.3.4",
      "::1.2.3.4", "::ffff:10.0.0.1", "64:ff9b::192.0.2.33", "g::1", "::ffff:0a00:0001",
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0:0:0:0:0:0:0:0",
      "1111:2222:3333:4444:5555:6666:7777:8888:"};
  for (const char* text : cases) ExpectSameAsDecoder(text);
  ExpectSameAsDecoder(std::string_view("::1\0x", 5));  // inet_pton stops at the NUL
  ExpectSameAsDecoder(std::string_view("1.2.3.4\0", 8));
}

TEST(ParseIpHalvesTest, SameAsTheDecoderOnRandomText) {
  std::mt19937_64 rng(20261205);
  const std::string_view alphabet("0123456789abcdefABCDEFg:.:.: /%", 31);
  const std::string_view seeds[] = {"10.1.2.3", "192.168.100.200", "2001:db8::42",
                                    "fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4", "::"};
  for (int i = 0; i < 200000; ++i) {
    std::string text;
    if (i % 2 == 0) {
      const size_t n = rng() % 20;
      for (size_t k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
    } else {
      // A valid address with one or two characters replaced, inserted or
      // removed.
      text = std::string(seeds[rng() % std::size(seeds)]);
      for (int edits = 1 + static_cast<int>(rng() % 2); edits > 0; --edits) {
        const size_t at = text.empty() ? 0 : rng() % text.size();
        const char c = alphabet[rng() % alphabet.size()];
        switch (rng() % 3) {
          case 0:
            if (!text.empty()) text[at] = c;
            break;
          case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c); break;
          default:
            if (!text.empty()) text.erase(at, 1);
        }
      }
    }
    ExpectSameAsDecoder(text);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace flowlake

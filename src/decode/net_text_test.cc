#include "decode/net_text.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <string_view>

namespace flowlake {
namespace {

TEST(NetTextTest, Ipv4AgreesWithInetPton) {
  const char* cases[] = {"0.0.0.0",   "10.20.1.15",  "255.255.255.255", "256.1.1.1",
                         "1.2.3",     "1.2.3.4.5",   "01.2.3.4",        "1.2.3.04",
                         "1.2.3.4 ",  " 1.2.3.4",    "1..3.4",          "a.b.c.d",
                         "1.2.3.-4",  "1.2.3.4\n",   "1234.1.1.1",      "1.2.3.",
                         "0.0.0.00",  "192.0.2.200", "1.2.3.4/24",      "::"};
  for (const char* s : cases) {
    in_addr want;
    bool pton = inet_pton(AF_INET, s, &want) == 1;
    IpAddress got;
    EXPECT_EQ(ParseIpv4(s, &got), pton) << s;
    if (pton) {
      EXPECT_EQ(std::memcmp(got.bytes, &want, 4), 0) << s;
      EXPECT_EQ(got.Text(), s);
      EXPECT_EQ(got.family, 4);
    }
  }
}

TEST(NetTextTest, Ipv6IsCanonicalised) {
  struct Case {
    const char* in;
    const char* want;  // nullptr = invalid
  } cases[] = {
      {"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
      {"2001:db8:10::15", "2001:db8:10::15"},
      {"2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"},
      {"::ffff:10.0.0.1", "::ffff:10.0.0.1"},
      {"FE80::1", "fe80::1"},
      {"::", "::"},
      {"0:0:0:0:0:0:0:0", "::"},
      {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
      {"1::2::3", nullptr},
      {"fe80::1%eth0", nullptr},
      {"10.0.0.1", nullptr},
      {"12345::", nullptr},
      {"", nullptr},
  };
  for (const Case& c : cases) {
    IpAddress got;
    bool ok = ParseIpv6(c.in, &got);
    EXPECT_EQ(ok, c.want != nullptr) << c.in;
    if (ok && c.want) {
      EXPECT_EQ(got.Text(), c.want) << c.in;
    }
  }
}

// FormatIpv6 replaces inet_ntop: every pattern of zero and non-zero groups
// (where the "::" goes, ties, IPv4-compatible and -mapped forms), with
// group values of every hex width, prints exactly as glibc does.
TEST(NetTextTest, FormatIpv6MatchesInetNtop) {
  std::mt19937_64 rng(42);
  const unsigned values[] = {0x1, 0xa, 0x10, 0xff, 0x100, 0xfff, 0x1000, 0xffff};
  for (unsigned pattern = 0; pattern < 256 * 3; ++pattern) {
    for (int round = 0; round < 8; ++round) {
      IpAddress ip;
      ip.family = 6;
      for (int g = 0; g < 8; ++g) {
        unsigned v = 0;
        if (pattern & (1u << g)) {
          v = round == 0 ? values[g] : static_cast<unsigned>(1 + rng() % 0xffff);
        }
        if (pattern >= 256 && g == 5 && (pattern & 0xff) < 0x20) v = 0xffff;  // ::ffff:a.b.c.d
        if (pattern >= 512 && g >= 6) v = static_cast<unsigned>(rng() % 0x10000);
        ip.bytes[2 * g] = static_cast<uint8_t>(v >> 8);
        ip.bytes[2 * g + 1] = static_cast<uint8_t>(v);
      }
      char want[INET6_ADDRSTRLEN];
      ASSERT_NE(inet_ntop(AF_INET6, ip.bytes, want, sizeof(want)), nullptr);
      FormatIpv6(&ip);
      ASSERT_EQ(ip.Text(), std::string_view(want)) << "pattern " << pattern;
    }
  }
}

TEST(NetTextTest, Unspecified) {
  IpAddress a;
  ASSERT_TRUE(ParseIpv4("0.0.0.0", &a));
  EXPECT_TRUE(a.IsUnspecified());
  ASSERT_TRUE(ParseIpv4("0.0.0.1", &a));
  EXPECT_FALSE(a.IsUnspecified());
  ASSERT_TRUE(ParseIpv6("0::0", &a));
  EXPECT_TRUE(a.IsUnspecified());
  ASSERT_TRUE(ParseIpv6("::1", &a));
  EXPECT_FALSE(a.IsUnspecified());
}

TEST(NetTextTest, Mac) {
  char out[kMacTextSize];
  ASSERT_TRUE(ParseMac("00:25:90:D4:CC:F9", out));
  EXPECT_EQ(std::string(out, kMacTextSize), "00:25:90:d4:cc:f9");
  EXPECT_FALSE(ParseMac("00:25:90:D4:CC:F", out));
  EXPECT_FALSE(ParseMac("00-25-90-D4-CC-F9", out));
  EXPECT_FALSE(ParseMac("00:25:90:D4:CC:G9", out));
  EXPECT_FALSE(ParseMac("00:25:90:D4:CC:F9:", out));
  EXPECT_FALSE(ParseMac("0025.90D4.CCF9", out));
}

}  // namespace
}  // namespace flowlake

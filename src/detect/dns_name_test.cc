#include "detect/dns_name.h"

#include <string>

#include <gtest/gtest.h>

namespace flowlake {
namespace {

TEST(RegisteredDomainTest, Table) {
  const struct {
    std::string_view query;
    std::string_view domain;
  } kCases[] = {
      {"www.google.com", "google.com"},
      {"google.com", "google.com"},
      {"com", "com"},
      {"", ""},
      {"a.b.c.d.example.org.", "example.org"},
      {"news.bbc.co.uk", "bbc.co.uk"},
      {"bbc.co.uk", "bbc.co.uk"},
      {"co.uk", "co.uk"},
      {"x.y.abc.net.au", "abc.net.au"},
      {"shop.example.com.br", "example.com.br"},
      {"www.ox.ac.uk", "ox.ac.uk"},
      {"www.Example.CO.JP", "Example.CO.JP"},
      {"t.cdn-metrics-sync.com", "cdn-metrics-sync.com"},
      {"1.0.20.10.in-addr.arpa", "in-addr.arpa"},
      {"mail.example.co", "example.co"},  // "co" is a TLD here, not a second level
      {"a.org.example", "org.example"},   // a second level only under a 2-letter TLD
      {"browser-intake-datadoghq.eu", "browser-intake-datadoghq.eu"},
  };
  for (const auto& c : kCases) EXPECT_EQ(RegisteredDomain(c.query), c.domain) << c.query;
}

TEST(LabelEntropyTest, Table) {
  EXPECT_DOUBLE_EQ(LabelEntropyBits(""), 0);
  EXPECT_DOUBLE_EQ(LabelEntropyBits("aaaa"), 0);
  EXPECT_DOUBLE_EQ(LabelEntropyBits("ab"), 1);
  EXPECT_DOUBLE_EQ(LabelEntropyBits("abcd"), 2);
  EXPECT_DOUBLE_EQ(LabelEntropyBits("abcdefghijklmnopqrstuvwxyz234567"), 5);
  EXPECT_NEAR(LabelEntropyBits("aab"), 0.918296, 1e-6);
}

constexpr size_t kLong = 52;
constexpr double kBits = 4.0;

TEST(IsSuspiciousQueryTest, Table) {
  const std::string label53(53, 'a');
  const std::string label52(52, 'a');
  const struct {
    std::string query;
    bool suspicious;
  } kCases[] = {
      // The synth tunnel: 56 base32 chars, a session, a counter.
      {"gtlh3b4fupk5haisac75ysaocrnaehw733ttd5evla6mbolqyonxpjja.oyqyfn.115.t.cdn-metrics-sync.com",
       true},
      {label53 + ".example.com", true},   // longer than 52: suspicious, whatever its entropy
      {label52 + ".example.com", false},  // 52, one repeated letter: neither rule
      {"example.com", false},
      {"www.google.com", false},
      {std::string("a.") + label53 + ".com", false},  // the long label is the registered domain
      // >= 20 chars, >= 4 bits/char: a random-looking label.
      {"q7xk2mz9vbw4nr8tlp3hcy6d.example.com", true},
      // 19 chars of high entropy: too short to judge.
      {"q7xk2mz9vbw4nr8tlp3.example.com", false},
      // The benign names nearest the threshold (3.6-3.9 bits).
      {"browser-intake-datadoghq.eu", false},
      {"rr2---sn-uxaxjvhxbt2u-j5pz.googlevideo.com", false},
      {"audio-ak-spotify-com.akamaized.net", false},
      {"raw.githubusercontent.com", false},
      {"1.0.20.10.in-addr.arpa", false},
      {"_ldap._tcp.dc._msdcs.corp.example.com", false},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(IsSuspiciousQuery(c.query, kLong, kBits), c.suspicious) << c.query;
  }
}

}  // namespace
}  // namespace flowlake

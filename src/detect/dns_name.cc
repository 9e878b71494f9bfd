#include "detect/dns_name.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace flowlake {

namespace {

// Second-level labels that, under a two-letter country TLD, are public
// suffixes in the Public Suffix List for the countries that use them.
constexpr std::string_view kSecondLevels[] = {"ac",  "co",  "com", "edu", "gov",
                                              "net", "org", "ne",  "or",  "go"};

std::string_view StripTrailingDot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

bool IsPublicSecondLevel(std::string_view second, std::string_view tld) {
  if (tld.size() != 2) return false;  // country TLDs only
  return std::any_of(std::begin(kSecondLevels), std::end(kSecondLevels),
                     [&](std::string_view s) { return EqualsIgnoreCase(s, second); });
}

}  // namespace

std::string_view RegisteredDomain(std::string_view query) {
  const std::string_view name = StripTrailingDot(query);
  const size_t last_dot = name.rfind('.');
  if (last_dot == std::string_view::npos || last_dot == 0) return name;
  const size_t second_dot = name.rfind('.', last_dot - 1);
  if (second_dot == std::string_view::npos) return name;
  const std::string_view tld = name.substr(last_dot + 1);
  const std::string_view second = name.substr(second_dot + 1, last_dot - second_dot - 1);
  if (!IsPublicSecondLevel(second, tld) || second_dot == 0) return name.substr(second_dot + 1);
  const size_t third_dot = name.rfind('.', second_dot - 1);
  return third_dot == std::string_view::npos ? name : name.substr(third_dot + 1);
}

double LabelEntropyBits(std::string_view label) {
  if (label.empty()) return 0;
  std::array<uint32_t, 256> counts{};
  for (const char c : label) ++counts[static_cast<unsigned char>(c)];
  const double n = static_cast<double>(label.size());
  double bits = 0;
  for (const uint32_t k : counts) {
    if (k == 0) continue;
    const double p = k / n;
    bits -= p * std::log2(p);
  }
  return bits;
}

bool IsSuspiciousQuery(std::string_view query, size_t long_label, double entropy_bits) {
  const std::string_view name = StripTrailingDot(query);
  const std::string_view domain = RegisteredDomain(name);
  if (domain.size() >= name.size()) return false;  // nothing left of the registered domain
  std::string_view rest = name.substr(0, name.size() - domain.size() - 1);
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.size() > long_label) return true;
    if (label.size() >= kEntropyMinLabel && LabelEntropyBits(label) >= entropy_bits) return true;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return false;
}

}  // namespace flowlake

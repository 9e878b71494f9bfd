// Validation and canonical text for the addresses in a flow record.
//
// nProbe writes addresses as text; the lake stores one canonical spelling so
// that equal addresses compare equal as strings. IPv4 is a strict dotted quad
// (inet_pton(AF_INET) rules: four decimal octets, no leading zeros); IPv6 is
// whatever inet_pton(AF_INET6) accepts, re-printed as inet_ntop prints it
// (RFC 5952: lowercase, longest zero run compressed). MACs are six
// colon-separated hex pairs, stored lowercase.
//
// All functions are pure and thread-safe; none allocates.
#pragma once

#include <cstdint>
#include <string_view>

namespace flowlake {

struct IpAddress {
  static constexpr size_t kMaxText = 46;  // INET6_ADDRSTRLEN

  uint8_t family = 0;  // 4 or 6
  uint8_t bytes[16] = {};
  char text[kMaxText] = {};
  uint8_t text_size = 0;

  std::string_view Text() const { return {text, text_size}; }
  // "0.0.0.0" or "::" (any spelling of the all-zero address): nProbe's
  // placeholder for "no address of this family".
  bool IsUnspecified() const;
};

// Parse `s`; on success fill `*out` (including canonical text) and return
// true. On failure `*out` is unspecified.
bool ParseIpv4(std::string_view s, IpAddress* out);
bool ParseIpv6(std::string_view s, IpAddress* out);

// ParseIpv6 in two steps, so a decoder only pays for formatting the
// addresses it keeps: ParseIpv6Bytes leaves text_size 0, FormatIpv6 fills
// the canonical text.
bool ParseIpv6Bytes(std::string_view s, IpAddress* out);
void FormatIpv6(IpAddress* ip);

// Parse a MAC "xx:xx:xx:xx:xx:xx" (either case); on success write the 17-char
// lowercase form to `out` and return true.
inline constexpr size_t kMacTextSize = 17;
bool ParseMac(std::string_view s, char out[kMacTextSize]);

}  // namespace flowlake

#include "decode/net_text.h"

#include <arpa/inet.h>

#include <cstring>

namespace flowlake {

bool IpAddress::IsUnspecified() const {
  const size_t n = family == 4 ? 4 : 16;
  for (size_t i = 0; i < n; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

// Hand-written rather than inet_pton/inet_ntop: glibc's inet_ntop formats
// with sprintf, which would cost more than the rest of a flow's decoding. The
// accepted grammar is exactly inet_pton's (checked by the tests and the
// fuzzer's differential oracle), so the input is already canonical.
bool ParseIpv4(std::string_view s, IpAddress* out) {
  if (s.size() < 7 || s.size() > 15) return false;
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
    size_t start = i;
    unsigned v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
      v = v * 10 + static_cast<unsigned>(s[i] - '0');
      ++i;
    }
    const size_t digits = i - start;
    if (digits == 0 || v > 255 || (digits > 1 && s[start] == '0')) return false;
    out->bytes[part] = static_cast<uint8_t>(v);
  }
  if (i != s.size()) return false;
  out->family = 4;
  std::memcpy(out->text, s.data(), s.size());
  out->text_size = static_cast<uint8_t>(s.size());
  return true;
}

bool ParseIpv6Bytes(std::string_view s, IpAddress* out) {
  out->text_size = 0;
  if (s == "::") {  // nProbe's placeholder, on every IPv4 flow
    std::memset(out->bytes, 0, sizeof(out->bytes));
    out->family = 6;
    return true;
  }
  char buf[IpAddress::kMaxText];
  if (s.size() < 2 || s.size() >= sizeof(buf)) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  if (inet_pton(AF_INET6, buf, out->bytes) != 1) return false;
  out->family = 6;
  return true;
}

namespace {

char* PutHex16(unsigned v, char* p) {
  static constexpr char kDigits[] = "0123456789abcdef";
  // "%x": no leading zeros, at least one digit.
  const int digits = v >= 0x1000 ? 4 : v >= 0x100 ? 3 : v >= 0x10 ? 2 : 1;
  for (int d = digits - 1; d >= 0; --d) *p++ = kDigits[(v >> (4 * d)) & 0xF];
  return p;
}

char* PutDecimal8(unsigned v, char* p) {
  if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
  if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
  *p++ = static_cast<char>('0' + v % 10);
  return p;
}

}  // namespace

// glibc's inet_ntop6, without its sprintf per group: the longest run (the
// first of equal ones) of two or more zero groups becomes "::", and
// ::a.b.c.d and ::ffff:a.b.c.d print their last 32 bits as IPv4. The unit
// tests and the fuzzer compare the two.
void FormatIpv6(IpAddress* ip) {
  unsigned words[8];
  for (int i = 0; i < 8; ++i) words[i] = (unsigned{ip->bytes[2 * i]} << 8) | ip->bytes[2 * i + 1];
  // The zero run ending at group i is `run` long; only a strictly longer one
  // replaces the best, so the first wins a tie.
  int best_base = -1, best_len = 0, run = 0;
  for (int i = 0; i < 8; ++i) {
    run = words[i] == 0 ? run + 1 : 0;
    if (run > best_len) {
      best_len = run;
      best_base = i + 1 - run;
    }
  }
  if (best_len < 2) best_base = -1;

  char* p = ip->text;
  for (int i = 0; i < 8; ++i) {
    if (best_base != -1 && i >= best_base && i < best_base + best_len) {
      if (i == best_base) *p++ = ':';
      continue;
    }
    if (i != 0) *p++ = ':';
    if (i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
      for (int b = 12; b < 16; ++b) {
        if (b != 12) *p++ = '.';
        p = PutDecimal8(ip->bytes[b], p);
      }
      break;
    }
    p = PutHex16(words[i], p);
  }
  if (best_base != -1 && best_base + best_len == 8) *p++ = ':';
  ip->text_size = static_cast<uint8_t>(p - ip->text);
}

bool ParseIpv6(std::string_view s, IpAddress* out) {
  if (!ParseIpv6Bytes(s, out)) return false;
  FormatIpv6(out);
  return true;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool ParseMac(std::string_view s, char out[kMacTextSize]) {
  if (s.size() != kMacTextSize) return false;
  for (size_t i = 0; i < kMacTextSize; ++i) {
    char c = s[i];
    if (i % 3 == 2) {
      if (c != ':') return false;
      out[i] = ':';
    } else {
      if (HexValue(c) < 0) return false;
      out[i] = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  return true;
}

}  // namespace flowlake

#include "decode/net_text.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace flowlake {

bool IpAddress::IsUnspecified() const {
  uint64_t lo, hi;
  std::memcpy(&lo, bytes, 8);
  std::memcpy(&hi, bytes + 8, 8);
  if (family == 4) return (lo & 0xFFFFFFFFULL) == 0;  // the first 4 bytes (little-endian)
  return (lo | hi) == 0;
}

namespace {
// Copies n bytes, sizeof(Word) <= n <= 2 * sizeof(Word), as two words.
template <typename Word>
inline void CopyOverlapping(const char* from, size_t n, char* to) {
  Word head, tail;
  std::memcpy(&head, from, sizeof(Word));
  std::memcpy(&tail, from + n - sizeof(Word), sizeof(Word));
  std::memcpy(to, &head, sizeof(Word));
  std::memcpy(to + n - sizeof(Word), &tail, sizeof(Word));
}
}  // namespace

// Hand-written rather than inet_pton/inet_ntop: glibc's inet_ntop formats
// with sprintf, which would cost more than the rest of a flow's decoding. The
// accepted grammar is exactly inet_pton's (checked by the tests and the
// fuzzer's differential oracle), so the input is already canonical.
bool ParseIpv4(std::string_view s, IpAddress* out) {
  if (s.size() < 7 || s.size() > 15) return false;
  const char* p = s.data();
  const char* const end = p + s.size();
  auto digit = [end](const char* q, unsigned* d) {
    if (q == end) return false;
    *d = static_cast<unsigned char>(*q - '0');
    return *d < 10;
  };
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (p == end || *p != '.') return false;
      ++p;
    }
    // One to three digits, no leading zero, at most 255. A fourth digit
    // fails on the '.' (or end) check that follows.
    unsigned v, d;
    if (!digit(p, &v)) return false;
    ++p;
    if (digit(p, &d)) {
      if (v == 0) return false;
      v = v * 10 + d;
      ++p;
      if (digit(p, &d)) {
        v = v * 10 + d;
        ++p;
        if (v > 255) return false;
      }
    }
    out->bytes[part] = static_cast<uint8_t>(v);
  }
  if (p != end) return false;
  out->family = 4;
  // 7 to 15 bytes as two overlapping words: no memcpy call.
  const size_t n = s.size();
  if (n >= 8) {
    CopyOverlapping<uint64_t>(s.data(), n, out->text);
  } else {
    CopyOverlapping<uint32_t>(s.data(), n, out->text);
  }
  out->text_size = static_cast<uint8_t>(n);
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
// Lowercase form of each hex digit; 0 for any other byte.
constexpr std::array<char, 256> kLowerHex = [] {
  std::array<char, 256> t{};
  for (char c = '0'; c <= '9'; ++c) t[static_cast<unsigned char>(c)] = c;
  for (char c = 'a'; c <= 'f'; ++c) {
    t[static_cast<unsigned char>(c)] = c;
    t[static_cast<unsigned char>(c - 'a' + 'A')] = c;
  }
  return t;
}();
}  // namespace

bool ParseMac(std::string_view s, char out[kMacTextSize]) {
  if (s.size() != kMacTextSize) return false;
  for (size_t i = 0; i < kMacTextSize; i += 3) {
    const char hi = kLowerHex[static_cast<unsigned char>(s[i])];
    const char lo = kLowerHex[static_cast<unsigned char>(s[i + 1])];
    if (hi == 0 || lo == 0 || (i + 2 < kMacTextSize && s[i + 2] != ':')) return false;
    out[i] = hi;
    out[i + 1] = lo;
    if (i + 2 < kMacTextSize) out[i + 2] = ':';
  }
  return true;
}

}  // namespace flowlake

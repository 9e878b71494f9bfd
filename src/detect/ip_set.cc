#include "detect/ip_set.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace flowlake {
namespace {

constexpr size_t kMaxQuotedText = 80;  // of a bad line, in errors()

std::string_view Trim(std::string_view s) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Decimal 0..max without sign or leading zeros; -1 if not.
int ParsePrefixLength(std::string_view s, int max) {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return -1;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v <= max ? v : -1;
}

bool IsV4Mapped(const uint8_t bytes[16]) {
  for (int i = 0; i < 10; ++i) {
    if (bytes[i] != 0) return false;
  }
  return bytes[10] == 0xff && bytes[11] == 0xff;
}

uint32_t LoadV4(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

// Sort by first and fold overlapping or adjacent ranges, so that at most one
// range can contain an address and binary search finds it.
template <typename Range>
void SortAndMerge(std::vector<Range>& ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.first < b.first; });
  size_t out = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (out > 0) {
      Range& prev = ranges[out - 1];
      // `prev.last + 1` would wrap at the top of the space; then everything
      // after prev is inside it anyway.
      const bool touches = ranges[i].first <= prev.last || ranges[i].first - 1 == prev.last;
      if (touches) {
        prev.last = std::max(prev.last, ranges[i].last);
        continue;
      }
    }
    ranges[out++] = ranges[i];
  }
  ranges.resize(out);
  ranges.shrink_to_fit();
}

template <typename Range, typename Key>
bool RangesContain(const std::vector<Range>& ranges, Key address) {
  // The last range starting at or before `address` is the only candidate.
  auto it = std::upper_bound(ranges.begin(), ranges.end(), address,
                             [](Key a, const Range& r) { return a < r.first; });
  if (it == ranges.begin()) return false;
  return address <= std::prev(it)->last;
}

// ParseIpv4's strict dotted quad (four decimal parts of 1-3 digits, 0..255,
// no leading zero) into a host-order integer, in one pass over the text.
bool ParseDottedQuad(std::string_view s, uint32_t* out) {
  const size_t n = s.size();
  if (n < 7 || n > 15) return false;
  const char* const p = s.data();
  uint32_t address = 0;
  uint32_t part = 0;
  int digits = 0;  // of `part`
  int dots = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t digit = static_cast<uint32_t>(static_cast<unsigned char>(p[i])) - '0';
    if (digit <= 9) {
      // A fourth digit, or any digit after a leading zero.
      if (digits == 3 || (digits != 0 && part == 0)) return false;
      part = part * 10 + digit;
      ++digits;
    } else if (p[i] == '.') {
      if (digits == 0 || part > 255 || ++dots > 3) return false;
      address = (address << 8) | part;
      part = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (dots != 3 || digits == 0 || part > 255) return false;
  *out = (address << 8) | part;
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// glibc inet_pton6's algorithm, step for step, for text of hex digits and
// colons only. False for anything else (a dotted-quad tail, a NUL, ...),
// which the caller hands to inet_pton itself: so whenever this succeeds,
// inet_pton succeeds with the same bytes.
bool ParseHexIpv6(std::string_view s, uint8_t out[16]) {
  uint8_t tmp[16] = {};
  size_t tp = 0;
  size_t colon = SIZE_MAX;  // where "::" is, in tmp
  const char* p = s.data();
  const char* const end = p + s.size();
  if (p == end) return false;
  if (*p == ':') {  // a leading ':' must be "::"
    ++p;
    if (p == end || *p != ':') return false;
  }
  int digits = 0;
  uint32_t value = 0;
  while (p != end) {
    const char c = *p++;
    const int digit = HexDigit(c);
    if (digit >= 0) {
      if (digits == 4) return false;
      value = (value << 4) | static_cast<uint32_t>(digit);
      ++digits;
      continue;
    }
    if (c != ':') return false;
    if (digits == 0) {
      if (colon != SIZE_MAX) return false;
      colon = tp;
      continue;
    }
    if (p == end || tp + 2 > sizeof(tmp)) return false;  // a trailing single ':', or too long
    tmp[tp++] = static_cast<uint8_t>(value >> 8);
    tmp[tp++] = static_cast<uint8_t>(value);
    digits = 0;
    value = 0;
  }
  if (digits > 0) {
    if (tp + 2 > sizeof(tmp)) return false;
    tmp[tp++] = static_cast<uint8_t>(value >> 8);
    tmp[tp++] = static_cast<uint8_t>(value);
  }
  if (colon != SIZE_MAX) {
    if (tp == sizeof(tmp)) return false;  // "::" would stand for no group
    const size_t n = tp - colon;
    std::memmove(tmp + sizeof(tmp) - n, tmp + colon, n);
    std::memset(tmp + colon, 0, sizeof(tmp) - n - colon);
    tp = sizeof(tmp);
  }
  if (tp != sizeof(tmp)) return false;
  std::memcpy(out, tmp, sizeof(tmp));
  return true;
}

uint64_t LoadBigEndian64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

bool ParseIpHalves(std::string_view text, uint64_t* hi, uint64_t* lo) {
  // Text that ParseIpv4 accepts has no ':', so trying it first decides as
  // the decoder's "':' means IPv6" does.
  uint32_t v4 = 0;
  if (ParseDottedQuad(text, &v4)) {
    *hi = 0;
    *lo = 0xffff00000000ULL | v4;
    return true;
  }
  if (text.find(':') == std::string_view::npos) return false;
  uint8_t bytes[16];
  // ParseIpv6Bytes' length limits, then the fast path, then inet_pton.
  if (text.size() < 2 || text.size() >= IpAddress::kMaxText || !ParseHexIpv6(text, bytes)) {
    IpAddress ip;
    if (!ParseIpv6Bytes(text, &ip)) return false;
    std::memcpy(bytes, ip.bytes, sizeof(bytes));
  }
  *hi = LoadBigEndian64(bytes);
  *lo = LoadBigEndian64(bytes + 8);
  return true;
}

Result<IpSet> IpSet::Parse(std::string_view text, std::string_view source_name) {
  IpSet set;
  uint64_t line_no = 0;
  auto bad_line = [&](std::string_view reason, std::string_view line) {
    ++set.stats_.bad_lines;
    if (set.errors_.size() >= kMaxErrors) return;
    std::string quoted(line.substr(0, kMaxQuotedText));
    if (line.size() > kMaxQuotedText) quoted += "...";
    set.errors_.push_back(std::string(source_name) + ":" + std::to_string(line_no) + ": " +
                          std::string(reason) + ": '" + quoted + "'");
  };

  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_no;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = Trim(line);
    if (line.empty()) continue;

    std::string_view address = line;
    std::string_view length_text;
    const size_t slash = line.find('/');
    if (slash != std::string_view::npos) {
      address = line.substr(0, slash);
      length_text = line.substr(slash + 1);
    }
    IpAddress ip;
    const bool is_v6 = address.find(':') != std::string_view::npos;
    if (!(is_v6 ? ParseIpv6Bytes(address, &ip) : ParseIpv4(address, &ip))) {
      bad_line("not an IPv4 or IPv6 address", line);
      continue;
    }
    const int max_length = is_v6 ? 128 : 32;
    int length = max_length;
    if (slash != std::string_view::npos) {
      length = ParsePrefixLength(length_text, max_length);
      if (length < 0) {
        bad_line(is_v6 ? "prefix length is not 0..128" : "prefix length is not 0..32", line);
        continue;
      }
    }
    ++set.stats_.entries;

    if (is_v6 && IsV4Mapped(ip.bytes) && length >= 96) {
      // ::ffff:a.b.c.d/n is a.b.c.d/(n-96): see the header.
      ip.bytes[0] = ip.bytes[12];
      ip.bytes[1] = ip.bytes[13];
      ip.bytes[2] = ip.bytes[14];
      ip.bytes[3] = ip.bytes[15];
      length -= 96;
    } else if (is_v6) {
      Uint128 a = 0;
      for (uint8_t b : ip.bytes) a = (a << 8) | b;
      const Uint128 host = length == 0 ? ~Uint128{0} : (Uint128{1} << (128 - length)) - 1;
      set.v6_.push_back({a & ~host, a | host});
      continue;
    }
    const uint32_t a = LoadV4(ip.bytes);
    const uint32_t host = length == 0 ? ~uint32_t{0} : (uint32_t{1} << (32 - length)) - 1;
    set.v4_.push_back({a & ~host, a | host});
  }
  set.stats_.lines = line_no;

  if (set.stats_.entries == 0 && set.stats_.bad_lines > 0) {
    std::string message = std::string(source_name) + ": no valid entry in " +
                          std::to_string(set.stats_.bad_lines) + " non-comment lines";
    if (!set.errors_.empty()) message += " (first: " + set.errors_.front() + ")";
    return Status::InvalidArgument(std::move(message));
  }
  SortAndMerge(set.v4_);
  SortAndMerge(set.v6_);
  set.stats_.ranges_v4 = set.v4_.size();
  set.stats_.ranges_v6 = set.v6_.size();
  return set;
}

bool IpSet::ContainsV4(uint32_t address) const { return RangesContain(v4_, address); }

bool IpSet::ContainsV6(Uint128 address) const { return RangesContain(v6_, address); }

bool IpSet::Contains(const IpAddress& ip) const {
  if (ip.family == 4) return ContainsV4(LoadV4(ip.bytes));
  if (ip.family != 6) return false;
  if (IsV4Mapped(ip.bytes)) return ContainsV4(LoadV4(ip.bytes + 12));
  Uint128 a = 0;
  for (uint8_t b : ip.bytes) a = (a << 8) | b;
  return ContainsV6(a);
}

bool IpSet::ContainsHalves(uint64_t hi, uint64_t lo) const {
  if (hi == 0 && (lo >> 32) == 0xffff) return ContainsV4(static_cast<uint32_t>(lo));
  return ContainsV6((Uint128{hi} << 64) | lo);
}

bool IpSet::Contains(std::string_view text) const {
  IpAddress ip;
  const bool parsed =
      text.find(':') != std::string_view::npos ? ParseIpv6Bytes(text, &ip) : ParseIpv4(text, &ip);
  return parsed && Contains(ip);
}

}  // namespace flowlake

#include "detect/ip_set.h"

#include <algorithm>
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

}  // namespace

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

bool IpSet::Contains(std::string_view text) const {
  IpAddress ip;
  const bool parsed =
      text.find(':') != std::string_view::npos ? ParseIpv6Bytes(text, &ip) : ParseIpv4(text, &ip);
  return parsed && Contains(ip);
}

}  // namespace flowlake

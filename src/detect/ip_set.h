// IpSet: an immutable set of IPv4 and IPv6 addresses and CIDR prefixes, built
// from a text list, answering "is this address in the list?".
//
// Representation: per family, a sorted vector of disjoint, non-adjacent
// inclusive ranges [first, last]. Overlapping, nested and adjacent prefixes
// are merged when the set is built, so a lookup is one binary search:
// Contains() is O(log R) for R merged ranges of the address's family (about
// 17 comparisons for 100k entries), with no allocation. Building is
// O(N log N) for N entries. Memory is 8 bytes per IPv4 range and 32 bytes per
// IPv6 range.
//
// IPv4 and IPv6 are separate spaces, with one bridge: an IPv4-mapped IPv6
// address (::ffff:a.b.c.d) IS the IPv4 address a.b.c.d, both as an entry and
// as a lookup. So "::ffff:10.0.0.0/104" is stored as 10.0.0.0/8, and looking
// up ::ffff:10.1.2.3 finds 10.0.0.0/8. An IPv6 prefix shorter than /96 never
// matches an IPv4 (or IPv4-mapped) address: "::/0" means "all of IPv6", not
// "everything". A prefix /96../128 that lies outside ::ffff:0:0/96 stays IPv6.
//
// Thread-safety: immutable once built; any number of threads may call the
// const methods concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "decode/net_text.h"

namespace flowlake {

struct IpSetStats {
  uint64_t lines = 0;      // lines read, including comments and blanks
  uint64_t entries = 0;    // lines that gave an address or prefix
  uint64_t bad_lines = 0;  // lines that did not parse (see IpSet::errors())
  uint64_t ranges_v4 = 0;  // merged IPv4 ranges after overlaps were folded
  uint64_t ranges_v6 = 0;  // merged IPv6 ranges
};

// An address in text (no prefix length) as the two big-endian 64-bit halves
// of its 16 bytes, IPv4 as ::ffff:a.b.c.d: what ContainsHalves() and the
// detectors' tables take. Accepts exactly what the decoder accepts, with the
// same bytes (ParseIpv4 for text without ':', ParseIpv6Bytes with), but
// parses the dotted quad and the plain hex IPv6 forms itself, without an
// IpAddress or a copy: the detectors parse two addresses per flow.
// Returns false, leaving *hi and *lo unchanged, if `text` is not an address.
bool ParseIpHalves(std::string_view text, uint64_t* hi, uint64_t* lo);

class IpSet {
 public:
  // At most this many bad lines are described in errors(); all are counted.
  static constexpr size_t kMaxErrors = 10;

  // The empty set.
  IpSet() = default;

  // Parse a list: one entry per line, in any of the forms
  //   192.0.2.1        an IPv4 address (strict dotted quad, as ParseIpv4)
  //   192.0.2.0/24     an IPv4 prefix, length 0..32
  //   2001:db8::1      an IPv6 address (inet_pton rules, as ParseIpv6)
  //   2001:db8::/32    an IPv6 prefix, length 0..128
  // Surrounding whitespace is trimmed; blank lines and everything from '#' to
  // the end of a line are ignored; "\r\n" line ends are accepted. Host bits
  // set below the prefix length (10.0.0.1/8) are accepted and masked off
  // (10.0.0.0/8): lists in the wild often spell a network by one of its
  // hosts.
  //
  // A bad line does not fail the parse: it is counted in stats().bad_lines,
  // and the first kMaxErrors are described in errors() as
  // "<source_name>:<line>: <reason>: '<text>'". `source_name` is only used
  // in those messages (usually the file path).
  //
  // Errors: InvalidArgument when the text has bad lines and no good one at
  // all: that is the wrong file (an HTML error page, a binary), not a list
  // with typos, and a reloading caller should keep what it had.
  static Result<IpSet> Parse(std::string_view text, std::string_view source_name);

  // True if `ip` is in the set. `ip` is as filled by ParseIpv4/ParseIpv6/
  // ParseIpv6Bytes (family 4 or 6); any other family is never contained.
  bool Contains(const IpAddress& ip) const;
  // The same for an address in text (no prefix length); false if `text` is
  // not an IPv4 or IPv6 address.
  bool Contains(std::string_view text) const;
  // The same for an IPv4 address as a host-order integer (10.0.0.1 is
  // 0x0a000001).
  bool ContainsV4(uint32_t address) const;
  // The same for a 16-byte address as two big-endian 64-bit halves (IPv4 as
  // ::ffff:a.b.c.d, which is looked up as the IPv4 address): what
  // Contains(IpAddress) answers for those 16 bytes, without an IpAddress.
  bool ContainsHalves(uint64_t hi, uint64_t lo) const;

  bool empty() const { return v4_.empty() && v6_.empty(); }
  const IpSetStats& stats() const { return stats_; }
  // The first kMaxErrors bad lines, in line order.
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  // GCC/Clang's 128-bit integer: __extension__ keeps -Wpedantic quiet.
  __extension__ typedef unsigned __int128 Uint128;

  struct RangeV4 {
    uint32_t first;
    uint32_t last;
  };
  struct RangeV6 {
    Uint128 first;
    Uint128 last;
  };

  bool ContainsV6(Uint128 address) const;

  std::vector<RangeV4> v4_;  // sorted by first; disjoint and non-adjacent
  std::vector<RangeV6> v6_;
  IpSetStats stats_;
  std::vector<std::string> errors_;
};

}  // namespace flowlake

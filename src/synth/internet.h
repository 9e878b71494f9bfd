// Internet: the outside world workstations talk to.
//
// Organisations (Google, Microsoft 365, AWS, GitHub, ...) with the nDPI
// application id nProbe would report for them, the names their servers
// answer to (TLS SNI, DNS queries), and address pools. IPv4 pools are
// prefixes those companies really announce, so the data looks like a real
// capture, plus the documentation ranges (192.0.2/24, 198.51.100/24,
// 203.0.113/24) for generic sites. IPv6 pools are all inside 2001:db8::/32.
//
// Everything here is static data: safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "synth/flow_record.h"

namespace flowlake::synth {

struct Prefix4 {
  uint32_t base;
  uint8_t bits;
};

struct Org {
  std::string_view name;
  uint16_t app_id;  // nDPI application (0: none, the flow is just "TLS")
  std::string_view app_name;
  std::span<const Prefix4> prefixes;
  uint16_t v6_tag;  // servers in 2001:db8:<tag>::/48; 0: IPv4 only
  std::span<const std::string_view> hosts;  // most popular first
  double rtt_ms;       // typical round trip from the enterprise
  double tls_weight;   // share of external TLS flows
  double quic_weight;  // share of QUIC flows (0: no QUIC)
  double size_scale;   // response size multiplier (video, updates)
  double tls13_share;
};

std::span<const Org> Orgs();
// Index in Orgs() of the org with this name; a missing name is a programmer error.
size_t OrgIndex(std::string_view name);
// Server `n` (modulo the pool) of an org; v6 only if org.v6_tag != 0.
IpAddress OrgServer(const Org& org, uint32_t n, bool v6);
constexpr uint32_t kServersPerOrg = 64;

// A plain-HTTP (port 80) endpoint: OS connectivity checks, OCSP, package
// repositories, update CDNs.
struct HttpEndpoint {
  std::string_view host;
  std::string_view method;
  std::string_view path;
  bool random_query;  // append "?" and a cache-busting token
  uint16_t app_id;
  std::string_view app_name;
  uint16_t status;
  double response_bytes;  // median
  double weight;
};
std::span<const HttpEndpoint> HttpEndpoints();
// A few requests carry characters JSON must escape (quotes, backslash, UTF-8).
std::span<const std::string_view> HttpOddPaths();

struct PublicResolver {
  uint32_t v4;
  uint16_t app_id;
  std::string_view app_name;
};
std::span<const PublicResolver> PublicResolvers();

// Internal DNS names of the enterprise (Active Directory domain).
std::span<const std::string_view> InternalNames();
std::span<const std::string_view> IntranetSites();

}  // namespace flowlake::synth

#include "synth/attack_scenario.h"

#include <algorithm>
#include <cassert>
#include <charconv>

#include "core/utc_time.h"
#include "synth/internet.h"
#include "synth/nprobe_json_encoder.h"
#include "synth/rng.h"

namespace flowlake::synth {

namespace {

// Hosting ranges that show up in scanner and brute-force logs.
constexpr Prefix4 kScannerNets[] = {{Ipv4(45, 155, 205, 0), 24}, {Ipv4(89, 248, 165, 0), 24},
                                    {Ipv4(185, 220, 101, 0), 24}, {Ipv4(193, 142, 146, 0), 24},
                                    {Ipv4(5, 188, 206, 0), 24}};
// Public /8s (no private, reserved or documentation space) for spoofed and
// reflected sources.
constexpr uint8_t kPublicSlash8[] = {1,   2,   5,   31,  37,  41,  46,  49,  58,  61,  77,  78,  80,  81,
                                     91,  94,  95,  103, 110, 113, 116, 117, 118, 119, 122, 123, 125, 175,
                                     177, 179, 181, 186, 187, 189, 190, 196, 197, 200, 201, 213, 217, 222};
// Where exfiltrated data goes: a VPS range.
constexpr Prefix4 kDropNets[] = {{Ipv4(45, 133, 1, 0), 24}, {Ipv4(194, 26, 29, 0), 24}};

constexpr uint32_t kBlocklistV4Base = Ipv4(198, 18, 0, 0);  // 198.18.0.0/15
constexpr uint16_t kBlocklistV6Tag = 0x0bad;                // 2001:db8:bad::/48
constexpr std::string_view kBlocklist =
    "# flowlake synth: blocklisted ranges of `flowlake generate --attacks`.\n"
    "# The benign traffic never uses them; attack.blocklist flows always do.\n"
    "198.18.0.0/15\n"
    "2001:db8:bad::/48\n";

constexpr uint64_t kUpstreamRouterMac = 0x00000C9FF001ULL;  // Cisco HSRP-style MAC of the edge router
constexpr std::string_view kTunnelDomain = "cdn-metrics-sync.com";

IpAddress InPrefix(const Prefix4& p, Rng& rng) {
  const uint32_t host_bits = 32 - p.bits;
  // Skip the network and broadcast addresses.
  return IpAddress::V4(p.base | static_cast<uint32_t>(rng.Between(1, (1LL << host_bits) - 2)));
}

template <size_t N>
IpAddress InAny(const Prefix4 (&nets)[N], Rng& rng) {
  return InPrefix(nets[rng.Below(N)], rng);
}

IpAddress PublicAddress(Rng& rng) {
  const uint32_t top = kPublicSlash8[rng.Below(std::size(kPublicSlash8))];
  return IpAddress::V4(top << 24 | static_cast<uint32_t>(rng.Between(0x000101, 0xfffefe)));
}

uint16_t Ephemeral(Rng& rng) { return static_cast<uint16_t>(rng.Between(49152, 65535)); }

// An Internet host's packets arriving at `victim` through the site's edge.
void Inbound(uint32_t probe_index, const Probe& probe, const Host& victim, const IpAddress& src,
             uint8_t protocol, uint16_t dst_port, int64_t start_ms, Rng& rng, FlowRecord* f) {
  f->Reset();
  f->probe = probe_index;
  f->src = src;
  f->dst = victim.v4;
  f->protocol = protocol;
  f->src_port = protocol == 1 ? 0 : Ephemeral(rng);
  f->dst_port = dst_port;
  f->start_ms = f->end_ms = start_ms;
  f->src_mac = kUpstreamRouterMac;
  f->dst_mac = victim.mac;
  f->vlan = victim.vlan;
  f->input_snmp = probe.wan_if;
  f->output_snmp = victim.snmp_if;
  const uint8_t ttl = static_cast<uint8_t>(rng.Chance(0.5) ? 64 - rng.Between(8, 20) : 128 - rng.Between(8, 20));
  f->min_ttl = f->max_ttl = ttl;
}

// An inside host's flow: towards the WAN, or to a server of its site.
void FromInside(uint32_t probe_index, uint16_t output_if, const Host& client, const IpAddress& src,
                const IpAddress& dst, uint8_t protocol, uint16_t dst_port, int64_t start_ms, Rng& rng,
                FlowRecord* f) {
  f->Reset();
  f->probe = probe_index;
  f->src = src;
  f->dst = dst;
  f->protocol = protocol;
  f->src_port = Ephemeral(rng);
  f->dst_port = dst_port;
  f->start_ms = f->end_ms = start_ms;
  f->src_mac = client.mac;
  f->dst_mac = client.gateway_mac;
  f->vlan = client.vlan;
  f->input_snmp = client.snmp_if;
  f->output_snmp = output_if;
  const uint8_t ttl = static_cast<uint8_t>((client.os == HostOs::kWindows ? 128 : 64) - client.hops_to_probe);
  f->min_ttl = f->max_ttl = ttl;
}

void SetL7(uint16_t master, std::string_view master_name, FlowRecord* f) {
  f->l7_master = master;
  f->l7_master_name = master_name;
}

// `count` distinct values from `pool`, in random order (partial Fisher-Yates).
template <typename T>
std::vector<T> Sample(std::vector<T> pool, size_t count, Rng& rng) {
  assert(count <= pool.size());
  for (size_t i = 0; i < count; ++i) std::swap(pool[i], pool[i + rng.Below(pool.size() - i)]);
  pool.resize(count);
  return pool;
}

// Start of flow i of n, spread over [window + 1 s, window + 51 s).
int64_t Spread(int64_t window_ms, size_t i, size_t n) {
  return window_ms + 1000 + static_cast<int64_t>(50000 * i / n);
}

void AppendBase32(uint64_t v, int chars, std::string* out) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  for (int i = 0; i < chars; ++i) {
    out->push_back(kAlphabet[v & 31]);
    v >>= 5;
  }
}

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendIp(const IpAddress& ip, std::string* out) {
  if (ip.is_v6) {
    AppendIpv6(ip.v6, out);
  } else {
    AppendIpv4(ip.v4, out);
  }
}

}  // namespace

std::string_view AttackTypeName(AttackType type) {
  switch (type) {
    case AttackType::kPortScanVertical: return "port_scan.vertical";
    case AttackType::kPortScanHorizontal: return "port_scan.horizontal";
    case AttackType::kSynFlood: return "syn_flood";
    case AttackType::kVolumetric: return "volumetric";
    case AttackType::kIcmpFlood: return "icmp_flood";
    case AttackType::kBlocklist: return "blocklist";
    case AttackType::kDnsTunnel: return "dns_tunnel";
    case AttackType::kExfiltration: return "exfiltration";
    case AttackType::kSuspiciousPort: return "suspicious_port";
    case AttackType::kCount: break;
  }
  return "unknown";
}

std::string FormatUtcSeconds(int64_t epoch_ms) {
  std::string out;
  AppendUtcTimestamp(out, epoch_ms);
  return out;
}

AttackScenario::AttackScenario(const Network& network, int64_t start_ms, int64_t span_ms, uint64_t seed)
    : network_(network) {
  const int64_t first_window = (start_ms + kWindowMs - 1) / kWindowMs * kWindowMs;
  const int64_t end_window = (start_ms + span_ms) / kWindowMs * kWindowMs;  // exclusive
  assert(end_window > first_window);
  const uint64_t windows = static_cast<uint64_t>((end_window - first_window) / kWindowMs);
  Rng rng(Mix64(seed, 0x61747461636bULL));  // "attack"

  const auto add = [&](AttackType type) -> AttackInstance& {
    AttackInstance& a = instances_.emplace_back();
    a.type = type;
    a.window_start_ms = first_window + static_cast<int64_t>(rng.Below(windows)) * kWindowMs;
    a.probe = static_cast<uint32_t>(rng.Below(network_.probe_count()));
    return a;
  };

  {  // Vertical scan: a SYN scan of 250 of the first 1024 ports of one server.
    AttackInstance& a = add(AttackType::kPortScanVertical);
    const Site& site = network_.site(a.probe);
    const Probe& probe = network_.probe(a.probe);
    const Host victim = site.Server(ServerRole::kSshHost, static_cast<uint32_t>(rng.Below(40)));
    const IpAddress attacker = InAny(kScannerNets, rng);
    std::vector<uint16_t> ports;
    for (uint16_t p = 1; p <= 1024; ++p) {
      if (p != 23 && p != 445) ports.push_back(p);
    }
    ports = Sample(std::move(ports), 250, rng);
    const uint16_t src_port = Ephemeral(rng);  // scanners reuse one source port
    for (size_t i = 0; i < ports.size(); ++i) {
      FlowRecord& f = a.flows.emplace_back();
      Inbound(a.probe, probe, victim, attacker, 6, ports[i], Spread(a.window_start_ms, i, ports.size()), rng, &f);
      f.src_port = src_port;
      f.in_pkts = 1;
      f.in_bytes = 44;  // SYN with an MSS option
      f.out_pkts = 1;
      f.out_bytes = 40;
      const bool open = ports[i] == 22 || ports[i] == 80 || ports[i] == 443;
      f.client_tcp_flags = open ? (kSyn | kRst) : kSyn;  // an open port: SYN/ACK back, then RST
      if (open) {
        f.in_pkts += 1;
        f.in_bytes += 40;
      }
      f.server_tcp_flags = open ? (kSyn | kAck) : (kRst | kAck);
      f.end_ms = f.start_ms + rng.Between(0, 2);
    }
    a.has_src = a.has_dst = true;
    a.src = attacker;
    a.dst = victim.v4;
    a.expected_count = ports.size();
    a.count_of = "distinct_dst_ports";
    a.threshold = kVerticalPorts;
  }

  {  // Horizontal scan: SSH on 160 workstations of a site.
    AttackInstance& a = add(AttackType::kPortScanHorizontal);
    const Site& site = network_.site(a.probe);
    const Probe& probe = network_.probe(a.probe);
    const IpAddress attacker = InAny(kScannerNets, rng);
    std::vector<uint32_t> hosts;
    for (uint32_t h = 0; h < Site::kWorkstations; ++h) hosts.push_back(h);
    hosts = Sample(std::move(hosts), 160, rng);
    for (size_t i = 0; i < hosts.size(); ++i) {
      FlowRecord& f = a.flows.emplace_back();
      Inbound(a.probe, probe, site.workstation(hosts[i]), attacker, 6, 22,
              Spread(a.window_start_ms, i, hosts.size()), rng, &f);
      f.client_tcp_flags = kSyn;
      if (rng.Chance(0.7)) {  // dropped by the host firewall: SYN retries, nothing back
        f.in_pkts = static_cast<uint64_t>(rng.Between(1, 2));
        f.end_ms = f.start_ms + (f.in_pkts == 2 ? 1000 : 0);
      } else {  // refused
        f.in_pkts = 1;
        f.out_pkts = 1;
        f.out_bytes = 40;
        f.server_tcp_flags = kRst | kAck;
      }
      f.in_bytes = f.in_pkts * 44;
    }
    a.has_src = a.has_dst_port = true;
    a.src = attacker;
    a.dst_port = 22;
    a.expected_count = hosts.size();
    a.count_of = "distinct_dsts";
    a.threshold = kHorizontalDsts;
  }

  {  // SYN flood: 640 spoofed SYNs at an intranet web server, none answered.
    AttackInstance& a = add(AttackType::kSynFlood);
    const Site& site = network_.site(a.probe);
    const Probe& probe = network_.probe(a.probe);
    const Host victim = site.Server(ServerRole::kIntranetWeb, 1);
    constexpr size_t kFlows = 640;
    for (size_t i = 0; i < kFlows; ++i) {
      FlowRecord& f = a.flows.emplace_back();
      Inbound(a.probe, probe, victim, PublicAddress(rng), 6, 443, Spread(a.window_start_ms, i, kFlows), rng, &f);
      f.client_tcp_flags = kSyn;
      f.in_pkts = static_cast<uint64_t>(rng.Between(1, 3));
      f.in_bytes = f.in_pkts * 60;
      f.end_ms = f.start_ms + static_cast<int64_t>(f.in_pkts - 1) * 1000;
    }
    a.has_dst = a.has_dst_port = true;
    a.dst = victim.v4;
    a.dst_port = 443;
    a.expected_count = kFlows;
    a.count_of = "flows";
    a.threshold = kSynFlows;
    a.sources = kFlows;
  }

  {  // Volumetric: NTP reflection, 30 reflectors sending ~600 MB each.
    AttackInstance& a = add(AttackType::kVolumetric);
    const Site& site = network_.site(a.probe);
    const Probe& probe = network_.probe(a.probe);
    const Host victim = site.Server(ServerRole::kIntranetWeb, 2);
    constexpr size_t kSources = 30;
    for (size_t i = 0; i < kSources; ++i) {
      FlowRecord& f = a.flows.emplace_back();
      Inbound(a.probe, probe, victim, PublicAddress(rng), 17, Ephemeral(rng),
              a.window_start_ms + 1000 + rng.Between(0, 3000), rng, &f);
      f.src_port = 123;
      SetL7(9, "NTP", &f);
      f.in_bytes = static_cast<uint64_t>(rng.Between(500'000'000, 700'000'000));
      f.in_pkts = f.in_bytes / 468;  // monlist responses
      f.end_ms = f.start_ms + rng.Between(45000, 54000);
      a.expected_count += f.in_bytes;
    }
    a.has_dst = true;
    a.dst = victim.v4;
    a.count_of = "in_bytes";
    a.threshold = kVolumetricBytes;
    a.sources = kSources;
  }

  {  // ICMP flood: 12 sources, ~30,000 echo requests in under a minute.
    AttackInstance& a = add(AttackType::kIcmpFlood);
    const Site& site = network_.site(a.probe);
    const Probe& probe = network_.probe(a.probe);
    const Host victim = site.Server(ServerRole::kIntranetWeb, 3);
    constexpr size_t kSources = 12;
    for (size_t i = 0; i < kSources; ++i) {
      FlowRecord& f = a.flows.emplace_back();
      Inbound(a.probe, probe, victim, PublicAddress(rng), 1, 0, a.window_start_ms + 1000 + rng.Between(0, 5000),
              rng, &f);
      f.detail = L7Detail::kIcmp;
      SetL7(81, "ICMP", &f);
      f.icmp_type = 8 * 256;
      f.in_pkts = static_cast<uint64_t>(rng.Between(2300, 2700));
      f.in_bytes = f.in_pkts * 84;
      f.out_pkts = f.in_pkts / 2;  // the victim answers what it can
      f.out_bytes = f.out_pkts * 84;
      f.end_ms = f.start_ms + rng.Between(45000, 52000);
      a.expected_count += f.in_pkts;
    }
    a.has_dst = true;
    a.dst = victim.v4;
    a.count_of = "in_pkts";
    a.threshold = kIcmpPackets;
    a.sources = kSources;
  }

  {  // Blocklist, inbound IPv4: a blocklisted host probing an app server.
    AttackInstance& a = add(AttackType::kBlocklist);
    const Site& site = network_.site(a.probe);
    const Probe& probe = network_.probe(a.probe);
    const Host victim = site.Server(ServerRole::kAppServer, static_cast<uint32_t>(rng.Below(12)));
    const IpAddress attacker = IpAddress::V4(kBlocklistV4Base | static_cast<uint32_t>(rng.Between(1, 0x1fffe)));
    for (size_t i = 0; i < 4; ++i) {
      FlowRecord& f = a.flows.emplace_back();
      Inbound(a.probe, probe, victim, attacker, 6, 443, Spread(a.window_start_ms, i, 4), rng, &f);
      f.client_tcp_flags = kSyn;
      f.server_tcp_flags = kRst | kAck;
      f.in_pkts = f.out_pkts = 1;
      f.in_bytes = 60;
      f.out_bytes = 40;
    }
    a.has_src = a.has_dst = a.has_dst_port = true;
    a.src = attacker;
    a.dst = victim.v4;
    a.dst_port = 443;
    a.expected_count = a.flows.size();
    a.count_of = "flows";
    a.threshold = 1;
  }

  {  // Blocklist, outbound IPv6: a workstation beaconing to a blocklisted C2.
    AttackInstance& a = add(AttackType::kBlocklist);
    const Site& site = network_.site(a.probe);
    const Probe& probe = network_.probe(a.probe);
    const Host& client = site.workstation(static_cast<uint32_t>(rng.Below(Site::kWorkstations)));
    const IpAddress c2 = IpAddress::V6({0x2001, 0x0db8, kBlocklistV6Tag, static_cast<uint16_t>(rng.Below(0x10000)),
                                        0, 0, 0, static_cast<uint16_t>(rng.Between(1, 0xffff))});
    for (size_t i = 0; i < 6; ++i) {
      FlowRecord& f = a.flows.emplace_back();
      FromInside(a.probe, probe.wan_if, client, client.v6, c2, 6, 443, Spread(a.window_start_ms, i, 6), rng, &f);
      f.client_tcp_flags = f.server_tcp_flags = kSyn | kAck | kPsh | kFin;
      f.in_pkts = 6;
      f.in_bytes = 6 * 72 + 700;
      f.out_pkts = 5;
      f.out_bytes = 5 * 72 + 420;
      f.end_ms = f.start_ms + rng.Between(100, 400);
      f.detail = L7Detail::kTls;
      SetL7(91, "TLS", &f);
      f.tls_server_name = "api.telemetry-sync.net";
      f.tls_version = 772;
    }
    a.has_src = a.has_dst = a.has_dst_port = true;
    a.src = client.v6;
    a.dst = c2;
    a.dst_port = 443;
    a.expected_count = a.flows.size();
    a.count_of = "flows";
    a.threshold = 1;
  }

  {  // DNS tunnel: 120 TXT queries with 56-character base32 labels, via the DC.
    AttackInstance& a = add(AttackType::kDnsTunnel);
    const Site& site = network_.site(a.probe);
    const Host& client = site.workstation(static_cast<uint32_t>(rng.Below(Site::kWorkstations)));
    const Host dc = site.Server(ServerRole::kDomainController, 0);
    constexpr size_t kQueries = 120;
    const uint64_t session = rng.Next();
    for (size_t i = 0; i < kQueries; ++i) {
      FlowRecord& f = a.flows.emplace_back();
      FromInside(a.probe, site.server_if(), client, client.v4, dc.v4, 17, 53,
                 Spread(a.window_start_ms, i, kQueries), rng, &f);
      f.detail = L7Detail::kDns;
      SetL7(5, "DNS", &f);
      std::string& q = f.dns_query;
      for (int k = 0; k < 4; ++k) AppendBase32(rng.Next(), 14, &q);  // 56 chars of payload
      q.push_back('.');
      AppendBase32(session, 6, &q);
      q.push_back('.');
      AppendUint(i, &q);
      q.append(".t.");
      q.append(kTunnelDomain);
      f.dns_query_type = 16;  // TXT
      const uint64_t query = 12 + q.size() + 2 + 4 + 11;
      f.in_pkts = f.out_pkts = 1;
      f.in_bytes = 28 + query;
      f.out_bytes = 28 + query + static_cast<uint64_t>(rng.Between(60, 220));
      f.end_ms = f.start_ms + rng.Between(15, 80);
    }
    a.has_src = a.has_dst = a.has_dst_port = true;
    a.src = client.v4;
    a.dst = dc.v4;
    a.dst_port = 53;
    a.domain = kTunnelDomain;
    a.expected_count = kQueries;
    a.count_of = "queries";
    a.threshold = kDnsQueries;
  }

  {  // Exfiltration: a workstation uploads ~2.7 GB over 5 TLS connections to a VPS.
    AttackInstance& a = add(AttackType::kExfiltration);
    const Site& site = network_.site(a.probe);
    const Probe& probe = network_.probe(a.probe);
    const Host& client = site.workstation(static_cast<uint32_t>(rng.Below(Site::kWorkstations)));
    const IpAddress drop = InAny(kDropNets, rng);
    for (size_t i = 0; i < 5; ++i) {
      FlowRecord& f = a.flows.emplace_back();
      FromInside(a.probe, probe.wan_if, client, client.v4, drop, 6, 443,
                 a.window_start_ms + 1000 + static_cast<int64_t>(i) * 500, rng, &f);
      f.client_tcp_flags = f.server_tcp_flags = kSyn | kAck | kPsh | kFin;
      f.in_bytes = static_cast<uint64_t>(rng.Between(500'000'000, 600'000'000));
      f.in_pkts = f.in_bytes / 1500 + 3;
      f.out_pkts = f.in_pkts / 2;
      f.out_bytes = f.out_pkts * 52;
      f.end_ms = f.start_ms + rng.Between(48000, 55000);
      f.detail = L7Detail::kTls;
      SetL7(91, "TLS", &f);
      f.tls_server_name = "upload.filedrop-share.io";
      f.tls_version = 772;
      a.expected_count += f.in_bytes;
    }
    a.has_src = a.has_dst = a.has_dst_port = true;
    a.src = client.v4;
    a.dst = drop;
    a.dst_port = 443;
    a.count_of = "in_bytes";
    a.threshold = kExfilBytes;
  }

  // Suspicious ports: telnet on a switch, SMB on a file server, RDP on an RDP host.
  struct Target {
    uint16_t port;
    ServerRole role;
  };
  for (const Target t : {Target{23, ServerRole::kNetworkDevice}, Target{445, ServerRole::kFileServer},
                         Target{3389, ServerRole::kRdpHost}}) {
    AttackInstance& a = add(AttackType::kSuspiciousPort);
    const Site& site = network_.site(a.probe);
    const Probe& probe = network_.probe(a.probe);
    const Host victim = site.Server(t.role, static_cast<uint32_t>(rng.Below(site.ServerCount(t.role))));
    const IpAddress attacker = InAny(kScannerNets, rng);
    for (size_t i = 0; i < 3; ++i) {
      FlowRecord& f = a.flows.emplace_back();
      Inbound(a.probe, probe, victim, attacker, 6, t.port, Spread(a.window_start_ms, i, 3), rng, &f);
      f.client_tcp_flags = kSyn | kAck | kPsh | kFin;  // a login attempt
      f.server_tcp_flags = kSyn | kAck | kPsh | kFin;
      f.in_pkts = static_cast<uint64_t>(rng.Between(8, 20));
      f.in_bytes = f.in_pkts * 52 + static_cast<uint64_t>(rng.Between(200, 1500));
      f.out_pkts = f.in_pkts - 1;
      f.out_bytes = f.out_pkts * 52 + static_cast<uint64_t>(rng.Between(200, 3000));
      f.end_ms = f.start_ms + rng.Between(200, 4000);
    }
    a.has_src = a.has_dst = a.has_dst_port = true;
    a.src = attacker;
    a.dst = victim.v4;
    a.dst_port = t.port;
    a.expected_count = a.flows.size();
    a.count_of = "flows";
    a.threshold = 1;
  }
}

void AttackScenario::AppendFlows(int64_t window_start_ms, std::vector<ScheduledFlow>* out) const {
  static constexpr std::string_view kLabels[] = {
      "attack.port_scan.vertical", "attack.port_scan.horizontal", "attack.syn_flood",
      "attack.volumetric",         "attack.icmp_flood",           "attack.blocklist",
      "attack.dns_tunnel",         "attack.exfiltration",         "attack.suspicious_port"};
  static_assert(std::size(kLabels) == static_cast<size_t>(AttackType::kCount));
  for (const AttackInstance& a : instances_) {
    if (a.window_start_ms != window_start_ms) continue;
    for (const FlowRecord& f : a.flows) out->push_back({f, kLabels[static_cast<size_t>(a.type)]});
  }
}

std::string AttackScenario::GroundTruthJsonl() const {
  std::string out;
  for (const AttackInstance& a : instances_) {
    out.append("{\"type\":\"");
    out.append(AttackTypeName(a.type));
    out.append("\",\"window_start\":\"");
    out.append(FormatUtcSeconds(a.window_start_ms));
    out.append("\"");
    if (a.has_src) {
      out.append(",\"src_ip\":\"");
      AppendIp(a.src, &out);
      out.append("\"");
    }
    if (a.has_dst) {
      out.append(",\"dst_ip\":\"");
      AppendIp(a.dst, &out);
      out.append("\"");
    }
    if (a.has_dst_port) {
      out.append(",\"dst_port\":");
      AppendUint(a.dst_port, &out);
    }
    if (!a.domain.empty()) {
      out.append(",\"domain\":");
      AppendJsonString(a.domain, &out);
    }
    out.append(",\"expected_count\":");
    AppendUint(a.expected_count, &out);
    out.append(",\"count_of\":\"");
    out.append(a.count_of);
    out.append("\",\"threshold\":");
    AppendUint(a.threshold, &out);
    if (a.sources != 0) {
      out.append(",\"sources\":");
      AppendUint(a.sources, &out);
    }
    out.append(",\"probe\":");
    AppendJsonString(network_.probe(a.probe).name, &out);
    out.append("}\n");
  }
  return out;
}

std::string_view AttackScenario::BlocklistText() { return kBlocklist; }

}  // namespace flowlake::synth

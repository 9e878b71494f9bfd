#include "synth/benign_scenario.h"

#include <algorithm>
#include <charconv>

namespace flowlake::synth {

namespace {

using Service = BenignScenario::Service;
using TcpShape = BenignScenario::TcpShape;

// The service mix: share of IPv4 flows and share of IPv6 flows (each family
// normalised on its own). Enterprise captures are dominated by DNS and TLS.
struct MixEntry {
  Service service;
  double v4_weight;
  double v6_weight;
};
constexpr MixEntry kMix[] = {
    {Service::kDnsInternal, 22, 30},  {Service::kDnsForward, 2.5, 2},  {Service::kTlsSaas, 31, 35},
    {Service::kQuic, 5, 14},          {Service::kTlsIntranet, 3, 4},   {Service::kHttp, 3, 2},
    {Service::kSmb, 4, 0},            {Service::kKerberos, 2, 0},      {Service::kLdap, 2, 0},
    {Service::kNtp, 1, 0},            {Service::kNtpUpstream, 0.2, 0}, {Service::kSsh, 1, 3},
    {Service::kRdp, 0.5, 0},          {Service::kMssql, 0.6, 0},       {Service::kPostgres, 0.5, 0},
    {Service::kMysql, 0.3, 0},        {Service::kIcmp, 1.2, 0},        {Service::kIcmpv6, 0, 7},
    {Service::kDhcp, 0.2, 0},         {Service::kSnmp, 1, 0},          {Service::kSyslog, 0.8, 0},
    {Service::kMdns, 0.6, 2},         {Service::kLlmnr, 0.4, 1},       {Service::kSsdp, 0.4, 0},
    {Service::kNetbios, 0.3, 0},      {Service::kTeamsMedia, 0.8, 0},
};
static_assert(std::size(kMix) == static_cast<size_t>(Service::kCount));

//                              req  sigma  resp    sigma tail  tail_scale req_seg resp_seg dur_ms sigma appl  fail
constexpr TcpShape kTlsShape = {1800, 1.5, 9000, 2.6, 0.03, 300000, 1200, 1448, 2500, 2.2, 25, 0.015, 517, 3200};
constexpr TcpShape kIntranetShape = {1500, 1.5, 20000, 2.5, 0.02, 200000, 1100, 1448, 1500, 2.0, 40, 0.01, 517, 2800};
constexpr TcpShape kHttpShape = {420, 0.6, 300, 0.5, 0, 0, 420, 1448, 120, 1.5, 30, 0.01, 120, 120};
constexpr TcpShape kSmbShape = {3000, 2.5, 24000, 3.5, 0.04, 5000000, 1200, 1448, 2000, 3.0, 2, 0.005};
constexpr TcpShape kKerberosShape = {1500, 0.6, 1600, 0.6, 0, 0, 1448, 1448, 6, 1.2, 1.5, 0.002};
constexpr TcpShape kLdapShape = {700, 1.5, 3000, 2.0, 0, 0, 600, 1448, 40, 3.0, 1.5, 0.002};
constexpr TcpShape kSshShape = {4000, 2.5, 30000, 3.0, 0.02, 2000000, 90, 600, 60000, 2.5, 5, 0.03};
constexpr TcpShape kRdpShape = {40000, 2.0, 2000000, 2.0, 0, 0, 150, 1000, 90000, 2.0, 5, 0.02};
constexpr TcpShape kSqlShape = {1500, 2.0, 15000, 3.0, 0.01, 10000000, 800, 1448, 50, 3.0, 3, 0.003};

constexpr uint64_t kMaxPayload = 2000000000ULL;  // ~17 MB/s over a 120 s slice

uint16_t EphemeralPort(HostOs os, Rng& rng) {
  switch (os) {
    case HostOs::kLinux: return static_cast<uint16_t>(rng.Between(32768, 60999));
    case HostOs::kNetworkOs: return static_cast<uint16_t>(rng.Between(49152, 59999));
    default: return static_cast<uint16_t>(rng.Between(49152, 65535));
  }
}

uint8_t InitialTtl(HostOs os) {
  switch (os) {
    case HostOs::kWindows: return 128;
    case HostOs::kNetworkOs: return 255;
    default: return 64;
  }
}

uint32_t Micros(double ms) { return static_cast<uint32_t>(std::clamp(ms * 1000, 1.0, 4.0e9)); }

uint64_t Ceil(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

void AppendHex(uint64_t v, int digits, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out->push_back(kHex[(v >> (4 * i)) & 0xf]);
}

std::string Hash32Hex(uint64_t key) {
  std::string s;
  AppendHex(Mix64(key), 16, &s);
  AppendHex(Mix64(key ^ 0x5bd1e995ULL), 16, &s);
  return s;
}

bool IsMicrosoft(const Org& org) {
  switch (org.app_id) {
    case 21: case 147: case 212: case 219: case 221: case 250: case 276: return true;
    default: return false;
  }
}

// Multicast MACs: 01:00:5E + low 23 bits (IPv4), 33:33 + low 32 bits (IPv6).
uint64_t MulticastMac(const IpAddress& a) {
  if (a.is_v6) return 0x333300000000ULL | (static_cast<uint64_t>(a.v6[6]) << 16) | a.v6[7];
  return 0x01005E000000ULL | (a.v4 & 0x7fffff);
}

}  // namespace

BenignScenario::BenignScenario(const Network& network)
    : network_(network),
      github_(Orgs()[OrgIndex("github")]),
      windows_update_(Orgs()[OrgIndex("windowsupdate")]),
      teams_(Orgs()[OrgIndex("teams")]),
      generic_(Orgs()[OrgIndex("generic")]) {
  std::vector<double> v4;
  std::vector<double> v6;
  for (const MixEntry& e : kMix) {
    v4.push_back(e.v4_weight);
    v6.push_back(e.v6_weight);
  }
  services_v4_ = WeightedTable(v4);
  services_v6_ = WeightedTable(v6);

  const auto orgs = Orgs();
  std::vector<double> tls4, quic4, tls6, quic6;
  for (uint32_t i = 0; i < orgs.size(); ++i) {
    const Org& org = orgs[i];
    tls4.push_back(org.tls_weight);
    quic4.push_back(org.quic_weight);
    if (org.v6_tag != 0 && org.tls_weight > 0) {
      tls6.push_back(org.tls_weight);
      tls_v6_org_index_.push_back(i);
    }
    if (org.v6_tag != 0 && org.quic_weight > 0) {
      quic6.push_back(org.quic_weight);
      quic_v6_org_index_.push_back(i);
    }
    org_hosts_.push_back(WeightedTable::Zipf(org.hosts.size(), 1.1));
    std::array<std::string, 4> ja3s;
    for (uint64_t k = 0; k < 4; ++k) ja3s[k] = Hash32Hex(0x6a613373ULL * (i + 1) + k);
    ja3s_.push_back(std::move(ja3s));
  }
  // The sample capture's Google server fingerprint, so demo data matches it.
  ja3s_[0][2] = "15af977ce25de452b96affa2addb1036";
  tls_orgs_v4_ = WeightedTable(tls4);
  quic_orgs_v4_ = WeightedTable(quic4);
  tls_orgs_v6_ = WeightedTable(tls6);
  quic_orgs_v6_ = WeightedTable(quic6);

  std::vector<double> http;
  for (const HttpEndpoint& e : HttpEndpoints()) http.push_back(e.weight);
  http_endpoints_ = WeightedTable(http);
  internal_names_ = WeightedTable::Zipf(InternalNames().size(), 1.0);

  // JA3 client fingerprints: a small pool per TLS stack (a host runs one
  // version of each). Synthetic values, except the sample capture's Chrome.
  for (size_t c = 0; c < ja3c_.size(); ++c) {
    for (size_t k = 0; k < 3; ++k) ja3c_[c][k] = Hash32Hex(0x6a613363ULL * (c + 1) + k);
  }
  ja3c_[static_cast<size_t>(TlsClient::kChrome)][0] = "cd08e31494f9531f560d64c695473da9";
}

void BenignScenario::Generate(uint32_t probe, int64_t start_ms, Rng& rng, FlowRecord* flow) {
  flow->Reset();
  flow->probe = probe;
  flow->start_ms = start_ms;
  const bool v6 = rng.Chance(kIpv6Share);
  const auto service = static_cast<Service>((v6 ? services_v6_ : services_v4_).Sample(rng));
  GenerateService(service, v6, network_.site(probe), network_.probe(probe), rng, flow);
}

void BenignScenario::SetClient(const Host& client, bool v6, Rng& rng, FlowRecord* flow) const {
  flow->src = v6 ? client.v6 : client.v4;
  flow->src_mac = client.mac;
  flow->dst_mac = client.gateway_mac;
  flow->vlan = client.vlan;
  flow->input_snmp = client.snmp_if;
  flow->src_port = EphemeralPort(client.os, rng);
  const uint8_t ttl = InitialTtl(client.os) - client.hops_to_probe;
  flow->max_ttl = ttl;
  flow->min_ttl = rng.Chance(0.08) ? ttl - 1 : ttl;
}

void BenignScenario::SetServer(const IpAddress& dst, uint16_t dst_port, uint16_t output_if,
                               FlowRecord* flow) const {
  flow->dst = dst;
  flow->dst_port = dst_port;
  flow->output_snmp = output_if;
}

void BenignScenario::SetL7(uint16_t master, std::string_view master_name, uint16_t app,
                           std::string_view app_name, FlowRecord* flow) const {
  flow->l7_master = master;
  flow->l7_master_name = master_name;
  flow->l7_app = app;
  flow->l7_app_name = app_name;
}

void BenignScenario::FillTcp(const TcpShape& shape, double server_rtt_ms, double size_scale, Rng& rng,
                             FlowRecord* flow) const {
  flow->protocol = 6;
  const uint64_t header = flow->src.is_v6 ? 72 : 52;  // IP + TCP with timestamps
  const uint64_t syn_bytes = flow->src.is_v6 ? 72 : 52;
  const double rtt = server_rtt_ms * LogNormal(rng, 1, 0.4);

  if (rng.Chance(shape.fail_prob)) {
    if (rng.Chance(0.5)) {  // unanswered: SYN retransmissions, nothing back
      flow->in_pkts = static_cast<uint64_t>(rng.Between(1, 3));
      flow->in_bytes = flow->in_pkts * syn_bytes;
      flow->end_ms = flow->start_ms + (flow->in_pkts == 1 ? 0 : flow->in_pkts == 2 ? 1000 : 3000);
      flow->client_tcp_flags = kSyn;
    } else {  // refused: RST back
      flow->in_pkts = 1;
      flow->in_bytes = syn_bytes;
      flow->out_pkts = 1;
      flow->out_bytes = header - 12;
      flow->end_ms = flow->start_ms + static_cast<int64_t>(rtt);
      flow->client_tcp_flags = kSyn;
      flow->server_tcp_flags = kRst | kAck;
    }
    return;
  }

  auto payload = [&](double median, double sigma, uint64_t floor) {
    return std::min<uint64_t>(kMaxPayload,
                              floor + static_cast<uint64_t>(LogNormal(rng, median * size_scale, sigma)) + 1);
  };
  const uint64_t req = payload(shape.req_median, shape.req_sigma, shape.req_floor);
  uint64_t resp = payload(shape.resp_median, shape.resp_sigma, shape.resp_floor);
  if (shape.tail_prob > 0 && rng.Chance(shape.tail_prob)) {
    resp = std::min<uint64_t>(kMaxPayload, static_cast<uint64_t>(Pareto(rng, shape.tail_scale * size_scale, 1.1)));
  }

  // Duration: think time, stretched by transfer time (~8 MB/s per flow).
  double duration = LogNormal(rng, shape.duration_median_ms, shape.duration_sigma) + 2 * rtt;
  duration = std::max(duration, static_cast<double>(req + resp) / 8000.0);
  bool syn = true;
  bool fin = true;
  if (duration >= kLifetimeTimeoutMs) {
    // Exported by the lifetime timeout: the first slice has the handshake,
    // later slices neither handshake nor teardown.
    duration = static_cast<double>(kLifetimeTimeoutMs - rng.Between(0, 800));
    fin = false;
    syn = rng.Chance(0.5);
  }
  const bool reset = fin && rng.Chance(0.03);

  const uint64_t data_in = Ceil(req, shape.req_segment);
  const uint64_t data_out = Ceil(resp, shape.resp_segment);
  flow->in_pkts = (syn ? 2 : 0) + data_in + data_out / 2 + (fin && !reset ? 1 : 0);
  flow->out_pkts = (syn ? 1 : 0) + data_out + data_in / 2 + (fin ? 1 : 0);
  flow->in_bytes = req + flow->in_pkts * header;
  flow->out_bytes = resp + flow->out_pkts * header;
  if (rng.Chance(0.12)) {
    flow->retransmitted_out_pkts = 1 + static_cast<uint64_t>(static_cast<double>(data_out) * 0.02 * rng.Uniform());
    flow->out_pkts += flow->retransmitted_out_pkts;
    flow->out_bytes += flow->retransmitted_out_pkts * (std::min<uint64_t>(resp, shape.resp_segment) + header);
  }
  if (rng.Chance(0.06)) {
    flow->retransmitted_in_pkts = 1 + static_cast<uint64_t>(static_cast<double>(data_in) * 0.02 * rng.Uniform());
    flow->in_pkts += flow->retransmitted_in_pkts;
    flow->in_bytes += flow->retransmitted_in_pkts * (std::min<uint64_t>(req, shape.req_segment) + header);
  }
  flow->end_ms = flow->start_ms + static_cast<int64_t>(duration);

  const uint8_t data = kAck | kPsh;
  flow->client_tcp_flags = static_cast<uint8_t>(data | (syn ? kSyn : 0) | (fin && !reset ? kFin : 0));
  flow->server_tcp_flags = static_cast<uint8_t>(data | (syn ? kSyn : 0) | (fin && !reset ? kFin : 0) |
                                                (reset ? kRst : 0));
  if (syn) {
    flow->has_latency = true;
    const bool wifi = flow->vlan == 20;
    flow->client_latency_us = Micros(LogNormal(rng, wifi ? 2.5 : 0.25, 1.0));
    flow->server_latency_us = Micros(rtt / 2);
    flow->appl_latency_us = Micros(LogNormal(rng, shape.appl_latency_ms, 1.5));
  }
}

void BenignScenario::FillUdp(uint64_t in_pkts, uint64_t in_payload, uint64_t out_pkts, uint64_t out_payload,
                             int64_t duration_ms, FlowRecord* flow) const {
  const uint64_t header = flow->src.is_v6 ? 48 : 28;  // IP + UDP
  flow->protocol = 17;
  flow->in_pkts = in_pkts;
  flow->in_bytes = in_payload + in_pkts * header;
  flow->out_pkts = out_pkts;
  flow->out_bytes = out_pkts == 0 ? 0 : out_payload + out_pkts * header;
  flow->end_ms = flow->start_ms + duration_ms;
}

std::string_view BenignScenario::PickJa3c(const Host& client, const Org& org, Rng& rng) const {
  TlsClient kind = TlsClient::kChrome;
  const double u = rng.Uniform();
  switch (client.os) {
    case HostOs::kWindows:
      if (IsMicrosoft(org) && u < 0.6) {
        kind = TlsClient::kSchannel;
      } else {
        kind = u < 0.55 ? TlsClient::kChrome : u < 0.8 ? TlsClient::kEdge : u < 0.9 ? TlsClient::kFirefox
                                                                                      : TlsClient::kSchannel;
      }
      break;
    case HostOs::kMacos:
      kind = u < 0.5 ? TlsClient::kSafari : u < 0.9 ? TlsClient::kChrome : TlsClient::kFirefox;
      break;
    default:
      kind = u < 0.25 ? TlsClient::kCurl : u < 0.45 ? TlsClient::kPython : u < 0.65 ? TlsClient::kGo
           : u < 0.85 ? TlsClient::kChrome : TlsClient::kFirefox;
  }
  // One version of each TLS stack per host.
  return ja3c_[static_cast<size_t>(kind)][Mix64(client.mac, static_cast<uint64_t>(kind)) % 3];
}

void BenignScenario::GenerateService(Service service, bool v6, const Site& site, const Probe& probe, Rng& rng,
                                     FlowRecord* flow) {
  const uint16_t wan = probe.wan_if;
  const uint16_t server_if = site.server_if();
  auto internal_tcp = [&](ServerRole role, uint16_t port, const TcpShape& shape, uint16_t l7,
                          std::string_view l7_name) {
    const Host& client = site.PickWorkstation(rng);
    SetClient(client, v6, rng, flow);
    const Host server = site.Server(role, static_cast<uint32_t>(rng.Below(site.ServerCount(role))));
    SetServer(v6 ? server.v6 : server.v4, port, server_if, flow);
    SetL7(l7, l7_name, 0, "", flow);
    FillTcp(shape, 0.6, 1, rng, flow);
  };
  auto sql = [&](uint16_t port, uint16_t l7, std::string_view l7_name) {
    const Host app = site.Server(ServerRole::kAppServer, static_cast<uint32_t>(rng.Below(12)));
    SetClient(app, false, rng, flow);
    const Host db = site.Server(ServerRole::kDatabase, static_cast<uint32_t>(rng.Below(3)));
    SetServer(db.v4, port, server_if, flow);
    SetL7(l7, l7_name, 0, "", flow);
    FillTcp(kSqlShape, 0.4, 1, rng, flow);
  };

  switch (service) {
    case Service::kDnsInternal: Dns(v6, site, false, rng, flow); return;
    case Service::kDnsForward: Dns(v6, site, true, rng, flow); return;
    case Service::kTlsSaas: Tls(v6, site, false, rng, flow); return;
    case Service::kQuic: Tls(v6, site, true, rng, flow); return;
    case Service::kTlsIntranet: TlsIntranet(v6, site, rng, flow); return;
    case Service::kHttp: Http(v6, site, rng, flow); return;
    case Service::kSmb: internal_tcp(ServerRole::kFileServer, 445, kSmbShape, 41, "SMBv23"); return;
    case Service::kKerberos:
      if (rng.Chance(0.3)) {  // small tickets still go over UDP
        const Host& client = site.PickWorkstation(rng);
        SetClient(client, false, rng, flow);
        const Host dc = site.Server(ServerRole::kDomainController, static_cast<uint32_t>(rng.Below(2)));
        SetServer(dc.v4, 88, server_if, flow);
        SetL7(111, "Kerberos", 0, "", flow);
        FillUdp(1, static_cast<uint64_t>(rng.Between(1200, 1450)), 1, static_cast<uint64_t>(rng.Between(1300, 1450)),
                rng.Between(1, 8), flow);
        return;
      }
      internal_tcp(ServerRole::kDomainController, 88, kKerberosShape, 111, "Kerberos");
      return;
    case Service::kLdap: internal_tcp(ServerRole::kDomainController, 389, kLdapShape, 112, "LDAP"); return;
    case Service::kNtp: {
      const Host& client = site.PickWorkstation(rng);
      SetClient(client, false, rng, flow);
      if (client.os == HostOs::kWindows) flow->src_port = 123;  // w32time binds 123
      const Host dc = site.Server(ServerRole::kDomainController, static_cast<uint32_t>(rng.Below(2)));
      SetServer(dc.v4, 123, server_if, flow);
      SetL7(9, "NTP", 0, "", flow);
      FillUdp(1, 48, 1, 48, rng.Between(0, 3), flow);
      return;
    }
    case Service::kNtpUpstream: {
      const Host dc = site.Server(ServerRole::kDomainController, static_cast<uint32_t>(rng.Below(2)));
      SetClient(dc, false, rng, flow);
      flow->src_port = 123;
      SetServer(OrgServer(generic_, static_cast<uint32_t>(rng.Below(8)), false), 123, wan, flow);
      SetL7(9, "NTP", 0, "", flow);
      FillUdp(1, 48, 1, 48, static_cast<int64_t>(LogNormal(rng, 25, 1)), flow);
      return;
    }
    case Service::kSsh: {
      if (!v6 && rng.Chance(0.08)) {  // git over SSH to GitHub
        const Host& client = site.PickWorkstation(rng);
        SetClient(client, false, rng, flow);
        SetServer(OrgServer(github_, static_cast<uint32_t>(rng.Below(4)), false), 22, wan, flow);
        SetL7(92, "SSH", 0, "", flow);
        FillTcp(kSmbShape, github_.rtt_ms, 1, rng, flow);
        return;
      }
      internal_tcp(ServerRole::kSshHost, 22, kSshShape, 92, "SSH");
      flow->src_tos = 72;  // OpenSSH's interactive IPQoS (AF21)
      return;
    }
    case Service::kRdp: internal_tcp(ServerRole::kRdpHost, 3389, kRdpShape, 88, "RDP"); return;
    case Service::kMssql: sql(1433, 114, "MsSQL-TDS"); return;
    case Service::kPostgres: sql(5432, 19, "PostgreSQL"); return;
    case Service::kMysql: sql(3306, 20, "MySQL"); return;
    case Service::kIcmp: Icmp(site, rng, flow); return;
    case Service::kIcmpv6: Icmpv6(site, rng, flow); return;
    case Service::kDhcp: {
      const Host& client = site.PickWorkstation(rng);
      SetClient(client, false, rng, flow);
      flow->src_port = 68;
      const Host dc = site.Server(ServerRole::kDomainController, 0);
      SetServer(dc.v4, 67, server_if, flow);
      SetL7(18, "DHCP", 0, "", flow);
      FillUdp(1, static_cast<uint64_t>(rng.Between(300, 348)), 1, static_cast<uint64_t>(rng.Between(300, 330)),
              rng.Between(1, 15), flow);
      return;
    }
    case Service::kSnmp: {
      const Host poller = site.Server(ServerRole::kMonitoring, 0);
      SetClient(poller, false, rng, flow);
      const Host device = site.Server(ServerRole::kNetworkDevice, static_cast<uint32_t>(rng.Below(24)));
      SetServer(device.v4, 161, 3 + 5, flow);
      SetL7(14, "SNMP", 0, "", flow);
      const uint64_t n = static_cast<uint64_t>(rng.Between(1, 24));
      FillUdp(n, n * static_cast<uint64_t>(rng.Between(45, 90)), n,
              n * static_cast<uint64_t>(LogNormal(rng, 280, 1.2)), rng.Between(2, 400), flow);
      return;
    }
    case Service::kSyslog: {
      const Host device = site.Server(ServerRole::kNetworkDevice, static_cast<uint32_t>(rng.Below(24)));
      SetClient(device, false, rng, flow);
      flow->src_port = 514;
      const Host collector = site.Server(ServerRole::kSyslogCollector, 0);
      SetServer(collector.v4, 514, server_if, flow);
      SetL7(17, "Syslog", 0, "", flow);
      const uint64_t n = 1 + static_cast<uint64_t>(LogNormal(rng, 6, 2));
      FillUdp(n, n * static_cast<uint64_t>(rng.Between(110, 320)), 0, 0,
              n == 1 ? 0 : std::min<int64_t>(kLifetimeTimeoutMs, static_cast<int64_t>(n) * rng.Between(50, 900)),
              flow);
      return;
    }
    case Service::kMdns:
    case Service::kLlmnr:
    case Service::kSsdp:
    case Service::kNetbios: LinkLocal(service, v6, site, rng, flow); return;
    case Service::kTeamsMedia: TeamsMedia(site, rng, flow); return;
    case Service::kCount: break;
  }
}

void BenignScenario::Dns(bool v6, const Site& site, bool forwarder, Rng& rng, FlowRecord* flow) {
  const auto orgs = Orgs();
  Host client;
  if (forwarder) {
    client = site.Server(ServerRole::kDomainController, static_cast<uint32_t>(rng.Below(2)));
  } else {
    client = site.PickWorkstation(rng);
  }
  SetClient(client, v6, rng, flow);
  flow->detail = L7Detail::kDns;

  // The name: mostly what users' applications are about to connect to.
  uint16_t app = 0;
  std::string_view app_name;
  uint16_t qtype = 1;
  uint8_t rcode = 0;
  std::string& q = flow->dns_query;
  const double what = rng.Uniform();
  if (forwarder || what < 0.70) {
    const size_t org_i = tls_orgs_v4_.Sample(rng);
    const Org& org = orgs[org_i];
    q = org.hosts[org_hosts_[org_i].Sample(rng)];
    app = org.app_id;
    app_name = org.app_name;
    const double t = rng.Uniform();
    qtype = t < 0.6 ? 1 : t < 0.9 ? 28 : 65;  // A, AAAA, HTTPS
    if (rng.Chance(0.01)) rcode = 2;       // SERVFAIL
  } else if (what < 0.90) {
    q = InternalNames()[internal_names_.Sample(rng)];
    qtype = q[0] == '_' ? 33 : (rng.Chance(0.75) ? 1 : 28);  // SRV for AD locators
    if (q.starts_with("wpad.")) rcode = 3;                    // WPAD probes go unanswered
  } else if (what < 0.96) {
    // Reverse lookup of an internal address.
    const Host peer = site.Server(ServerRole::kSshHost, static_cast<uint32_t>(rng.Below(40)));
    const uint32_t a = peer.v4.v4;
    q.clear();
    char buf[4];
    for (int i = 0; i < 4; ++i) {
      const auto r = std::to_chars(buf, buf + sizeof(buf), (a >> (8 * i)) & 0xff);
      q.append(buf, r.ptr);
      q.push_back('.');
    }
    q.append("in-addr.arpa");
    qtype = 12;
  } else {
    // Typos, stale names, search-domain suffixing: NXDOMAIN.
    static constexpr std::string_view kNx[] = {"isatap.corp.example.com", "gogle.com",
                                               "www.google.com.corp.example.com", "oldfs.corp.example.com",
                                               "printer-3f.corp.example.com"};
    q = kNx[rng.Below(std::size(kNx))];
    rcode = 3;
  }
  SetL7(5, "DNS", app, app_name, flow);
  flow->dns_query_type = qtype;
  flow->dns_ret_code = rcode;

  // Sizes from the DNS wire format: header 12, QNAME, QTYPE/QCLASS 4, EDNS 11.
  const uint64_t query = 12 + q.size() + 2 + 4 + 11;
  uint64_t answer = query;
  if (rcode == 3) {
    answer += static_cast<uint64_t>(rng.Between(60, 110));  // SOA in authority
  } else if (rcode == 0) {
    const uint64_t records = static_cast<uint64_t>(rng.Between(1, 4));
    const uint64_t rdata = qtype == 28 ? 28 : qtype == 65 ? 70 : qtype == 33 ? 40 : qtype == 12 ? 30 : 16;
    answer += records * rdata + (rng.Chance(0.4) ? q.size() + 14 : 0);  // CNAME chain
  }
  const uint64_t tries = rng.Chance(0.02) ? 2 : 1;
  double ms = forwarder ? LogNormal(rng, 14, 1.2)
              : (app == 0 && what >= 0.70) ? LogNormal(rng, 0.6, 1.0)  // the DC is authoritative
              : rng.Chance(0.55) ? LogNormal(rng, 0.8, 1.0)             // cached
                                 : LogNormal(rng, 22, 1.4);              // recursion
  if (tries == 2) ms += 1000;
  FillUdp(tries, tries * query, 1, answer, static_cast<int64_t>(ms), flow);

  if (forwarder) {
    const PublicResolver& r = PublicResolvers()[rng.Below(PublicResolvers().size())];
    IpAddress dst = IpAddress::V4(r.v4);
    if (v6) dst = IpAddress::V6({0x2001, 0x0db8, 0x0053, 0, 0, 0, 0, static_cast<uint16_t>(r.v4 & 0xff)});
    SetServer(dst, 53, network_.probe(site.index()).wan_if, flow);
  } else {
    const Host dc = site.Server(ServerRole::kDomainController, static_cast<uint32_t>(rng.Below(2)));
    SetServer(v6 ? dc.v6 : dc.v4, 53, site.server_if(), flow);
  }
}

void BenignScenario::Tls(bool v6, const Site& site, bool quic, Rng& rng, FlowRecord* flow) {
  const auto orgs = Orgs();
  size_t org_i = 0;
  if (v6) {
    org_i = quic ? quic_v6_org_index_[quic_orgs_v6_.Sample(rng)] : tls_v6_org_index_[tls_orgs_v6_.Sample(rng)];
  } else {
    org_i = (quic ? quic_orgs_v4_ : tls_orgs_v4_).Sample(rng);
  }
  const Org& org = orgs[org_i];
  const size_t host_i = org_hosts_[org_i].Sample(rng);
  const Host& client = site.PickWorkstation(rng);
  SetClient(client, v6, rng, flow);
  // A name resolves to a few addresses of the org's pool.
  const auto server_n = static_cast<uint32_t>(Mix64(org_i, host_i) + rng.Below(3));
  SetServer(OrgServer(org, server_n, v6), 443, network_.probe(site.index()).wan_if, flow);
  flow->tls_server_name = org.hosts[host_i];

  if (quic) {
    flow->detail = L7Detail::kQuic;
    flow->tls_version = 772;
    SetL7(188, "QUIC", org.app_id, org.app_name, flow);
    const double scale = std::min(org.size_scale, 10.0);
    const uint64_t req = static_cast<uint64_t>(LogNormal(rng, 2500, 1.5)) + 1200;  // padded Initial
    uint64_t resp = static_cast<uint64_t>(LogNormal(rng, 40000 * scale, 2.5)) + 1;
    if (rng.Chance(0.04)) resp = std::min<uint64_t>(kMaxPayload, static_cast<uint64_t>(Pareto(rng, 2e6 * scale, 1.2)));
    const uint64_t out_pkts = Ceil(resp, 1250);
    const uint64_t in_pkts = Ceil(req, 1250) + out_pkts / 4;
    double ms = std::max(LogNormal(rng, 4000, 2.2), static_cast<double>(resp) / 10000.0);
    ms = std::min(ms, static_cast<double>(kLifetimeTimeoutMs - rng.Between(0, 800)));
    FillUdp(in_pkts, req + (in_pkts - 1) * 30, out_pkts, resp, static_cast<int64_t>(ms), flow);
    return;
  }
  flow->detail = L7Detail::kTls;
  const bool tls13 = rng.Chance(org.tls13_share);
  flow->tls_version = tls13 ? 772 : 771;
  flow->ja3c_hash = PickJa3c(client, org, rng);
  flow->ja3s_hash = ja3s_[org_i][(tls13 ? 2 : 0) + rng.Below(2)];
  SetL7(91, "TLS", org.app_id, org.app_name, flow);
  FillTcp(kTlsShape, org.rtt_ms, org.size_scale, rng, flow);
  if (flow->out_pkts == 0 || flow->server_tcp_flags == (kRst | kAck)) {
    // No server hello: nothing negotiated.
    flow->ja3s_hash = {};
  }
}

void BenignScenario::TlsIntranet(bool v6, const Site& site, Rng& rng, FlowRecord* flow) {
  const Host& client = site.PickWorkstation(rng);
  SetClient(client, v6, rng, flow);
  const auto sites = IntranetSites();
  const size_t n = rng.Below(sites.size());
  const Host web = site.Server(ServerRole::kIntranetWeb, static_cast<uint32_t>(n));
  SetServer(v6 ? web.v6 : web.v4, 443, site.server_if(), flow);
  flow->detail = L7Detail::kTls;
  flow->tls_server_name = sites[n];
  flow->tls_version = rng.Chance(0.7) ? 772 : 771;
  flow->ja3c_hash = PickJa3c(client, generic_, rng);
  flow->ja3s_hash = ja3s_.back()[(flow->tls_version == 772 ? 2 : 0) + n % 2];
  SetL7(91, "TLS", 0, "", flow);
  FillTcp(kIntranetShape, 0.5, 1, rng, flow);
  if (flow->out_pkts == 0 || flow->server_tcp_flags == (kRst | kAck)) flow->ja3s_hash = {};
}

void BenignScenario::Http(bool v6, const Site& site, Rng& rng, FlowRecord* flow) {
  const auto endpoints = HttpEndpoints();
  const HttpEndpoint& e = endpoints[http_endpoints_.Sample(rng)];
  const Host& client = site.PickWorkstation(rng);
  const Org& org = e.app_id == 147 ? windows_update_ : generic_;
  // Both ends in one family: an org without IPv6 servers is reached over IPv4.
  v6 = v6 && org.v6_tag != 0;
  SetClient(client, v6, rng, flow);
  SetServer(OrgServer(org, static_cast<uint32_t>(Mix64(e.host.size(), e.host[0]) + rng.Below(2)), v6), 80,
            network_.probe(site.index()).wan_if, flow);
  flow->detail = L7Detail::kHttp;
  flow->http_host = e.host;
  flow->http_method = e.method;
  flow->http_ret_code = e.status;
  flow->http_url.assign(e.path);
  if (e.host == "example.org" && rng.Chance(0.3)) {
    const auto odd = HttpOddPaths();
    flow->http_url.assign(odd[rng.Below(odd.size())]);
    flow->http_ret_code = 200;
  } else if (e.random_query) {
    flow->http_url.push_back('?');
    AppendHex(rng.Next(), 16, &flow->http_url);
  }
  SetL7(7, "HTTP", e.app_id, e.app_name, flow);
  TcpShape shape = kHttpShape;
  shape.resp_median = 250 + (flow->http_ret_code == 304 || flow->http_ret_code == 204 ? 0 : e.response_bytes);
  shape.resp_sigma = 0.4;
  FillTcp(shape, org.rtt_ms, 1, rng, flow);
}

void BenignScenario::Icmp(const Site& site, Rng& rng, FlowRecord* flow) {
  const Host& client = site.PickWorkstation(rng);
  SetClient(client, false, rng, flow);
  flow->src_port = 0;
  flow->protocol = 1;
  flow->detail = L7Detail::kIcmp;
  SetL7(81, "ICMP", 0, "", flow);
  const double kind = rng.Uniform();
  if (kind < 0.85) {
    // Echo: Windows pings 4 x 32-byte payload (60 B), Unix 56-byte (84 B).
    flow->icmp_type = 8 * 256;
    const double where = rng.Uniform();
    if (where < 0.4) {
      SetServer(IpAddress::V4((client.v4.v4 & 0xffffff00u) | 1), 0, client.snmp_if, flow);
    } else if (where < 0.8) {
      const Host s = site.Server(ServerRole::kSshHost, static_cast<uint32_t>(rng.Below(40)));
      SetServer(s.v4, 0, site.server_if(), flow);
    } else {
      SetServer(IpAddress::V4(PublicResolvers()[0].v4), 0, network_.probe(site.index()).wan_if, flow);
    }
    const uint64_t n = client.os == HostOs::kWindows ? 4 : static_cast<uint64_t>(rng.Between(1, 10));
    const uint64_t size = client.os == HostOs::kWindows ? 60 : 84;
    flow->in_pkts = n;
    flow->in_bytes = n * size;
    if (!rng.Chance(0.1)) {
      flow->out_pkts = n;
      flow->out_bytes = n * size;
    }
    flow->end_ms = flow->start_ms + static_cast<int64_t>(n - 1) * 1000 + rng.Between(0, 20);
    return;
  }
  // Errors are initiated by the router or server that reports them.
  const Host reporter = site.Server(ServerRole::kNetworkDevice, static_cast<uint32_t>(rng.Below(4)));
  SetClient(reporter, false, rng, flow);
  flow->src_port = 0;
  SetServer(client.v4, 0, client.snmp_if, flow);
  flow->icmp_type = kind < 0.93 ? 3 * 256 + 3 : kind < 0.97 ? 3 * 256 + 1 : 11 * 256;
  flow->in_pkts = static_cast<uint64_t>(rng.Between(1, 3));
  flow->in_bytes = flow->in_pkts * static_cast<uint64_t>(rng.Between(56, 120));
  flow->end_ms = flow->start_ms + rng.Between(0, 2000) * static_cast<int64_t>(flow->in_pkts - 1);
}

void BenignScenario::Icmpv6(const Site& site, Rng& rng, FlowRecord* flow) {
  const Host& client = site.PickWorkstation(rng);
  SetClient(client, true, rng, flow);
  flow->src_port = 0;
  flow->protocol = 58;
  flow->detail = L7Detail::kIcmp;
  SetL7(102, "ICMPV6", 0, "", flow);
  const double kind = rng.Uniform();
  flow->end_ms = flow->start_ms;
  if (kind < 0.5) {  // echo to a server
    const Host s = site.Server(ServerRole::kSshHost, static_cast<uint32_t>(rng.Below(40)));
    SetServer(s.v6, 0, site.server_if(), flow);
    flow->icmp_type = 128 * 256;
    const uint64_t n = static_cast<uint64_t>(rng.Between(1, 5));
    flow->in_pkts = flow->out_pkts = n;
    flow->in_bytes = flow->out_bytes = n * 104;
    flow->end_ms += static_cast<int64_t>(n - 1) * 1000 + rng.Between(0, 5);
    return;
  }
  // Neighbour discovery is link-local multicast: hop limit 255, no reply flow.
  const auto& target = site.Server(ServerRole::kSshHost, static_cast<uint32_t>(rng.Below(40))).v6.v6;
  IpAddress dst;
  if (kind < 0.85) {  // neighbour solicitation to the solicited-node group
    dst = IpAddress::V6({0xff02, 0, 0, 0, 0, 1, static_cast<uint16_t>(0xff00 | (target[6] & 0xff)), target[7]});
    flow->icmp_type = 135 * 256;
    flow->in_bytes = 72;
  } else {  // router solicitation
    dst = IpAddress::V6({0xff02, 0, 0, 0, 0, 0, 0, 2});
    flow->icmp_type = 133 * 256;
    flow->in_bytes = 56;
  }
  SetServer(dst, 0, 0, flow);
  flow->dst_mac = MulticastMac(dst);
  flow->in_pkts = 1;
  flow->min_ttl = flow->max_ttl = 255;
}

void BenignScenario::LinkLocal(Service service, bool v6, const Site& site, Rng& rng, FlowRecord* flow) {
  const Host& client = site.PickWorkstation(rng);
  SetClient(client, v6, rng, flow);
  IpAddress dst;
  uint16_t port = 0;
  uint64_t pkts = 1;
  uint64_t payload = 0;
  uint8_t ttl = 0;
  switch (service) {
    case Service::kMdns:
      dst = v6 ? IpAddress::V6({0xff02, 0, 0, 0, 0, 0, 0, 0xfb}) : IpAddress::V4(Ipv4(224, 0, 0, 251));
      port = 5353;
      flow->src_port = 5353;
      pkts = static_cast<uint64_t>(rng.Between(1, 4));
      payload = pkts * static_cast<uint64_t>(rng.Between(40, 380));
      ttl = 255;
      SetL7(8, "MDNS", 0, "", flow);
      break;
    case Service::kLlmnr:
      dst = v6 ? IpAddress::V6({0xff02, 0, 0, 0, 0, 0, 1, 3}) : IpAddress::V4(Ipv4(224, 0, 0, 252));
      port = 5355;
      pkts = static_cast<uint64_t>(rng.Between(1, 2));
      payload = pkts * static_cast<uint64_t>(rng.Between(24, 60));
      ttl = 1;
      SetL7(154, "LLMNR", 0, "", flow);
      break;
    case Service::kSsdp:
      dst = IpAddress::V4(Ipv4(239, 255, 255, 250));
      port = 1900;
      pkts = static_cast<uint64_t>(rng.Between(1, 6));
      payload = pkts * static_cast<uint64_t>(rng.Between(120, 180));
      ttl = 4;
      SetL7(12, "SSDP", 0, "", flow);
      break;
    default:  // NetBIOS name service broadcast
      dst = IpAddress::V4((client.v4.v4 & 0xffffff00u) | 255);  // the VLAN's /24 broadcast
      port = 137;
      flow->src_port = 137;
      pkts = static_cast<uint64_t>(rng.Between(1, 3));
      payload = pkts * 50;
      ttl = InitialTtl(client.os);
      SetL7(10, "NetBIOS", 0, "", flow);
      break;
  }
  SetServer(dst, port, 0, flow);
  flow->dst_mac = service == Service::kNetbios ? 0xFFFFFFFFFFFFULL : MulticastMac(dst);
  flow->min_ttl = flow->max_ttl = ttl;
  FillUdp(pkts, payload, 0, 0, pkts == 1 ? 0 : rng.Between(1, 3000), flow);
}

void BenignScenario::TeamsMedia(const Site& site, Rng& rng, FlowRecord* flow) {
  const Host& client = site.PickWorkstation(rng);
  SetClient(client, false, rng, flow);
  flow->src_port = static_cast<uint16_t>(rng.Between(50000, 50059));  // Teams media port range
  SetServer(OrgServer(teams_, static_cast<uint32_t>(rng.Below(16)), false),
            static_cast<uint16_t>(3478 + rng.Below(4)), network_.probe(site.index()).wan_if, flow);
  SetL7(78, "STUN", teams_.app_id, teams_.app_name, flow);
  flow->src_tos = 184;  // DSCP EF for real-time media
  const int64_t ms = std::min<int64_t>(static_cast<int64_t>(LogNormal(rng, 90000, 1.5)),
                                       kLifetimeTimeoutMs - rng.Between(0, 800));
  const bool video = rng.Chance(0.4);
  const uint64_t per_sec = static_cast<uint64_t>(rng.Between(45, 55));
  const uint64_t pkts = std::max<uint64_t>(2, per_sec * static_cast<uint64_t>(ms) / 1000);
  const uint64_t size = video ? 900 : 160;
  FillUdp(pkts, pkts * size, pkts - pkts / 20, (pkts - pkts / 20) * size, ms, flow);
}

}  // namespace flowlake::synth

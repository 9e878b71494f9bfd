// BenignScenario: everyday enterprise traffic.
//
// The traffic model (see README.md for the numbers):
//  * Who: workstations drawn with Zipf-like activity; servers for the flows
//    servers initiate (DNS forwarding, database clients, SNMP polling,
//    syslog).
//  * What: a weighted service mix (DNS, TLS to SaaS, QUIC, HTTP, SMB,
//    Kerberos, LDAP, NTP, SSH, RDP, SQL, ICMP, DHCP, SNMP, syslog, mDNS,
//    LLMNR, SSDP, NetBIOS, Teams media). About 9% of flows are IPv6.
//  * Where to: internal servers of the site, or Internet organisations from
//    internet.h chosen by popularity, then a host name by Zipf.
//  * How much: log-normal payloads with Pareto tails per service; packets
//    follow from payload, segment size and header overhead; durations
//    log-normal per service, stretched by transfer size, cut at nProbe's
//    default 120 s lifetime timeout (long sessions show up as slices).
//  * TCP: handshake outcome (normal, reset, refused, unanswered, lifetime
//    slice) decides client/server flags, and whether latencies exist.
//
// Contract: not thread-safe (see Scenario). `network` must outlive this.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "synth/distributions.h"
#include "synth/internet.h"
#include "synth/network.h"
#include "synth/scenario.h"

namespace flowlake::synth {

class BenignScenario : public Scenario {
 public:
  // Share of flows that are IPv6.
  static constexpr double kIpv6Share = 0.09;
  // nProbe's default lifetime timeout (-t 120): no flow lasts longer.
  static constexpr int64_t kLifetimeTimeoutMs = 120000;

  explicit BenignScenario(const Network& network);

  std::string_view name() const override { return "benign"; }
  void Generate(uint32_t probe, int64_t start_ms, Rng& rng, FlowRecord* flow) override;

  // The services of the mix, for tests and documentation.
  enum class Service : uint8_t {
    kDnsInternal,
    kDnsForward,
    kTlsSaas,
    kQuic,
    kTlsIntranet,
    kHttp,
    kSmb,
    kKerberos,
    kLdap,
    kNtp,
    kNtpUpstream,
    kSsh,
    kRdp,
    kMssql,
    kPostgres,
    kMysql,
    kIcmp,
    kIcmpv6,
    kDhcp,
    kSnmp,
    kSyslog,
    kMdns,
    kLlmnr,
    kSsdp,
    kNetbios,
    kTeamsMedia,
    kCount,
  };

  // The TCP shape of a service: payloads, segment sizes, timing, failures.
  struct TcpShape {
    double req_median;  // client->server payload bytes
    double req_sigma;   // log2 units
    double resp_median;
    double resp_sigma;
    double tail_prob;  // chance the response is a Pareto elephant instead
    double tail_scale;
    uint16_t req_segment;  // average payload per data packet
    uint16_t resp_segment;
    double duration_median_ms;
    double duration_sigma;
    double appl_latency_ms;
    double fail_prob;  // unanswered or refused connections
    uint32_t req_floor = 0;   // protocol minimum (a TLS ClientHello, HTTP headers)
    uint32_t resp_floor = 0;  // (a TLS server hello with certificates)
  };

 private:
  enum class TlsClient : uint8_t { kChrome, kEdge, kFirefox, kSafari, kSchannel, kCurl, kPython, kGo, kCount };

  void GenerateService(Service service, bool v6, const Site& site, const Probe& probe, Rng& rng,
                       FlowRecord* flow);
  // Source side: addresses, MACs, VLAN, TTLs, ephemeral port.
  void SetClient(const Host& client, bool v6, Rng& rng, FlowRecord* flow) const;
  void SetServer(const IpAddress& dst, uint16_t dst_port, uint16_t output_if, FlowRecord* flow) const;
  // TCP counters, flags, timing and latencies from a shape.
  void FillTcp(const TcpShape& shape, double server_rtt_ms, double size_scale, Rng& rng,
               FlowRecord* flow) const;
  void FillUdp(uint64_t in_pkts, uint64_t in_payload, uint64_t out_pkts, uint64_t out_payload,
               int64_t duration_ms, FlowRecord* flow) const;
  void SetL7(uint16_t master, std::string_view master_name, uint16_t app, std::string_view app_name,
             FlowRecord* flow) const;

  void Dns(bool v6, const Site& site, bool forwarder, Rng& rng, FlowRecord* flow);
  void Tls(bool v6, const Site& site, bool quic, Rng& rng, FlowRecord* flow);
  void TlsIntranet(bool v6, const Site& site, Rng& rng, FlowRecord* flow);
  void Http(bool v6, const Site& site, Rng& rng, FlowRecord* flow);
  void Icmp(const Site& site, Rng& rng, FlowRecord* flow);
  void Icmpv6(const Site& site, Rng& rng, FlowRecord* flow);
  void LinkLocal(Service service, bool v6, const Site& site, Rng& rng, FlowRecord* flow);
  void TeamsMedia(const Site& site, Rng& rng, FlowRecord* flow);
  std::string_view PickJa3c(const Host& client, const Org& org, Rng& rng) const;

  const Network& network_;
  WeightedTable services_v4_;
  WeightedTable services_v6_;
  WeightedTable tls_orgs_v4_;
  WeightedTable tls_orgs_v6_;
  WeightedTable quic_orgs_v4_;
  WeightedTable quic_orgs_v6_;
  std::vector<uint32_t> tls_v6_org_index_;   // tls_orgs_v6_ row -> Orgs() index
  std::vector<uint32_t> quic_v6_org_index_;
  std::vector<WeightedTable> org_hosts_;     // Zipf over each org's host names
  WeightedTable http_endpoints_;
  WeightedTable internal_names_;
  std::array<std::array<std::string, 3>, static_cast<size_t>(TlsClient::kCount)> ja3c_;
  std::vector<std::array<std::string, 4>> ja3s_;  // per org: TLS 1.2 x2, TLS 1.3 x2
  const Org& github_;
  const Org& windows_update_;
  const Org& teams_;
  const Org& generic_;
};

}  // namespace flowlake::synth

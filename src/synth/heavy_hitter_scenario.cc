#include "synth/heavy_hitter_scenario.h"

#include <algorithm>

#include "synth/internet.h"
#include "synth/rng.h"

namespace flowlake::synth {

namespace {

constexpr int64_t kMinuteMs = 60000;
constexpr int64_t kBackupMinutesPerHalfHour = 10;
// The resolver's most-queried registered domain: 40% of its queries.
constexpr double kGoogleShare = 0.4;
constexpr std::string_view kGoogleNames[] = {"www.google.com",  "accounts.google.com", "mail.google.com",
                                             "docs.google.com", "clients4.google.com", "drive.google.com",
                                             "apis.google.com", "play.google.com",     "meet.google.com"};

// A flow from `client` (an inside host) to `dst`, seen at site 0's probe.
FlowRecord& Emit(std::string_view label, const Host& client, const IpAddress& dst, uint16_t output_if,
                 uint8_t protocol, uint16_t dst_port, int64_t start_ms, Rng& rng,
                 std::vector<ScheduledFlow>* out) {
  ScheduledFlow& s = out->emplace_back();
  s.scenario = label;
  FlowRecord& f = s.flow;
  f.probe = 0;
  f.src = client.v4;
  f.dst = dst;
  f.protocol = protocol;
  f.src_port = static_cast<uint16_t>(client.os == HostOs::kWindows ? rng.Between(49152, 65535)
                                                                   : rng.Between(32768, 60999));
  f.dst_port = dst_port;
  f.start_ms = f.end_ms = start_ms;
  f.src_mac = client.mac;
  f.dst_mac = client.gateway_mac;
  f.vlan = client.vlan;
  f.input_snmp = client.snmp_if;
  f.output_snmp = output_if;
  f.min_ttl = f.max_ttl = static_cast<uint8_t>((client.os == HostOs::kWindows ? 128 : 64) - client.hops_to_probe);
  return f;
}

}  // namespace

HeavyHitterScenario::HeavyHitterScenario(const Network& network, uint64_t seed)
    : network_(network), seed_(Mix64(seed, 0x6865617679ULL)) {  // "heavy"
  std::vector<double> weights;
  for (const Org& org : Orgs()) {
    for (size_t i = 0; i < org.hosts.size(); ++i) {
      names_.push_back(org.hosts[i]);
      const double rank = static_cast<double>(i + 1);
      weights.push_back((org.tls_weight + 0.1) / (rank * rank));
    }
  }
  resolver_names_ = WeightedTable(weights);
}

void HeavyHitterScenario::AppendFlows(int64_t window_start_ms, std::vector<ScheduledFlow>* out) const {
  const Site& site = network_.site(0);
  const Probe& probe = network_.probe(0);
  Rng rng(Mix64(seed_, static_cast<uint64_t>(window_start_ms)));
  // Every flow starts and ends inside the minute.
  const auto start_in_minute = [&](int64_t latest_offset_ms) {
    return window_start_ms + rng.Between(0, latest_offset_ms);
  };
  const int64_t window_end_ms = window_start_ms + kMinuteMs - 1;

  // The busy intranet web server: full TLS sessions from many workstations.
  const Host web = site.Server(ServerRole::kIntranetWeb, 0);
  const std::string_view sni = IntranetSites()[0];
  for (uint32_t i = 0; i < kWebFlowsPerMinute; ++i) {
    FlowRecord& f = Emit("benign.web_server", site.PickWorkstation(rng), web.v4, site.server_if(), 6, 443,
                         start_in_minute(58000), rng, out);
    f.client_tcp_flags = f.server_tcp_flags = kSyn | kAck | kPsh | kFin;
    f.in_pkts = static_cast<uint64_t>(rng.Between(6, 30));
    f.in_bytes = f.in_pkts * 52 + 517 + static_cast<uint64_t>(rng.Between(200, 4000));
    f.out_pkts = f.in_pkts + static_cast<uint64_t>(rng.Between(2, 40));
    f.out_bytes = f.out_pkts * 52 + 2800 + static_cast<uint64_t>(rng.Between(500, 50000));
    f.end_ms = std::min(window_end_ms, f.start_ms + rng.Between(20, 3000));
    f.detail = L7Detail::kTls;
    f.l7_master = 91;
    f.l7_master_name = "TLS";
    f.tls_server_name.assign(sni);
    f.tls_version = 772;
  }

  // The nightly-style backup job, in the first minutes of every half hour.
  if ((window_start_ms / kMinuteMs) % 30 < kBackupMinutesPerHalfHour) {
    const Host db = site.Server(ServerRole::kDatabase, 0);
    const Host fs = site.Server(ServerRole::kFileServer, 1);
    for (uint32_t i = 0; i < kBackupStreams; ++i) {
      FlowRecord& f = Emit("benign.backup", db, fs.v4, site.server_if(), 6, 445, start_in_minute(500), rng, out);
      f.client_tcp_flags = f.server_tcp_flags = kSyn | kAck | kPsh | kFin;
      f.in_bytes = kBackupBytesPerStream / 10 * static_cast<uint64_t>(rng.Between(9, 11));
      f.in_pkts = f.in_bytes / 1448 + 3;
      f.out_pkts = f.in_pkts / 2;
      f.out_bytes = f.out_pkts * 52;
      f.end_ms = std::min(window_end_ms, f.start_ms + rng.Between(57000, 59000));
      f.l7_master = 41;
      f.l7_master_name = "SMBv23";
    }
  }

  // The resolver: a domain controller forwarding ordinary names upstream.
  const Host dc = site.Server(ServerRole::kDomainController, 0);
  const auto resolvers = PublicResolvers();
  for (uint32_t i = 0; i < kResolverQueriesPerMinute; ++i) {
    const PublicResolver& r = resolvers[rng.Below(resolvers.size())];
    FlowRecord& f = Emit("benign.dns_resolver", dc, IpAddress::V4(r.v4), probe.wan_if, 17, 53,
                         start_in_minute(59000), rng, out);
    f.detail = L7Detail::kDns;
    f.l7_master = 5;
    f.l7_master_name = "DNS";
    f.dns_query.assign(rng.Chance(kGoogleShare) ? kGoogleNames[rng.Below(std::size(kGoogleNames))]
                                                : names_[resolver_names_.Sample(rng)]);
    f.dns_query_type = rng.Chance(0.7) ? 1 : 28;
    const uint64_t query = 12 + f.dns_query.size() + 2 + 4 + 11;
    f.in_pkts = f.out_pkts = 1;
    f.in_bytes = 28 + query;
    f.out_bytes = 28 + query + static_cast<uint64_t>(rng.Between(16, 120));
    f.end_ms = std::min(window_end_ms, f.start_ms + rng.Between(5, 60));
  }
}

}  // namespace flowlake::synth

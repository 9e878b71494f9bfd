#include "parquet/synthetic_flows.h"

#include <cmath>
#include <string>
#include <vector>

namespace flowlake::parquet {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {  // splitmix64
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(Next() % n); }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Skewed toward small indexes: popular hosts, ports and names.
  uint32_t Skewed(uint32_t n) {
    const double u = Unit();
    return static_cast<uint32_t>(u * u * u * n) % n;
  }
  bool Chance(double p) { return Unit() < p; }

 private:
  uint64_t s_;
};

std::string Ipv4(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

std::string Hex(uint64_t v, int digits) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = kDigits[v & 15];
  return s;
}

struct Pools {
  std::vector<std::string> internal, external, v6, macs, domains, sni, ja3c, ja3s, hosts;
  explicit Pools(Rng& rng) {
    for (int i = 0; i < 2000; ++i)
      internal.push_back(Ipv4((10u << 24) | (20u << 16) | rng.Below(65536)));
    for (int i = 0; i < 20000; ++i) external.push_back(Ipv4(0x0B000000u + rng.Below(0xC0000000u)));
    for (int i = 0; i < 500; ++i)
      v6.push_back("2001:db8:" + Hex(rng.Below(65536), 4) + "::" + Hex(rng.Below(65536), 4));
    for (int i = 0; i < 40; ++i) {
      const uint64_t m = rng.Next();
      std::string mac;
      for (int b = 0; b < 6; ++b) {
        if (b) mac += ':';
        mac += Hex((m >> (8 * b)) & 255, 2);
      }
      macs.push_back(mac);
    }
    static const char* kTlds[] = {"com", "net", "org", "io", "de"};
    for (int i = 0; i < 3000; ++i) {
      domains.push_back("host" + std::to_string(rng.Below(500)) + ".svc" + std::to_string(i) +
                        ".example." + kTlds[rng.Below(5)]);
    }
    for (int i = 0; i < 1500; ++i)
      sni.push_back("api" + std::to_string(i) + ".cdn" + std::to_string(rng.Below(80)) +
                    ".example.com");
    for (int i = 0; i < 60; ++i) ja3c.push_back(Hex(rng.Next(), 16) + Hex(rng.Next(), 16));
    for (int i = 0; i < 30; ++i) ja3s.push_back(Hex(rng.Next(), 16) + Hex(rng.Next(), 16));
    for (int i = 0; i < 300; ++i) hosts.push_back("www.site" + std::to_string(i) + ".example.org");
  }
};

}  // namespace

void FillSyntheticFlows(size_t rows, uint64_t seed, int64_t start_ms, FlowBatch* batch) {
  Rng rng(seed);
  static const Pools kPools = [] {
    Rng pool_rng(42);
    return Pools(pool_rng);
  }();
  const Pools* pools = &kPools;
  static const char* kProbes[] = {"dc1-probe-a", "dc1-probe-b", "dc2"};
  static const char* kExporters[] = {"192.0.2.10", "192.0.2.11", "198.51.100.7"};
  static const int kPorts[] = {443, 80, 53, 22, 123, 445, 3389, 8080, 993, 25};
  static const char* kL7[] = {"TLS.Google", "TLS", "DNS",    "HTTP",       "TLS.YouTube",   "QUIC",
                              "SSH",        "NTP", "SMBv23", "DNS.Amazon", "TLS.Microsoft", "ICMP"};
  static const char* kMethods[] = {"GET", "POST", "PUT", "HEAD"};
  static const int kFlags[] = {27, 26, 2, 18, 24, 31, 17, 30};

  batch->Clear();
  batch->Reserve(rows);
  auto& b = *batch;
  for (size_t i = 0; i < rows; ++i) {
    const uint32_t kind =
        rng.Below(100);  // 0-24 DNS, 25-29 HTTP, 30-69 TLS, 70-97 other TCP/UDP, 98-99 ICMP
    const bool dns = kind < 25, http = kind >= 25 && kind < 30, tls = kind >= 30 && kind < 70;
    const bool icmp = kind >= 98;
    const bool tcp = !dns && !icmp && (http || tls || rng.Chance(0.7));
    const bool v6 = rng.Chance(0.08);
    b.column(kProbe).AppendString(kProbes[rng.Skewed(3)]);
    b.column(kExporterIp).AppendString(kExporters[rng.Skewed(3)]);
    b.column(kSrcIp).AppendString(v6 ? pools->v6[rng.Skewed(500)]
                                     : pools->internal[rng.Skewed(2000)]);
    b.column(kDstIp).AppendString(v6 ? pools->v6[rng.Skewed(500)]
                                     : pools->external[rng.Skewed(20000)]);
    const int dst_port = dns ? 53 : http ? 80 : tls ? 443 : kPorts[rng.Skewed(10)];
    if (icmp) {
      b.column(kSrcPort).AppendInt32(0);
      b.column(kDstPort).AppendInt32(0);
    } else {
      b.column(kSrcPort).AppendInt32(static_cast<int32_t>(32768 + rng.Below(28232)));
      b.column(kDstPort).AppendInt32(dst_port);
    }
    b.column(kProtocol).AppendInt32(icmp ? 1 : tcp ? 6 : 17);
    b.column(kIpVersion).AppendInt32(v6 ? 6 : 4);
    const uint32_t l7 = dns    ? 2
                        : http ? 3
                        : tls  ? (rng.Chance(0.5) ? 0 : 1 + 3 * rng.Below(2))
                        : icmp ? 11
                               : 5 + rng.Below(6);
    b.column(kL7Master).AppendInt32(static_cast<int32_t>(l7 == 0 ? 91 : l7 * 7));
    b.column(kL7App).AppendInt32(static_cast<int32_t>(l7 * 13 + 1));
    b.column(kL7Name).AppendString(kL7[l7]);
    const auto in_bytes = static_cast<int64_t>(std::exp(3.5 + rng.Unit() * 10));
    const auto out_bytes = static_cast<int64_t>(std::exp(3.5 + rng.Unit() * 12));
    b.column(kInBytes).AppendInt64(in_bytes);
    b.column(kOutBytes).AppendInt64(out_bytes);
    b.column(kInPkts).AppendInt64(1 + in_bytes / 700);
    b.column(kOutPkts).AppendInt64(1 + out_bytes / 900);
    const int64_t start =
        start_ms + static_cast<int64_t>(i) - static_cast<int64_t>(rng.Below(30000));
    const auto duration = static_cast<int64_t>(-std::log(1 - rng.Unit()) * 4000);
    b.column(kStartTime).AppendInt64(start);
    b.column(kEndTime).AppendInt64(start + duration);
    b.column(kDurationMs).AppendInt64(duration);
    const int flags = tcp ? kFlags[rng.Skewed(8)] : 0;
    b.column(kTcpFlags).AppendInt32(flags);
    b.column(kClientTcpFlags).AppendInt32(tcp ? flags & 27 : 0);
    b.column(kServerTcpFlags).AppendInt32(tcp ? flags & 26 : 0);
    b.column(kSrcMac).AppendString(pools->macs[rng.Skewed(40)]);
    b.column(kDstMac).AppendString(pools->macs[rng.Skewed(4)]);
    b.column(kVlan).AppendInt32(static_cast<int32_t>(rng.Skewed(4) * 10));
    b.column(kInputSnmp).AppendInt32(static_cast<int32_t>(1 + rng.Skewed(48)));
    b.column(kOutputSnmp).AppendInt32(static_cast<int32_t>(1 + rng.Skewed(48)));
    b.column(kSrcTos).AppendInt32(rng.Chance(0.9) ? 0 : 46);
    const int ttl = v6 ? 64 : (rng.Chance(0.6) ? 64 : 128) - static_cast<int>(rng.Skewed(20));
    b.column(kMinTtl).AppendInt32(ttl - static_cast<int>(rng.Below(2)));
    b.column(kMaxTtl).AppendInt32(ttl);
    b.column(kIcmpType).AppendInt32(icmp ? (rng.Chance(0.5) ? 2048 : 0) : 0);
    b.column(kRetransmittedInPkts).AppendInt64(tcp && rng.Chance(0.1) ? rng.Below(5) : 0);
    b.column(kRetransmittedOutPkts).AppendInt64(tcp && rng.Chance(0.1) ? rng.Below(5) : 0);
    if (tcp) {
      b.column(kClientLatencyMs).AppendDouble(std::round(rng.Unit() * 5000) / 1000);
      b.column(kServerLatencyMs).AppendDouble(std::round(rng.Unit() * 80000) / 1000);
      b.column(kApplLatencyMs).AppendDouble(std::round(rng.Unit() * 300000) / 1000);
    } else {
      b.column(kClientLatencyMs).AppendNull();
      b.column(kServerLatencyMs).AppendNull();
      b.column(kApplLatencyMs).AppendNull();
    }
    if (dns) {
      b.column(kDnsQuery).AppendString(pools->domains[rng.Skewed(3000)]);
      b.column(kDnsQueryType).AppendInt32(rng.Chance(0.7) ? 1 : 28);
      b.column(kDnsRetCode).AppendInt32(rng.Chance(0.95) ? 0 : 3);
    } else {
      b.column(kDnsQuery).AppendNull();
      b.column(kDnsQueryType).AppendNull();
      b.column(kDnsRetCode).AppendNull();
    }
    if (http) {
      const uint32_t host = rng.Skewed(300);
      b.column(kHttpUrl).AppendString("/p" + std::to_string(rng.Skewed(200)) +
                                      "/item?id=" + std::to_string(rng.Below(1000000)));
      b.column(kHttpHost).AppendString(pools->hosts[host]);
      b.column(kHttpMethod).AppendString(kMethods[rng.Skewed(4)]);
      b.column(kHttpRetCode).AppendInt32(rng.Chance(0.9) ? 200 : 404);
    } else {
      b.column(kHttpUrl).AppendNull();
      b.column(kHttpHost).AppendNull();
      b.column(kHttpMethod).AppendNull();
      b.column(kHttpRetCode).AppendNull();
    }
    if (tls) {
      b.column(kTlsServerName).AppendString(pools->sni[rng.Skewed(1500)]);
      b.column(kTlsVersion).AppendInt32(rng.Chance(0.8) ? 772 : 771);
      b.column(kJa3cHash).AppendString(pools->ja3c[rng.Skewed(60)]);
      b.column(kJa3sHash).AppendString(pools->ja3s[rng.Skewed(30)]);
    } else {
      b.column(kTlsServerName).AppendNull();
      b.column(kTlsVersion).AppendNull();
      b.column(kJa3cHash).AppendNull();
      b.column(kJa3sHash).AppendNull();
    }
  }
}

}  // namespace flowlake::parquet

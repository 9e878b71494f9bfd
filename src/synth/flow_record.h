// FlowRecord: one synthetic flow as a scenario produces it, before any JSON.
//
// Scenarios (benign mix today; attacks and heavy hitters later) fill a
// FlowRecord; NprobeJsonEncoder renders it in one of nProbe's JSON dialects.
// Keeping the model apart from the rendering means a scenario never thinks
// about key styles or templates, and a ground-truth writer can later read the
// same record the encoder rendered.
//
// Direction follows nProbe biflows: src is the initiator (client), IN_* count
// src->dst, OUT_* the reverse.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace flowlake::synth {

struct IpAddress {
  static IpAddress V4(uint32_t address) {
    IpAddress a;
    a.v4 = address;
    return a;
  }
  static IpAddress V6(const std::array<uint16_t, 8>& words) {
    IpAddress a;
    a.is_v6 = true;
    a.v6 = words;
    return a;
  }
  bool is_v6 = false;
  uint32_t v4 = 0;                // host order: 10.0.0.1 is 0x0a000001
  std::array<uint16_t, 8> v6{};  // eight 16-bit groups, most significant first
};

constexpr uint32_t Ipv4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// What L7 details a flow carries (which optional nProbe fields apply).
enum class L7Detail : uint8_t { kNone, kDns, kHttp, kTls, kQuic, kIcmp };

// TCP flag bits as nProbe reports them.
enum TcpFlag : uint8_t {
  kFin = 0x01,
  kSyn = 0x02,
  kRst = 0x04,
  kPsh = 0x08,
  kAck = 0x10,
};

// String fields are either views of static catalog data or, for composed
// values (DNS names, URLs), held in the std::string members, which keep their
// capacity between records so a warm generator does not allocate.
struct FlowRecord {
  uint32_t probe = 0;  // index into Network::probes()
  IpAddress src;
  IpAddress dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t protocol = 0;  // IANA: 1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6

  // nDPI classification: L7_PROTO "master.app" (app 0: just "master").
  uint16_t l7_master = 0;
  uint16_t l7_app = 0;
  std::string_view l7_master_name;
  std::string_view l7_app_name;

  uint64_t in_bytes = 0;
  uint64_t in_pkts = 0;
  uint64_t out_bytes = 0;
  uint64_t out_pkts = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;

  // L2 / interface view of the probe.
  uint64_t src_mac = 0;  // 48 bits
  uint64_t dst_mac = 0;
  uint16_t vlan = 0;
  uint16_t input_snmp = 0;
  uint16_t output_snmp = 0;
  uint8_t src_tos = 0;
  uint8_t min_ttl = 0;
  uint8_t max_ttl = 0;

  // TCP only (protocol 6).
  uint8_t client_tcp_flags = 0;
  uint8_t server_tcp_flags = 0;
  uint64_t retransmitted_in_pkts = 0;
  uint64_t retransmitted_out_pkts = 0;
  bool has_latency = false;  // handshake seen: latencies below are meaningful
  uint32_t client_latency_us = 0;
  uint32_t server_latency_us = 0;
  uint32_t appl_latency_us = 0;

  L7Detail detail = L7Detail::kNone;
  uint16_t icmp_type = 0;  // type * 256 + code
  std::string dns_query;
  uint16_t dns_query_type = 0;
  uint8_t dns_ret_code = 0;
  std::string http_url;
  std::string_view http_host;
  std::string_view http_method;
  uint16_t http_ret_code = 0;
  std::string tls_server_name;
  uint16_t tls_version = 0;  // 771 TLS 1.2, 772 TLS 1.3
  std::string_view ja3c_hash;
  std::string_view ja3s_hash;

  uint8_t tcp_flags() const { return client_tcp_flags | server_tcp_flags; }

  // Back to defaults, keeping the strings' capacity.
  void Reset() {
    std::string dns = std::move(dns_query);
    std::string url = std::move(http_url);
    std::string sni = std::move(tls_server_name);
    *this = FlowRecord();
    dns.clear();
    url.clear();
    sni.clear();
    dns_query = std::move(dns);
    http_url = std::move(url);
    tls_server_name = std::move(sni);
  }
};

}  // namespace flowlake::synth

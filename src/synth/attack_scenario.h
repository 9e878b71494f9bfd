// AttackScenario: labelled attacks, one or more instances of every detector's
// pattern, with the ground truth a detector test compares against.
//
// Given the traffic's time span and a seed, the constructor schedules each
// instance at a random whole minute inside the span and builds its flows
// there and then (about 1,300 flows in all). Every flow of an instance starts
// and ends inside that one minute, so the ground truth names one 1-minute
// event-time window (aligned to the minute, by flow start) and is not split
// between two. Each instance is 2-2.5x its detector's threshold, with its own
// attacker and victim, so instances do not add up to an unlabelled detection.
//
// Addresses follow the Network model: victims are hosts of one site (probe);
// attackers come from internet ranges (scanner hosting nets, random public
// addresses for spoofed floods); exfiltration goes from a workstation to an
// external address; blocklisted addresses come from 198.18.0.0/15 (RFC 2544
// benchmarking) and 2001:db8:bad::/48, which the benign mix never uses
// (TEST-NET-3, 203.0.113.0/24, is one of the benign "generic" org's pools, so
// it cannot serve as a blocklist here). Scan ports avoid 23/445/3389 so that
// only the suspicious_port instances trip that rule.
//
// Why not a Scenario: attacks are bursts bound to a minute, not a share of
// every minute's flows; the generator asks for a window's flows instead.
//
// Contract: immutable after construction, so safe to share between threads.
// `network` must outlive this.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "synth/network.h"
#include "synth/scenario.h"

namespace flowlake::synth {

enum class AttackType : uint8_t {
  kPortScanVertical,    // one src -> one dst, >= 100 distinct dst ports
  kPortScanHorizontal,  // one src -> >= 64 distinct dsts on one dst port
  kSynFlood,            // >= 256 TCP flows SYN without ACK to one dst
  kVolumetric,          // >= 1 Gbit/s or >= 20k packets/s to one dst from >= 10 sources
  kIcmpFlood,           // >= 250 ICMP packets/s to one dst
  kBlocklist,           // src or dst in the blocklist
  kDnsTunnel,           // >= 50 long/high-entropy queries from one src to one registered domain
  kExfiltration,        // >= 1 GB IN_BYTES from one src to outside local networks
  kSuspiciousPort,      // from outside local networks to dst port 23, 445 or 3389
  kCount,
};

// The detector's name: "port_scan.vertical", "syn_flood", ...
std::string_view AttackTypeName(AttackType type);

// One injected instance: what a detector must report for one window.
struct AttackInstance {
  AttackType type = AttackType::kCount;
  int64_t window_start_ms = 0;  // a multiple of kWindowMs
  uint32_t probe = 0;           // the site the victim (or the inside host) is in
  bool has_src = false;         // floods: many sources, no single src
  IpAddress src;
  bool has_dst = false;  // horizontal scan: many dsts
  IpAddress dst;
  bool has_dst_port = false;
  uint16_t dst_port = 0;
  std::string domain;            // dns_tunnel: the registered domain
  uint64_t expected_count = 0;   // the injected amount of `count_of`
  std::string_view count_of;     // "distinct_dst_ports", "flows", "in_bytes", ...
  uint64_t threshold = 0;        // the detector's threshold in the same unit
  uint64_t sources = 0;          // distinct sources (floods), else 0
  std::vector<FlowRecord> flows;
};

class AttackScenario {
 public:
  static constexpr int64_t kWindowMs = 60000;
  // Detector thresholds per window, in the unit each instance counts.
  static constexpr uint64_t kVerticalPorts = 100;
  static constexpr uint64_t kHorizontalDsts = 64;
  static constexpr uint64_t kSynFlows = 256;
  static constexpr uint64_t kVolumetricBytes = 7'500'000'000;  // 1 Gbit/s over 60 s
  static constexpr uint64_t kVolumetricPackets = 1'200'000;    // 20k packets/s over 60 s
  static constexpr uint64_t kVolumetricSources = 10;
  static constexpr uint64_t kIcmpPackets = 15'000;  // 250 packets/s over 60 s
  static constexpr uint64_t kDnsQueries = 50;
  static constexpr size_t kDnsLongLabel = 52;  // a label longer than this is suspicious
  static constexpr uint64_t kExfilBytes = 1'000'000'000;

  // Schedules the instances at whole minutes inside [start_ms, start_ms +
  // span_ms); the span must contain at least one whole minute (a span of
  // 2 minutes always does; TrafficConfig::Validate checks it).
  AttackScenario(const Network& network, int64_t start_ms, int64_t span_ms, uint64_t seed);

  const std::vector<AttackInstance>& instances() const { return instances_; }

  // Appends the flows of every instance in the window starting at
  // `window_start_ms`, unsorted, labelled "attack.<type>".
  void AppendFlows(int64_t window_start_ms, std::vector<ScheduledFlow>* out) const;

  // The ground truth: one JSON object per instance and line, in schedule order:
  // {"type":"port_scan.vertical","window_start":"2025-12-01T00:07:00Z",
  //  "src_ip":"45.155.205.17","dst_ip":"10.20.100.43","expected_count":250,
  //  "count_of":"distinct_dst_ports","threshold":100}
  // src_ip, dst_ip, dst_port, domain and sources appear when they apply.
  std::string GroundTruthJsonl() const;

  // The blocklist file: '#' comments, then one CIDR per line.
  static std::string_view BlocklistText();

 private:
  const Network& network_;
  std::vector<AttackInstance> instances_;
};

// "2025-12-01T00:07:00Z" (UTC, whole seconds).
std::string FormatUtcSeconds(int64_t epoch_ms);

}  // namespace flowlake::synth

// Network: the enterprise the synthetic traffic comes from.
//
// One site per probe. Each site has user VLANs full of workstations, a server
// VLAN (domain controllers, file servers, intranet web, databases, SSH and
// RDP hosts, syslog and monitoring) and a management VLAN of network devices.
// Addresses are private (10/8, 172.16/12, 192.168/16 by site) and, for IPv6,
// 2001:db8::/32 (even sites) or fd00::/8 ULA (odd sites).
//
// Every host attribute (address, MAC, OS, VLAN) is a pure function of the
// site and host index, so a generator, a test or a future ground-truth writer
// can rebuild the same Network from the probe count alone.
//
// Contract: immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "synth/distributions.h"
#include "synth/flow_record.h"

namespace flowlake::synth {

// Decides TTLs and ephemeral port ranges, and which TLS clients a host runs.
enum class HostOs : uint8_t { kWindows, kMacos, kLinux, kNetworkOs };

struct Host {
  IpAddress v4;
  IpAddress v6;
  uint64_t mac = 0;
  HostOs os = HostOs::kWindows;
  uint16_t vlan = 0;
  uint16_t snmp_if = 0;       // ifIndex of the host's VLAN interface on the probe
  uint64_t gateway_mac = 0;   // VRRP MAC of the VLAN's default gateway
  uint8_t hops_to_probe = 0;  // TTL decrement before the probe sees packets
};

enum class ServerRole : uint8_t {
  kDomainController,  // DNS, Kerberos, LDAP, NTP, DHCP
  kFileServer,
  kIntranetWeb,
  kDatabase,
  kSshHost,
  kRdpHost,
  kSyslogCollector,
  kMonitoring,  // SNMP poller
  kAppServer,   // database clients
  kNetworkDevice,
};

// Which optional fields a probe's JSON template carries. Real deployments run
// different nProbe versions and templates side by side.
struct ProbeTemplate {
  bool dual_stack_addresses = false;  // both IPv4 and IPv6 keys, with 0.0.0.0 / :: placeholders
  bool l2_fields = true;              // MACs, VLAN, SNMP interfaces
  bool empty_l7_strings = false;      // DNS_QUERY/HTTP_URL/HTTP_HOST as "" when not applicable
};

struct Probe {
  std::string name;  // PROBEID
  uint32_t exporter_ipv4 = 0;
  ProbeTemplate json_template;
  uint16_t wan_if = 1;  // ifIndex towards the Internet
};

class Site {
 public:
  static constexpr uint32_t kUserVlans = 4;
  static constexpr uint32_t kHostsPerUserVlan = 230;
  static constexpr uint32_t kWorkstations = kUserVlans * kHostsPerUserVlan;

  explicit Site(uint32_t index);

  uint32_t index() const { return index_; }
  const Host& workstation(uint32_t i) const { return workstations_[i]; }
  // A workstation drawn by Zipf-like activity (a few hosts make most flows).
  const Host& PickWorkstation(Rng& rng) const;
  // Server `n` (modulo the role's pool size) of a role.
  Host Server(ServerRole role, uint32_t n) const;
  uint32_t ServerCount(ServerRole role) const;
  uint16_t server_if() const;

 private:
  Host MakeHost(uint32_t vlan_slot, uint32_t host_octet, HostOs os, uint64_t v6_iid) const;

  uint32_t index_;
  std::vector<Host> workstations_;
  WeightedTable activity_;
};

class Network {
 public:
  explicit Network(uint32_t probes);

  uint32_t probe_count() const { return static_cast<uint32_t>(probes_.size()); }
  const Probe& probe(uint32_t i) const { return probes_[i]; }
  const Site& site(uint32_t i) const { return sites_[i]; }
  // Bigger sites (lower index) export more flows.
  uint32_t PickProbe(Rng& rng) const { return static_cast<uint32_t>(probe_activity_.Sample(rng)); }

 private:
  std::vector<Probe> probes_;
  std::vector<Site> sites_;
  WeightedTable probe_activity_;
};

}  // namespace flowlake::synth

#include "synth/network.h"

#include <array>
#include <cassert>

namespace flowlake::synth {

namespace {

// VLAN slots: four user VLANs, servers, management.
constexpr uint32_t kServerSlot = 4;
constexpr uint32_t kMgmtSlot = 5;
constexpr std::array<uint16_t, 6> kVlanIds = {10, 20, 30, 40, 100, 250};

// Organisationally unique identifiers of common enterprise hardware.
constexpr std::array<uint64_t, 4> kWindowsOuis = {0xF48E38, 0x8C1645, 0x3C5282, 0x00D861};  // Dell, Lenovo, HP, MSI
constexpr std::array<uint64_t, 2> kMacOuis = {0xA483E7, 0xF01898};                          // Apple
constexpr std::array<uint64_t, 2> kServerOuis = {0x005056, 0x002590};                       // VMware, Supermicro
constexpr uint64_t kCiscoOui = 0x00562B;

constexpr std::array<std::string_view, 8> kSiteNames = {
    "hq-core-a",     "dc1-edge-a",   "branch-lyon",   "dc2-edge-b",
    "branch-berlin", "branch-austin", "hq-core-b",     "branch-singapore"};

// First three octets (as a /24 base) of a VLAN slot at a site.
uint32_t SubnetBase(uint32_t site, uint32_t slot) {
  switch (site % 3) {
    case 0:
      return Ipv4(10, 20 + site % 200, kVlanIds[slot] % 256, 0);
    case 1:
      return Ipv4(172, 16 + site % 16, kVlanIds[slot] % 256, 0);
    default:
      return Ipv4(192, 168, (site % 32) * 8 + slot, 0);
  }
}

// The /64 of a VLAN slot: documentation prefix on even sites, ULA on odd.
std::array<uint16_t, 8> V6Prefix(uint32_t site, uint32_t slot) {
  if (site % 2 == 0) {
    return {0x2001, 0x0db8, static_cast<uint16_t>(0x100 + site), kVlanIds[slot], 0, 0, 0, 0};
  }
  return {0xfd3c, 0x5a7e, static_cast<uint16_t>(0x1000 + site), kVlanIds[slot], 0, 0, 0, 0};
}

struct RolePool {
  uint32_t first_octet;
  uint32_t count;
  HostOs os;
};

RolePool PoolOf(ServerRole role) {
  switch (role) {
    case ServerRole::kDomainController: return {2, 2, HostOs::kWindows};
    case ServerRole::kFileServer: return {10, 2, HostOs::kWindows};
    case ServerRole::kIntranetWeb: return {20, 6, HostOs::kLinux};
    case ServerRole::kDatabase: return {30, 3, HostOs::kLinux};
    case ServerRole::kSshHost: return {40, 40, HostOs::kLinux};
    case ServerRole::kRdpHost: return {80, 10, HostOs::kWindows};
    case ServerRole::kSyslogCollector: return {6, 1, HostOs::kLinux};
    case ServerRole::kMonitoring: return {7, 1, HostOs::kLinux};
    case ServerRole::kAppServer: return {120, 12, HostOs::kLinux};
    case ServerRole::kNetworkDevice: return {1, 24, HostOs::kNetworkOs};
  }
  return {2, 1, HostOs::kLinux};
}

}  // namespace

Site::Site(uint32_t index) : index_(index) {
  workstations_.reserve(kWorkstations);
  for (uint32_t h = 0; h < kWorkstations; ++h) {
    const uint64_t traits = Mix64(index, h);
    const uint32_t os_roll = traits % 100;
    const HostOs os = os_roll < 70 ? HostOs::kWindows : os_roll < 85 ? HostOs::kMacos : HostOs::kLinux;
    // Privacy (random) interface identifiers, as modern clients use.
    workstations_.push_back(MakeHost(h % kUserVlans, 20 + h / kUserVlans, os, Mix64(traits)));
  }
  // Rank r of the Zipf table is workstation (r * 7919) mod N: the busiest
  // hosts are spread over VLANs instead of being .20, .21, ...
  activity_ = WeightedTable::Zipf(kWorkstations, 0.9);
}

Host Site::MakeHost(uint32_t slot, uint32_t host_octet, HostOs os, uint64_t v6_iid) const {
  Host host;
  host.os = os;
  host.vlan = kVlanIds[slot];
  host.snmp_if = static_cast<uint16_t>(3 + slot);
  host.gateway_mac = 0x00005E000100ULL + slot + 1;  // VRRP virtual MAC, VRID = slot + 1
  host.hops_to_probe = index_ % 2 == 0 ? 1 : 0;
  host.v4 = IpAddress::V4(SubnetBase(index_, slot) | host_octet);
  std::array<uint16_t, 8> words = V6Prefix(index_, slot);
  words[4] = static_cast<uint16_t>(v6_iid >> 48);
  words[5] = static_cast<uint16_t>(v6_iid >> 32);
  words[6] = static_cast<uint16_t>(v6_iid >> 16);
  words[7] = static_cast<uint16_t>(v6_iid);
  host.v6 = IpAddress::V6(words);
  const uint64_t roll = Mix64(index_ * 1000003ULL + slot, host_octet);
  uint64_t oui = 0;
  switch (os) {
    case HostOs::kWindows: oui = kWindowsOuis[roll % kWindowsOuis.size()]; break;
    case HostOs::kMacos: oui = kMacOuis[roll % kMacOuis.size()]; break;
    case HostOs::kLinux: oui = kServerOuis[roll % kServerOuis.size()]; break;
    case HostOs::kNetworkOs: oui = kCiscoOui; break;
  }
  host.mac = (oui << 24) | ((roll >> 8) & 0xFFFFFF);
  return host;
}

const Host& Site::PickWorkstation(Rng& rng) const {
  const size_t rank = activity_.Sample(rng);
  return workstations_[(rank * 7919) % kWorkstations];
}

Host Site::Server(ServerRole role, uint32_t n) const {
  const RolePool pool = PoolOf(role);
  const uint32_t octet = pool.first_octet + n % pool.count;
  const uint32_t slot = role == ServerRole::kNetworkDevice ? kMgmtSlot : kServerSlot;
  // Servers have static, readable IPv6 addresses (::a for .10).
  return MakeHost(slot, octet, pool.os, octet);
}

uint32_t Site::ServerCount(ServerRole role) const { return PoolOf(role).count; }

uint16_t Site::server_if() const { return 3 + kServerSlot; }

Network::Network(uint32_t probes) {
  assert(probes > 0);
  probes_.reserve(probes);
  sites_.reserve(probes);
  for (uint32_t p = 0; p < probes; ++p) {
    Probe probe;
    probe.name = std::string(kSiteNames[p % kSiteNames.size()]);
    if (p >= kSiteNames.size()) probe.name += "-" + std::to_string(p / kSiteNames.size() + 1);
    probe.exporter_ipv4 = Ipv4(10, 255, p / 200, 10 + p % 200);
    probe.json_template.dual_stack_addresses = p % 2 == 0;
    probe.json_template.l2_fields = p % 3 != 2;
    probe.json_template.empty_l7_strings = p % 4 == 0;
    probes_.push_back(std::move(probe));
    sites_.emplace_back(p);
  }
  probe_activity_ = WeightedTable::Zipf(probes, 0.7);
}

}  // namespace flowlake::synth
